// The studio's panels: one function per panel, each drawing from and changing only the App. Dear ImGui only:
// no GL calls, no platform code.
#pragma once
#include "app/app.hpp"

namespace app {

// Every panel of one frame; called between ImGui::NewFrame() and ImGui::Render().
void ui_draw(App& app);

// The model in use (name, architecture, switching) and the drawing canvas.
void draw_canvas_panel(App& app);

}  // namespace app
