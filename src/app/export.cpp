// PNG encoding through stb_image_write (libstb-dev), into memory.
#include "app/export.hpp"

#include <algorithm>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb_image_write.h>

namespace app {

namespace {

std::vector<uint8_t> encode(const uint8_t* pixels, int width, int height, int channels) {
  std::vector<uint8_t> bytes;
  auto sink = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (width < 1 || height < 1 || !stbi_write_png_to_func(sink, &bytes, width, height, channels, pixels, width * channels))
    bytes.clear();
  return bytes;
}

}  // namespace

std::vector<uint8_t> png_encode_gray(const std::vector<float>& image, int width, int height, int scale) {
  scale = std::max(1, scale);
  if (width < 1 || height < 1 || image.size() < size_t(width) * height) return {};
  const int W = width * scale, H = height * scale;
  std::vector<uint8_t> px(size_t(W) * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float v = std::min(1.f, std::max(0.f, image[size_t(y / scale) * width + x / scale]));
      px[size_t(y) * W + x] = uint8_t(v * 255.f + 0.5f);
    }
  return encode(px.data(), W, H, 1);
}

std::vector<uint8_t> png_encode_rgb(const std::vector<uint8_t>& rgb, int width, int height) {
  if (rgb.size() < size_t(width) * size_t(height) * 3) return {};
  return encode(rgb.data(), width, height, 3);
}

}  // namespace app
