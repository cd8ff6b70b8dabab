// The images the panels show, held on the CPU: a panel sets a texture's pixels when its data changes and draws it
// with ImGui::Image(texture_id(t)); the platform turns each such Texture into a GL texture when the frame is
// rendered (texture_gl.hpp), so the panels need no GL and are tested without a window.
#pragma once
#include <cstdint>
#include <vector>

namespace app {

struct Texture {
  Texture() = default;
  explicit Texture(const char* name_, bool smooth_ = false) : name(name_), smooth(smooth_) {}
  const char* name = nullptr;  // what the native state JSON's "shown" calls it ("recon"); null: not listed
  bool smooth = false;         // linear filtering (the drawing canvas); nearest keeps 28x28 pixels sharp
  int width = 0, height = 0;
  bool gray = true;             // pixels are grey bytes (ink = 255), else RGBA8
  std::vector<uint8_t> pixels;  // (height, width) grey, or (height, width, 4) RGBA8; row-major, top row first
  uint64_t serial = 0;          // 0: never set; else unique to these contents among all textures' contents
};

// A grey image ([0, 1], row-major, ink = 1), shown as white ink on black.
void texture_set(Texture& t, const std::vector<float>& gray, int width, int height);
// An RGBA8 image as it is.
void texture_set_rgba(Texture& t, std::vector<uint8_t> rgba, int width, int height);
// For ImGui::Image: the Texture itself, which the platform replaces by its GL name before rendering.
inline void* texture_id(const Texture& t) { return const_cast<void*>(static_cast<const void*>(&t)); }
inline bool texture_ready(const Texture& t) { return t.serial != 0; }

}  // namespace app
