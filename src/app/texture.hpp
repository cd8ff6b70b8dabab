// GL textures for the grey images the panels show (ImGui::Image draws a texture). The one place besides
// main.cpp that calls GL; it works the same on OpenGL 3.3 and WebGL2.
#pragma once
#include <cstdint>
#include <vector>

namespace app {

struct Texture {
  unsigned id = 0;  // 0: none yet
  int width = 0, height = 0;
  uint64_t uploads = 0;  // how many times its contents were replaced (what tells a redraw it changed)
};

// Uploads a grey image ([0, 1], row-major, ink = 1) as white ink on black, RGBA8 (WebGL2 has no texture
// swizzle and ImGui's shader reads all four channels). Nearest filtering keeps 28x28 pixels sharp when
// enlarged; smooth (linear) suits the drawing canvas.
void texture_update(Texture& t, const std::vector<float>& gray, int width, int height, bool smooth = false);
// Uploads an RGBA8 image (row-major, top row first) as it is.
void texture_update_rgba(Texture& t, const std::vector<uint8_t>& rgba, int width, int height, bool smooth = false);
void texture_release(Texture& t);
// For ImGui::Image.
inline void* texture_imgui_id(const Texture& t) { return reinterpret_cast<void*>(static_cast<uintptr_t>(t.id)); }

}  // namespace app
