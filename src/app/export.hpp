// PNG bytes for the studio's "Save" buttons and the desktop screenshot: encoded in memory, so the platform decides
// where they go (a file natively, a download in the browser). No files and no GL here.
#pragma once
#include <cstdint>
#include <vector>

namespace app {

// A grey image in [0, 1] (row-major, ink = 1) as an 8-bit PNG, each pixel drawn as a scale x scale block.
std::vector<uint8_t> png_encode_gray(const std::vector<float>& image, int width, int height, int scale);
// An 8-bit RGB image (row-major, top row first) as a PNG.
std::vector<uint8_t> png_encode_rgb(const std::vector<uint8_t>& rgb, int width, int height);

}  // namespace app
