// The drawing canvas: brush, eraser, undo and redo, and the strokes themselves (imgui_demo's "Canvas" recipe: an
// InvisibleButton takes the pointer, the window's ImDrawList draws). The drawing it edits is Shared's.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct CanvasPanel {
  static constexpr int kWide = 0, kMedium = 0;  // its column in the three- and two-column layouts
  static constexpr const char* kSection = "Draw";  // its name in the one-column layout's section bar
  static constexpr Needs kNeeds = Needs::Any;  // what it needs of the model (shared.hpp)
  bool eraser = false;
  Rect rect;  // where the canvas was drawn in the last frame
  Texture texture{"canvas", true};
  uint64_t shown_revision = ~0ull;
};

bool panel_update(const Shared& s, CanvasPanel& p);
void panel_draw(Shared& s, CanvasPanel& p, const Space& space);
// "canvas" (its rectangle), "strokes", "last_point" (the newest point in canvas units, or null).
void panel_json(const Shared& s, const CanvasPanel& p, Json& j);

// Queues the drawing as a PNG (vae-drawing.png).
void canvas_save(Shared& s);

}  // namespace app
