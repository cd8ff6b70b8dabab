// The studio's look: its typeface in three roles (body text, section titles, the page's heading), rasterised at
// the screen's pixel density, and its theme (spacing, rounding, colours). Dear ImGui only; the platform supplies
// the font bytes (font_data.hpp) and the density, and rebuilds the font texture when style_fonts says so.
#pragma once
#include "imgui.h"

namespace app {

// Sizes in ImGui units (CSS pixels in the browser, window coordinates natively).
constexpr float kBodyPx = 15.f, kTitlePx = 22.f;

struct FontBytes {
  const unsigned char* regular = nullptr;
  unsigned regular_size = 0;
  const unsigned char* semibold = nullptr;
  unsigned semibold_size = 0;
};

// Rebuilds io.Fonts with the three fonts. Each is drawn at `scale` times its size in ImGui units (natively the
// content scale where units are pixels; 1 in the browser) from glyphs rasterised at its size times `density`
// pixels (devicePixelRatio in the browser, the content scale natively), so text is sharp on any screen. Without
// bytes (a test with no font data), ImGui's built-in font in all three roles. The caller uploads the new atlas
// (ImGui_ImplOpenGL3_CreateFontsTexture). Returns false when the atlas could not be built.
bool style_fonts(ImGuiIO& io, float density, float scale, const FontBytes& bytes);
// The fonts by role, once style_fonts has run (else the default font).
ImFont* style_title_font();
ImFont* style_section_font();

// The theme: a dark palette with readable contrast, rounded frames, room for a finger. `scale` multiplies every
// size (natively the monitor's content scale when window coordinates are pixels; 1 in the browser).
void style_theme(ImGuiStyle& style, float scale);

}  // namespace app
