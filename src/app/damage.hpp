// Which parts of the window a frame changes, worked out from what it draws (no GL, no ImGui): the window is cut
// into square tiles, every triangle the frame draws is hashed (its vertices, its texture and that texture's
// contents, its clip rectangle) into each tile its clipped bounding box touches, in draw order, and the tiles
// whose hash differs from the last drawn frame's are what must be drawn again. A frame that changes nothing
// needs no drawing at all; one that moves the latent grid redraws about the grid.
// The browser build uses it (main.cpp): a software renderer such as SwiftShader pays for every pixel drawn.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace app {

// A rectangle in display units (ImGui's), [x0, x1) x [y0, y1).
struct DamageRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float area() const { return (x1 - x0) * (y1 - y0); }
};

struct DamageTracker {
  float tile = 32.f;                 // a tile's side in display units
  int cols = 0, rows = 0;            // tiles across and down
  float width = 0, height = 0;       // the display's size the tiles cover
  std::vector<uint64_t> hash, last;  // (rows * cols) this frame's hashes, and those of the last frame drawn
  bool valid = false;                // `last` describes what the window shows (false: redraw all)
};

// Starts a frame for a display of width x height units. A new size, or damage_invalidate, makes it a full redraw.
void damage_begin(DamageTracker& d, float width, float height);
// Whatever the window shows is unknown (a lost and restored context, a drawing buffer that was reallocated).
void damage_invalidate(DamageTracker& d);
// One triangle: vertices (x[i], y[i]) in display units, drawn within clip (x0, y0, x1, y1), with `key` standing
// for everything else that decides its pixels (its vertices' other attributes, its texture and the contents'
// version). Only the tiles its bounding box, clipped, touches are affected.
void damage_add_triangle(DamageTracker& d, const float x[3], const float y[3], const float clip[4], uint64_t key);
// Ends the frame: at most max_rects rectangles (whole tiles, clamped to the display) covering every tile that
// changed, or the whole display when nothing is known of it; none when the frame would draw what is shown.
// The frame's hashes become the ones to compare with next.
std::vector<DamageRect> damage_end(DamageTracker& d, int max_rects = 3);

// Hashes for the callers' keys: h chained with a 64-bit value (order matters), and with a few bytes (FNV-1a).
uint64_t damage_mix(uint64_t h, uint64_t value);
uint64_t damage_hash(const void* bytes, size_t size, uint64_t h = 14695981039346656037ull);

}  // namespace app
