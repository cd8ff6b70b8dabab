// The studio's frame of panels: the header and every panel of panels.hpp laid out in columns. Dear ImGui only;
// no GL (the panels' textures become GL textures in texture_gl.hpp) and no platform code.
#pragma once
#include "app/app.hpp"

namespace app {

// app_update, then every panel; called between ImGui::NewFrame() and ImGui::Render().
void ui_draw(App& app);

}  // namespace app
