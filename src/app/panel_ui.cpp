// The panels' shared drawing pieces (panel_ui.hpp).
#include "app/panel_ui.hpp"

#include <algorithm>
#include <cstdio>

#include "app/style.hpp"

namespace app {

const ImU32 kCanvasBorder = IM_COL32(255, 255, 255, 120);
const ImVec4 kErrorText = ImVec4(1.0f, 0.45f, 0.4f, 1.0f);
const ImVec4 kDimText = ImVec4(0.65f, 0.68f, 0.72f, 1.0f);
const ImVec4 kGoodText = ImVec4(0.45f, 0.85f, 0.5f, 1.0f);
const ImVec4 kWarnText = ImVec4(1.0f, 0.75f, 0.3f, 1.0f);
const ImVec4 kTitleText = ImVec4(0.55f, 0.75f, 1.0f, 1.0f);
const ImU32 kLabelColours[10] = {
    IM_COL32(31, 119, 180, 255), IM_COL32(255, 127, 14, 255), IM_COL32(44, 160, 44, 255),
    IM_COL32(214, 39, 40, 255),  IM_COL32(148, 103, 189, 255), IM_COL32(140, 86, 75, 255),
    IM_COL32(227, 119, 194, 255), IM_COL32(160, 160, 160, 255), IM_COL32(188, 189, 34, 255),
    IM_COL32(23, 190, 207, 255)};

void note_item(Shared& s, const char* name) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  const ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 ca = dl->GetClipRectMin(), cb = dl->GetClipRectMax();
  const bool whole = a.x >= ca.x - 0.5f && a.y >= ca.y - 0.5f && b.x <= cb.x + 0.5f && b.y <= cb.y + 0.5f;
  s.widgets.emplace_back(name, Shared::Widget{Rect{a.x, a.y, b.x - a.x, b.y - a.y}, whole});
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::PushFont(style_section_font());
  ImGui::TextColored(kTitleText, "%s", title);
  ImGui::PopFont();
  ImGui::Separator();
}

void help_marker(Shared& s, const char* name, const char* text) {
  same_line_if_fits(ImGui::CalcTextSize("(?)").x);
  ImGui::TextDisabled("(?)");
  const std::string key = name;
  char widget[48];
  std::snprintf(widget, sizeof widget, "help_%s", name);
  note_item(s, widget);
  const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  if (clicked) s.help_open = s.help_open == key ? "" : key;
  else if (s.help_open == key && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) s.help_open.clear();
  const bool pinned = s.help_open == key;
  if (!pinned && !(ImGui::IsItemHovered() && !s.touch)) return;
  // Under the marker (a tap leaves no pointer to follow), kept inside the window.
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float wrap = std::min(ImGui::GetFontSize() * 28.0f, vp->WorkSize.x - 40.f);
  const ImVec2 at = ImGui::GetItemRectMin();
  ImGui::SetNextWindowPos(ImVec2(std::clamp(at.x - wrap / 2, vp->WorkPos.x + 8.f, vp->WorkPos.x + vp->WorkSize.x - wrap - 24.f),
                                 ImGui::GetItemRectMax().y + 4.f));
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
  ImGui::TextUnformatted(text);
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void claim_drag(Shared& s) {
  if (ImGui::IsItemActive()) s.drag_claimed = true;
}

bool pinch_over_item(const Shared& s) {
  if (s.pinch == 1.f) return false;
  const ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  const ImVec2 ca = dl->GetClipRectMin(), cb = dl->GetClipRectMax();
  return s.pinch_x >= std::max(a.x, ca.x) && s.pinch_x < std::min(b.x, cb.x) && s.pinch_y >= std::max(a.y, ca.y) &&
         s.pinch_y < std::min(b.y, cb.y);
}

void show_texture(const Texture& t, float w, float h) {
  if (texture_ready(t)) ImGui::Image(texture_id(t), ImVec2(w, h));
  else ImGui::Dummy(ImVec2(w, h));
}

void same_line_if_fits(float width) {
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  if (ImGui::GetItemRectMax().x + spacing + width <= right) ImGui::SameLine();
}

float button_width(const char* label) {
  return ImGui::CalcTextSize(label, nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x;
}

float toggle_width(const char* label) {
  const ImGuiStyle& st = ImGui::GetStyle();
  return ImGui::GetFrameHeight() + st.ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

void captioned(const Texture& t, float side, const char* caption) {
  ImGui::BeginGroup();
  show_texture(t, side, side);
  ImGui::TextColored(kDimText, "%s", caption);
  ImGui::EndGroup();
}

}  // namespace app
