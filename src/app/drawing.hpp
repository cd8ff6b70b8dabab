// The studio's drawing as data: strokes in canvas units with undo / redo, and their anti-aliased rasterisation.
// No window, no input handling and no MNIST preprocessing here (that is preprocess.hpp).
#pragma once
#include <cstdint>
#include <vector>

namespace app {

// Canvas units: x to the right, y down, the canvas is [0, 1] x [0, 1] whatever its size on screen.
struct StrokePoint {
  float x = 0, y = 0;
  float pressure = 1;  // in [0, 1]; 1 for devices without pressure. Brush radius = width / 2 * pressure.
};

enum class StrokeKind {
  Brush,  // a round brush along points (ink, or eraser when erase is set)
  Clear,  // wipes everything before it (so that clearing is one undoable step)
  Image,  // an opaque bitmap stretched over the whole canvas; replaces everything before it
};

struct Stroke {
  StrokeKind kind = StrokeKind::Brush;
  // Brush
  std::vector<StrokePoint> points;  // one point = a dot
  float width = 0.08f;              // brush diameter in canvas units at pressure 1
  bool erase = false;
  // Image
  int image_w = 0, image_h = 0;
  std::vector<float> image;  // (image_h, image_w) row-major, [0, 1], ink = 1
};

// The picture is `strokes` applied in order (from the last Clear or Image on), plus `current` while a stroke
// is open. Undo moves the last stroke to `redo`; redo moves it back; committing anything new empties `redo`.
struct Drawing {
  std::vector<Stroke> strokes;  // the history, oldest first
  std::vector<Stroke> redo;     // undone strokes, most recently undone last
  Stroke current;               // the stroke being drawn
  bool stroke_open = false;
  uint64_t revision = 0;        // bumped on every change of the picture, never on anything else
};

// A stroke is open from begin to end; points added while none is open are ignored. begin ends an open stroke.
// A stroke with no points leaves no trace (no history entry, redo list kept). Undo, redo, clear and
// drawing_from_image end an open stroke first.
void drawing_begin_stroke(Drawing& d, float width, bool erase);
void drawing_add_point(Drawing& d, float x, float y, float pressure = 1.0f);  // repeats of the last point are skipped
void drawing_end_stroke(Drawing& d);

// Each returns whether it changed the picture.
bool drawing_undo(Drawing& d);
bool drawing_redo(Drawing& d);
bool drawing_clear(Drawing& d);  // a no-op on a canvas with nothing drawn since the last clear
bool drawing_can_undo(const Drawing& d);
bool drawing_can_redo(const Drawing& d);

// Puts a w x h bitmap ([0, 1], ink = 1, row-major) on the canvas as one undoable Image stroke that covers the
// canvas and replaces what was there (e.g. a decoded grid cell to edit further). False (and no change) when
// img is null or w, h < 1.
bool drawing_from_image(const float* img, int w, int h, Drawing& d);

// Renders the picture into a size x size grey image, row-major, y down, [0, 1], ink = 1.
// Canvas point (x, y) is pixel coordinate (x size, y size); pixel (i, j) has its centre at (i + 1/2, j + 1/2).
// Brush: coverage of a pixel at distance d from the stroke's centre line, radius r (both in pixels), is
// 1 - smoothstep(r - 1/2, r + 1/2, d): a one-pixel anti-aliased edge whose integral across a straight edge is
// the exact area. Strokes thinner than a pixel (r < 1/2) use r = 1/2 scaled by 2r, so they fade instead of
// thickening. The radius is interpolated linearly along each segment between its points' pressures.
// Within a stroke coverage is the max over its segments; strokes composite as ink = ink + c (1 - ink)
// ("over"), eraser as ink = ink (1 - c). Image strokes are sampled bilinearly at pixel centres (edges
// clamped), which suits a canvas at least as large as the bitmap. size < 1 gives an empty out.
void drawing_rasterize(const Drawing& d, int size, std::vector<float>& out);

}  // namespace app
