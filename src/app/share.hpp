// A drawing and its model as the text of a share link (the page puts it, base64url, in the URL's fragment, which
// browsers never send to a server). JSON by nlohmann/json; every number is written with the nine significant
// digits that bring a float back bit for bit, so the strokes come back exactly and give the same code. Not a
// file format for keeping drawings: only what the canvas shows (the strokes since the last clear) travels.
//
//   {"v": 1, "model": "mnist-z2",
//    "strokes": [{"w": width, "e": erase, "p": [x0, y0, x1, y1, ...], "q": [pressure0, ...] (when not all 1)},
//                {"image": [w, h], "px": [w * h values, row-major]}, ...]}
#pragma once
#include <cstddef>
#include <string>

#include "app/drawing.hpp"
#include "vae/status.hpp"

namespace app {

// Limits a link's drawing must keep (a drawing past them is refused, never truncated).
constexpr size_t kShareMaxBytes = 1 << 20;  // of text
constexpr size_t kShareMaxPoints = 100000;
constexpr int kShareMaxImageSide = 256;

// The strokes the canvas shows (from the last Clear or Image on; an open stroke is left out) and the model name.
std::string share_encode(const Drawing& d, const std::string& model);

// The drawing (a history whose strokes are the link's) and the model name from share_encode's text. Every value
// is checked: numbers finite, points and pressures in [0, 1], widths in [0, 1], images at most 256 x 256 with
// values in [0, 1], no unknown keys, a model name as the page's. On error out and model are left as they were.
vae::Status share_decode(const std::string& text, Drawing& out, std::string& model);

}  // namespace app
