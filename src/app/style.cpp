// The studio's typeface and theme (style.hpp).
#include "app/style.hpp"

#include <algorithm>

namespace app {

namespace {

// Every block the studio's characters come from; the atlas holds only the glyphs the (subset) font has.
const ImWchar kRanges[] = {
    0x0020, 0x007E,  // ASCII
    0x00A0, 0x017F,  // Latin-1, Latin Extended-A (×, ·, ±, accented names)
    0x0370, 0x03FF,  // Greek (μ, σ, ε, ...)
    0x2000, 0x22FF,  // punctuation (–, —, …), arrows (→, ↔), mathematical operators (≈, ≤, √, ∑)
    0x25A0, 0x25FF,  // geometric shapes
    0,
};

ImFont* add_font(ImGuiIO& io, const unsigned char* data, unsigned size, float px, float density) {
  ImFontConfig c;
  c.FontDataOwnedByAtlas = false;  // compiled-in bytes: the atlas must not free them
  c.OversampleH = density >= 2.f ? 1 : 2;
  c.OversampleV = 1;
  c.SizePixels = px * density;
  if (!data) return io.Fonts->AddFontDefault(&c);
  // AddFontFromMemoryTTF takes a non-const pointer but with FontDataOwnedByAtlas false never writes or frees it.
  return io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char*>(data), int(size), c.SizePixels, &c, kRanges);
}

ImFont* font_at(int i) {
  const ImFontAtlas* a = ImGui::GetIO().Fonts;
  return a->Fonts.Size > i ? a->Fonts[i] : nullptr;
}

}  // namespace

bool style_fonts(ImGuiIO& io, float density, float scale, const FontBytes& b) {
  density = std::clamp(density, 1.f, 8.f);
  io.Fonts->Clear();
  // In the order font_at reads them: body (the default font), section titles, the heading.
  const bool ok = add_font(io, b.regular, b.regular_size, kBodyPx, density) &&
                  add_font(io, b.semibold, b.semibold_size, kBodyPx, density) &&
                  add_font(io, b.semibold, b.semibold_size, kTitlePx, density) && io.Fonts->Build();
  io.FontGlobalScale = scale / density;
  return ok;
}

ImFont* style_section_font() { return font_at(1); }
ImFont* style_title_font() { return font_at(2); }

void style_theme(ImGuiStyle& st, float scale) {
  st = ImGuiStyle();
  st.WindowPadding = ImVec2(12, 12);
  st.FramePadding = ImVec2(10, 6);
  st.ItemSpacing = ImVec2(8, 8);
  st.ItemInnerSpacing = ImVec2(6, 6);
  st.ScrollbarSize = 12;
  st.GrabMinSize = 14;
  st.WindowRounding = 0;
  st.ChildRounding = 8;
  st.FrameRounding = 6;
  st.PopupRounding = 8;
  st.GrabRounding = 6;
  st.ScrollbarRounding = 6;
  st.TabRounding = 6;
  st.WindowBorderSize = 0;
  st.ChildBorderSize = 1;
  st.PopupBorderSize = 1;
  st.FrameBorderSize = 0;
  st.ScaleAllSizes(scale);

  // A dark slate palette with one blue accent; text at least 7:1 against the panels, dim text 4.5:1.
  const auto rgb = [](int r, int g, int b, float a = 1.f) { return ImVec4(r / 255.f, g / 255.f, b / 255.f, a); };
  ImVec4* c = st.Colors;
  const ImVec4 accent = rgb(76, 139, 245), accent_hover = rgb(102, 158, 250), accent_active = rgb(58, 118, 226);
  c[ImGuiCol_Text] = rgb(233, 236, 241);
  c[ImGuiCol_TextDisabled] = rgb(150, 157, 168);
  c[ImGuiCol_WindowBg] = rgb(21, 23, 28);
  c[ImGuiCol_ChildBg] = rgb(28, 31, 38);
  c[ImGuiCol_PopupBg] = rgb(34, 38, 46, 0.98f);
  c[ImGuiCol_Border] = rgb(52, 57, 68);
  c[ImGuiCol_BorderShadow] = rgb(0, 0, 0, 0);
  c[ImGuiCol_FrameBg] = rgb(42, 46, 56);
  c[ImGuiCol_FrameBgHovered] = rgb(52, 57, 69);
  c[ImGuiCol_FrameBgActive] = rgb(60, 66, 80);
  c[ImGuiCol_TitleBg] = c[ImGuiCol_TitleBgActive] = c[ImGuiCol_TitleBgCollapsed] = c[ImGuiCol_WindowBg];
  c[ImGuiCol_MenuBarBg] = c[ImGuiCol_ChildBg];
  c[ImGuiCol_ScrollbarBg] = rgb(0, 0, 0, 0);
  c[ImGuiCol_ScrollbarGrab] = rgb(70, 76, 90);
  c[ImGuiCol_ScrollbarGrabHovered] = rgb(90, 97, 114);
  c[ImGuiCol_ScrollbarGrabActive] = accent;
  c[ImGuiCol_CheckMark] = accent_hover;
  c[ImGuiCol_SliderGrab] = accent;
  c[ImGuiCol_SliderGrabActive] = accent_hover;
  c[ImGuiCol_Button] = rgb(48, 54, 66);
  c[ImGuiCol_ButtonHovered] = rgb(62, 70, 86);
  c[ImGuiCol_ButtonActive] = accent_active;
  c[ImGuiCol_Header] = rgb(48, 54, 66);
  c[ImGuiCol_HeaderHovered] = rgb(62, 70, 86);
  c[ImGuiCol_HeaderActive] = accent_active;
  c[ImGuiCol_Separator] = rgb(52, 57, 68);
  c[ImGuiCol_SeparatorHovered] = accent;
  c[ImGuiCol_SeparatorActive] = accent_hover;
  c[ImGuiCol_ResizeGrip] = rgb(0, 0, 0, 0);
  c[ImGuiCol_ResizeGripHovered] = accent;
  c[ImGuiCol_ResizeGripActive] = accent_hover;
  c[ImGuiCol_Tab] = rgb(40, 45, 55);
  c[ImGuiCol_TabHovered] = accent_hover;
  c[ImGuiCol_TabActive] = accent_active;
  c[ImGuiCol_TabUnfocused] = c[ImGuiCol_Tab];
  c[ImGuiCol_TabUnfocusedActive] = rgb(52, 60, 76);
  c[ImGuiCol_PlotLines] = accent_hover;
  c[ImGuiCol_PlotHistogram] = accent;
  c[ImGuiCol_PlotHistogramHovered] = accent_hover;
  c[ImGuiCol_TextSelectedBg] = rgb(76, 139, 245, 0.35f);
  c[ImGuiCol_TableHeaderBg] = rgb(40, 45, 55);
  c[ImGuiCol_TableBorderStrong] = rgb(60, 66, 80);
  c[ImGuiCol_TableBorderLight] = rgb(48, 53, 64);
  c[ImGuiCol_TableRowBg] = rgb(0, 0, 0, 0);
  c[ImGuiCol_TableRowBgAlt] = rgb(255, 255, 255, 0.03f);
  c[ImGuiCol_NavHighlight] = accent_hover;
  c[ImGuiCol_ModalWindowDimBg] = rgb(0, 0, 0, 0.5f);
}

}  // namespace app
