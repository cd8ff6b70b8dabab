// Texture uploads with the GL entry points common to OpenGL 3.3 and OpenGL ES 3.0 (WebGL2).
#include "app/texture.hpp"

#include <algorithm>
#include <cstdint>

#ifdef __EMSCRIPTEN__
#define GLFW_INCLUDE_ES3
#endif
#include <GLFW/glfw3.h>

namespace app {

void texture_update(Texture& t, const std::vector<float>& gray, int width, int height, bool smooth) {
  if (width < 1 || height < 1 || gray.size() < size_t(width) * size_t(height)) return;
  std::vector<uint8_t> rgba(size_t(width) * size_t(height) * 4);
  for (size_t i = 0; i < size_t(width) * size_t(height); ++i) {
    const uint8_t v = uint8_t(std::min(1.f, std::max(0.f, gray[i])) * 255.f + 0.5f);
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  texture_update_rgba(t, rgba, width, height, smooth);
}

void texture_update_rgba(Texture& t, const std::vector<uint8_t>& rgba, int width, int height, bool smooth) {
  if (width < 1 || height < 1 || rgba.size() < size_t(width) * size_t(height) * 4) return;
  if (t.id == 0) {
    GLuint id = 0;
    glGenTextures(1, &id);
    t.id = id;
  }
  glBindTexture(GL_TEXTURE_2D, t.id);
  const GLint filter = smooth ? GL_LINEAR : GL_NEAREST;
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  ++t.uploads;
  if (t.width == width && t.height == height) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  } else {
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
    t.width = width;
    t.height = height;
  }
}

void texture_release(Texture& t) {
  if (t.id != 0) {
    GLuint id = t.id;
    glDeleteTextures(1, &id);
  }
  t = Texture{};
}

}  // namespace app
