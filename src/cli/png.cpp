// PNG writing through stb_image_write, into memory first so that the file appears whole or not at all.
#include "png.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb_image_write.h>

#include "vae/safetensors.hpp"

namespace cli {

vae::Status png_write_gray(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> bytes;
  auto sink = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (!stbi_write_png_to_func(sink, &bytes, width, height, 1, pixels.data(), width))
    return vae::Status::error(path + ": PNG encoding failed");
  return vae::file_write_atomic(path, bytes);
}

TileSheet::TileSheet(int r, int c, int th, int tw, int g)
    : rows(r), cols(c), tile_h(th), tile_w(tw), gap(g), pixels(size_t(width()) * height(), 40) {}

void TileSheet::put(int row, int col, const float* image) {
  const int x0 = gap + col * (tile_w + gap), y0 = gap + row * (tile_h + gap);
  for (int y = 0; y < tile_h; ++y)
    for (int x = 0; x < tile_w; ++x) {
      const float v = std::min(1.f, std::max(0.f, image[y * tile_w + x]));
      pixels[size_t(y0 + y) * width() + x0 + x] = uint8_t(v * 255.f + 0.5f);
    }
}

}  // namespace cli
