// The GL side of the panels' textures (texture.hpp): before a frame's draw data is rendered, every Texture it
// names becomes a GL texture, uploaded again only when its contents changed. The one place besides main.cpp
// that calls GL; the same on OpenGL 3.3 and WebGL2.
#pragma once
#include <cstdint>

struct ImDrawData;

namespace app {

struct Texture;

// Replaces each draw command's Texture* (texture_id) by its GL texture name, uploading new contents as RGBA8
// (WebGL2 has no texture swizzle, and ImGui's shader reads all four channels). The font atlas is left alone.
void textures_resolve(ImDrawData* dd);
// The contents' serial of the panel texture with GL name id (0 for the font or an unknown name): what tells the
// browser's partial redraw that an image changed under the same geometry.
uint64_t texture_serial(unsigned gl_id);
// The Texture drawn as GL name id in the last resolved frame, or null.
const Texture* texture_from_gl(unsigned gl_id);
// Deletes every GL texture (a no-op for a lost context, which took them already); the next frame uploads anew.
void textures_release_all();

}  // namespace app
