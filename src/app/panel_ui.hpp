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
// "(?)" after the last item, noted as widget "help_<name>": its text shows while the mouse hovers it, and stays
// open after a tap or click on it (s.help_open) until the next tap or click anywhere.
void help_marker(Shared& s, const char* name, const char* text);
// Marks the last item as a panel's own drag surface (the canvas, the map, the grid) while it is held, so that a
// finger dragged on it is never taken for a swipe that scrolls.
void claim_drag(Shared& s);
// Whether this frame's pinch (s.pinch != 1) is centred on the visible part of the last item.
bool pinch_over_item(const Shared& s);
// The texture at w x h, or empty space of that size while it has no contents.
void show_texture(const Texture& t, float w, float h);
// SameLine() when an item `width` wide still fits on the line after the last item; else the next line.
void same_line_if_fits(float width);
// The width of a button with this label.
float button_width(const char* label);
// The width of a radio button or checkbox with this label.
float toggle_width(const char* label);
// An image with a caption under it, as one group.
void captioned(const Texture& t, float side, const char* caption);

}  // namespace app
