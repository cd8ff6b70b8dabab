// Texture contents on the CPU (texture.hpp); the GL side is texture_gl.cpp.
#include "app/texture.hpp"

#include <algorithm>
#include <utility>

namespace app {

namespace {

// Serials are unique across textures, so a GL cache keyed by a Texture's address never mistakes a new texture
// at a reused address for the old one.
uint64_t next_serial() {
  static uint64_t serial = 0;
  return ++serial;
}

}  // namespace

void texture_set(Texture& t, const std::vector<float>& gray, int width, int height) {
  if (width < 1 || height < 1 || gray.size() < size_t(width) * size_t(height)) return;
  t.pixels.resize(size_t(width) * size_t(height));
  for (size_t i = 0; i < t.pixels.size(); ++i)
    t.pixels[i] = uint8_t(std::min(1.f, std::max(0.f, gray[i])) * 255.f + 0.5f);
  t.width = width;
  t.height = height;
  t.gray = true;
  t.serial = next_serial();
}

void texture_set_rgba(Texture& t, std::vector<uint8_t> rgba, int width, int height) {
  if (width < 1 || height < 1 || rgba.size() < size_t(width) * size_t(height) * 4) return;
  t.pixels = std::move(rgba);
  t.width = width;
  t.height = height;
  t.gray = false;
  t.serial = next_serial();
}

}  // namespace app
