// GL textures for the panels' CPU-side images (texture_gl.hpp).
#include "app/texture_gl.hpp"

#include <cstdint>
#include <unordered_map>
#include <vector>

#ifdef __EMSCRIPTEN__
#define GLFW_INCLUDE_ES3
#endif
#include <GLFW/glfw3.h>

#include "app/texture.hpp"
#include "imgui.h"

namespace app {

namespace {

struct GlTexture {
  GLuint id = 0;
  uint64_t serial = 0;  // the contents uploaded
  int width = 0, height = 0;
};
// The GL objects, owned by the platform's one GL context: by Texture, and which Texture each name showed.
std::unordered_map<const Texture*, GlTexture> g_by_texture;
std::unordered_map<unsigned, const Texture*> g_by_name;

void upload(const Texture& t, GlTexture& g) {
  if (g.id == 0) glGenTextures(1, &g.id);
  glBindTexture(GL_TEXTURE_2D, g.id);
  const GLint filter = t.smooth ? GL_LINEAR : GL_NEAREST;
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  std::vector<uint8_t> expanded;
  const uint8_t* rgba = t.pixels.data();
  if (t.gray) {
    expanded.resize(t.pixels.size() * 4);
    for (size_t i = 0; i < t.pixels.size(); ++i) {
      expanded[4 * i] = expanded[4 * i + 1] = expanded[4 * i + 2] = t.pixels[i];
      expanded[4 * i + 3] = 255;
    }
    rgba = expanded.data();
  }
  if (g.width == t.width && g.height == t.height) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, t.width, t.height, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  } else {
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, t.width, t.height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    g.width = t.width;
    g.height = t.height;
  }
  g.serial = t.serial;
}

}  // namespace

void textures_resolve(ImDrawData* dd) {
  const ImTextureID font = ImGui::GetIO().Fonts->TexID;
  for (int l = 0; l < dd->CmdListsCount; ++l)
    for (ImDrawCmd& cmd : dd->CmdLists[l]->CmdBuffer) {
      if (cmd.UserCallback || cmd.TextureId == font || cmd.TextureId == nullptr) continue;
      const auto* t = static_cast<const Texture*>(cmd.TextureId);
      GlTexture& g = g_by_texture[t];
      if (t->serial != 0 && g.serial != t->serial) upload(*t, g);
      g_by_name[g.id] = t;
      cmd.TextureId = reinterpret_cast<ImTextureID>(static_cast<uintptr_t>(g.id));
    }
}

uint64_t texture_serial(unsigned gl_id) {
  const auto it = g_by_name.find(gl_id);
  return gl_id != 0 && it != g_by_name.end() ? it->second->serial : 0;
}

const Texture* texture_from_gl(unsigned gl_id) {
  const auto it = g_by_name.find(gl_id);
  return gl_id != 0 && it != g_by_name.end() ? it->second : nullptr;
}

void textures_release_all() {
  for (auto& [t, g] : g_by_texture)
    if (g.id) glDeleteTextures(1, &g.id);
  g_by_texture.clear();
  g_by_name.clear();
}

}  // namespace app
