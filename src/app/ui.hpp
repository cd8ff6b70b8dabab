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

}  // namespace app
