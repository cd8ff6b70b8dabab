// The studio's panels: one function per panel, each drawing from and changing only the App. Dear ImGui only;
// the textures it shows come from texture.hpp. No platform code.
#pragma once
#include "app/app.hpp"

namespace app {

// Every panel of one frame (after app_update); called between ImGui::NewFrame() and ImGui::Render().
void ui_draw(App& app);

// Deletes the panels' GL textures and forgets what they showed, so the next frame uploads them all again
// (after a lost GL context has been restored).
void ui_release_textures(App& app);

// How many times the panel texture with GL name `id` has been uploaded (0 for any other texture, such as the
// font's): what tells the browser's partial redraw (main.cpp) that an image changed under the same geometry.
uint64_t ui_texture_uploads(const App& app, unsigned id);

}  // namespace app
