// What the panels' drawing code shares (Dear ImGui, no GL): the studio's colours, section titles, help markers,
// images, and noting where a widget was drawn for the state JSON. The panels are panels/<name>.cpp.
#pragma once
#include <string>

#include "app/json_out.hpp"
#include "app/shared.hpp"
#include "app/texture.hpp"
#include "imgui.h"

namespace app {

// The space the layout gives a panel: its column's width and the window's height (0 in one scrolling column).
struct Space {
  float width = 0, height = 0;
  int columns = 1;
};

extern const ImU32 kCanvasBorder;
extern const ImVec4 kErrorText, kDimText, kGoodText, kWarnText, kTitleText;
// Ten label colours (the "tab10" palette), digit d in colour d.
extern const ImU32 kLabelColours[10];

// Records the last item's rectangle under `name` in s.widgets (the state JSON lists them for tests).
void note_item(Shared& s, const char* name);
void section(const char* title);
// "(?)" after the last item, showing text while hovered.
void help_marker(const char* text);
// The texture at w x h, or empty space of that size while it has no contents.
void show_texture(const Texture& t, float w, float h);
// SameLine() when an item `width` wide still fits on the line after the last item; else the next line.
void same_line_if_fits(float width);
// The width of a radio button or checkbox with this label.
float toggle_width(const char* label);
// An image with a caption under it, as one group.
void captioned(const Texture& t, float side, const char* caption);

}  // namespace app
