// The studio's panels (Dear ImGui). The canvas follows imgui_demo's "Canvas" recipe: an InvisibleButton takes
// the mouse, the window's ImDrawList draws.
#include "app/ui.hpp"

#include <algorithm>

#include "imgui.h"

namespace app {

namespace {

const ImU32 kCanvasBg = IM_COL32(0, 0, 0, 255);
const ImU32 kCanvasBorder = IM_COL32(255, 255, 255, 120);
const ImU32 kInk = IM_COL32(255, 255, 255, 255);
const ImVec4 kErrorText = ImVec4(1.0f, 0.45f, 0.4f, 1.0f);

// Brush strokes in canvas units, drawn as round-capped polylines into the square at p0 with side `side`.
// A preview only: erasing and pasted images are not shown (the panels will show drawing_rasterize's bitmap).
void draw_strokes(ImDrawList* dl, const Drawing& d, ImVec2 p0, float side) {
  size_t first = 0;  // the picture starts after the last Clear or Image
  for (size_t i = 0; i < d.strokes.size(); ++i)
    if (d.strokes[i].kind != StrokeKind::Brush) first = i + 1;
  auto draw = [&](const Stroke& s) {
    if (s.kind != StrokeKind::Brush || s.erase) return;
    for (size_t i = 0; i < s.points.size(); ++i) {
      const StrokePoint& a = s.points[i];
      const ImVec2 pa(p0.x + a.x * side, p0.y + a.y * side);
      const float r = 0.5f * s.width * a.pressure * side;
      dl->AddCircleFilled(pa, r, kInk);
      if (i + 1 < s.points.size()) {
        const StrokePoint& b = s.points[i + 1];
        dl->AddLine(pa, ImVec2(p0.x + b.x * side, p0.y + b.y * side), kInk, 2.0f * r);
      }
    }
  };
  for (size_t i = first; i < d.strokes.size(); ++i) draw(d.strokes[i]);
  if (d.stroke_open) draw(d.current);
}

}  // namespace

void draw_canvas_panel(App& app) {
  ImGui::SetNextWindowPos(ImVec2(16, 16), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(380, 500), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Canvas")) {
    ImGui::End();
    return;
  }

  // The model: name and architecture, and another one on request (the platform fetches it).
  if (ImGui::BeginCombo("Model", app.model_name.empty() ? "(none)" : app.model_name.c_str())) {
    for (const char* name : kModelNames)
      if (ImGui::Selectable(name, app.model_name == name) && app.model_name != name) app.requested_model = name;
    ImGui::EndCombo();
  }
  if (!app.model_name.empty()) ImGui::Text("Architecture %s", app.model.arch.describe().c_str());
  if (!app.loading_model.empty()) ImGui::Text("Loading %s ...", app.loading_model.c_str());
  if (!app.message.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, kErrorText);
    ImGui::TextWrapped("%s", app.message.c_str());
    ImGui::PopStyleColor();
  }

  ImGui::SetNextItemWidth(160);
  ImGui::SliderFloat("Brush", &app.brush_width, 0.02f, 0.2f, "%.2f");
  ImGui::SameLine();
  if (ImGui::Button("Clear")) drawing_clear(app.drawing);

  // The canvas: the largest square that fits, in canvas units [0, 1]^2.
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(64.0f, std::min(avail.x, avail.y));
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + side, p0.y + side);
  ImGui::InvisibleButton("canvas", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft);
  if (ImGui::IsItemActivated()) drawing_begin_stroke(app.drawing, app.brush_width, false);
  if (ImGui::IsItemActive()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    drawing_add_point(app.drawing, std::clamp((m.x - p0.x) / side, 0.0f, 1.0f),
                      std::clamp((m.y - p0.y) / side, 0.0f, 1.0f));
  }
  if (ImGui::IsItemDeactivated()) drawing_end_stroke(app.drawing);
  app.canvas_rect = Rect{p0.x, p0.y, side, side};

  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, p1, kCanvasBg);
  dl->PushClipRect(p0, p1, true);
  draw_strokes(dl, app.drawing, p0, side);
  dl->PopClipRect();
  dl->AddRect(p0, p1, kCanvasBorder);

  ImGui::End();
}

void ui_draw(App& app) { draw_canvas_panel(app); }

}  // namespace app
