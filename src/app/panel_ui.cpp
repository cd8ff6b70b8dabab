// The panels' shared drawing pieces (panel_ui.hpp).
#include "app/panel_ui.hpp"

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
  s.widgets.emplace_back(name, Rect{a.x, a.y, b.x - a.x, b.y - a.y});
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(kTitleText, "%s", title);
  ImGui::Separator();
}

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
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
