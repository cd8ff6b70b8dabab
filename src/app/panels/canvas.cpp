// The drawing canvas (canvas.hpp).
#include "app/panels/canvas.hpp"

#include <algorithm>

#include "app/export.hpp"
#include "app/json_out.hpp"

namespace app {

bool panel_update(const Shared& s, CanvasPanel& p) {
  if (p.shown_revision != s.drawing.revision && !s.raster.empty()) {
    texture_set(p.texture, s.raster, kRasterSide, kRasterSide);
    p.shown_revision = s.drawing.revision;
  }
  return false;
}

void canvas_save(Shared& s) {
  if (s.raster.empty()) {
    s.message = "nothing to save as drawing yet";
    return;
  }
  s.saves.emplace_back("vae-drawing.png", png_encode_gray(s.raster, kRasterSide, kRasterSide, 1));
}

// The keyboard, anywhere on the page or window outside a text field (listed in the "keys" help).
constexpr const char* kCanvasKeys =
    "Keyboard: Ctrl+Z undo · Ctrl+Y or Ctrl+Shift+Z redo · Delete or Backspace clear · E eraser or brush · "
    "Ctrl+S save the drawing (⌘ for Ctrl on a Mac) · Esc closes this help.\n"
    "Touch: draw with a finger on the black square; drag anywhere else to scroll; pinch the grid or the map to "
    "zoom; tap (?) for help.";

void canvas_keys(Shared& s, CanvasPanel& p) {
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  Drawing& d = s.drawing;
  const bool mod = io.KeyCtrl || io.KeySuper;
  // Letters by their GLFW key codes (their ASCII capitals), which is how the 1.86 GLFW backend indexes them.
  const auto pressed = [](int key) { return ImGui::IsKeyPressed(key, false); };
  if (mod && pressed(ImGui::GetKeyIndex(ImGuiKey_Z))) io.KeyShift ? drawing_redo(d) : drawing_undo(d);
  if (mod && pressed(ImGui::GetKeyIndex(ImGuiKey_Y))) drawing_redo(d);
  if (mod && pressed('S')) canvas_save(s);
  if (!mod && (pressed(ImGui::GetKeyIndex(ImGuiKey_Delete)) || pressed(ImGui::GetKeyIndex(ImGuiKey_Backspace))))
    drawing_clear(d);
  if (!mod && pressed('E')) p.eraser = !p.eraser;
  if (pressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) s.help_open.clear();
}

void panel_draw(Shared& s, CanvasPanel& p, const Space& space) {
  // Multi-column: the canvas takes under half the window's height; one column: at most 420 units.
  const float side = space.columns > 1 ? std::min(space.width, space.height * 0.46f)
                                       : std::min(space.width - 8.f, 420.f);
  Drawing& d = s.drawing;
  ImGui::BeginGroup();
  // The tools on one line where they fit (a phone wraps them), the width slider filling what is left.
  if (ImGui::Button(p.eraser ? "Brush" : "Eraser")) p.eraser = !p.eraser;
  note_item(s, "eraser");
  same_line_if_fits(button_width("Undo"));
  ImGui::BeginDisabled(!drawing_can_undo(d));
  if (ImGui::Button("Undo")) drawing_undo(d);
  note_item(s, "undo");
  ImGui::EndDisabled();
  same_line_if_fits(button_width("Redo"));
  ImGui::BeginDisabled(!drawing_can_redo(d));
  if (ImGui::Button("Redo")) drawing_redo(d);
  note_item(s, "redo");
  ImGui::EndDisabled();
  same_line_if_fits(button_width("Clear"));
  if (ImGui::Button("Clear")) drawing_clear(d);
  note_item(s, "clear");
  const float label = ImGui::CalcTextSize("Width").x + ImGui::GetStyle().ItemInnerSpacing.x + 30.f;  // and (?)
  same_line_if_fits(90.f + label);
  const float left = ImGui::GetCursorScreenPos().x - ImGui::GetWindowPos().x - ImGui::GetWindowContentRegionMin().x;
  ImGui::SetNextItemWidth(std::max(90.f, std::min(side, space.width) - left - label));
  ImGui::SliderFloat("Width", &s.brush_width, 0.02f, 0.2f, "%.2f");
  help_marker(s, "keys", kCanvasKeys);
  canvas_keys(s, p);

  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + side, p0.y + side);
  ImGui::InvisibleButton("canvas", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft);
  claim_drag(s);
  if (ImGui::IsItemActivated()) drawing_begin_stroke(d, s.brush_width, p.eraser);
  const bool active = ImGui::IsItemActive(), released = ImGui::IsItemDeactivated();
  if (active || released) {  // released: the points before the release in this frame's trail still count
    auto add = [&](float x, float y) {
      drawing_add_point(d, std::clamp((x - p0.x) / side, 0.0f, 1.0f), std::clamp((y - p0.y) / side, 0.0f, 1.0f));
    };
    // Every position since the last frame, in order: a release inside the frame ends the stroke there, and a
    // press after it starts the next one. Without a trail, the frame's one position.
    for (const PointerSample& q : s.pointer_trail) {
      if (q.down && !d.stroke_open) drawing_begin_stroke(d, s.brush_width, p.eraser);
      if (q.down) add(q.x, q.y);
      else drawing_end_stroke(d);
    }
    if (s.pointer_trail.empty() && active) add(ImGui::GetIO().MousePos.x, ImGui::GetIO().MousePos.y);
  }
  // A stroke also ends when the canvas lost the pointer without a release, e.g. when a resize moved the canvas
  // into another column (another ImGui id): otherwise it would stay open, and log p(x) waits for it to end.
  if (released || (d.stroke_open && !active)) drawing_end_stroke(d);
  p.rect = Rect{p0.x, p0.y, side, side};

  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 255));
  if (texture_ready(p.texture)) dl->AddImage(texture_id(p.texture), p0, p1);
  if (s.analysis.empty && !d.stroke_open) {
    // On a first visit, what to do first, on the canvas itself (nothing moves when it goes); later a reminder.
    const char* lines[2] = {s.first_run_hint ? "Start here: draw a digit" : "Draw a digit here",
                            s.touch ? "with your finger" : "with the mouse or a pen"};
    const ImU32 ink = s.first_run_hint ? IM_COL32(255, 200, 90, 255) : IM_COL32(150, 150, 150, 255);
    const float lh = ImGui::GetTextLineHeightWithSpacing();
    for (int k = 0; k < 2; ++k) {
      const ImVec2 ts = ImGui::CalcTextSize(lines[k]);
      dl->AddText(ImVec2(p0.x + (side - ts.x) / 2, p0.y + side / 2 - lh + k * lh), ink, lines[k]);
    }
    if (s.first_run_hint) dl->AddRect(ImVec2(p0.x + 3, p0.y + 3), ImVec2(p1.x - 3, p1.y - 3), ink, 6.f, 0, 2.f);
  }
  // The ink's bounding box that MNIST's preprocessing scales to 20x20.
  if (!s.mnist_input.empty && !s.plain_input) {
    const float* b = s.mnist_input.bbox;
    const float k = side / kRasterSide;
    dl->AddRect(ImVec2(p0.x + b[0] * k, p0.y + b[1] * k), ImVec2(p0.x + b[2] * k, p0.y + b[3] * k),
                IM_COL32(90, 160, 255, 90));
  }
  dl->AddRect(p0, p1, kCanvasBorder);
  if (ImGui::Button("Save drawing")) canvas_save(s);
  if (s.can_share) {
    ImGui::SameLine();
    if (ImGui::Button("Copy link")) s.share_requested = true;
    note_item(s, "copy_link");
    help_marker(s, "copy_link", "A link that reopens this page with this drawing and model. The drawing rides in the part of the "
                "link after #, which browsers never send to a server.");
  }
  ImGui::EndGroup();
}

void panel_json(const Shared& s, const CanvasPanel& p, Json& j) {
  j["eraser"] = p.eraser;
  j["canvas"] = {{"x", p.rect.x}, {"y", p.rect.y}, {"w", p.rect.w}, {"h", p.rect.h}};
  const Drawing& d = s.drawing;
  j["strokes"] = d.strokes.size();
  const Stroke* last = d.stroke_open ? &d.current : d.strokes.empty() ? nullptr : &d.strokes.back();
  const bool known = last && !last->points.empty();
  j["last_point"] = known ? Json::array({last->points.back().x, last->points.back().y}) : Json(nullptr);
  j["last_stroke_points"] = last ? last->points.size() : 0;
}

}  // namespace app
