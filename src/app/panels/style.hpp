// The Style panel, for a label-conditioned model (Kingma, Rezende, Mohamed & Welling 2014, M2): the classifier's
// q(y|x) for the drawing as ten bars, the drawing's style code (read with the predicted label, or one the person
// picks) drawn as every digit, live while drawing; the style plane of one digit as a grid; and, for a 2-D style
// code, the test set's style codes coloured by label. Any image goes to the canvas or to a morph slot.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct StylePanel {
  static constexpr int kWide = 1, kMedium = 1;
  static constexpr const char* kSection = "Style";
  static constexpr Needs kNeeds = Needs::Conditional;
  // The style plane: n x n codes (inverse-CDF spacing) for digit grid_label (-1: the drawing's label).
  int grid_label = -1, n = 8;
  std::vector<float> digits;        // (C, D) the drawing's style drawn as each label; empty without a drawing
  std::vector<float> grid_codes;    // (n*n, Z)
  std::vector<float> grid_images;   // (n*n, D)
  int grid_shown_label = -1;        // the label the grid images were drawn as
  // What a click or tap picked: one of the ten digits, or a grid cell; its code and label go to the canvas or a slot.
  enum class Pick { None, Digit, Cell } pick = Pick::None;
  int pick_index = -1;
  uint64_t digits_key = 0, grid_key = 0, map_key = 0;  // InputKeys of what each was computed from
  uint64_t version = 0;                                // bumped when the digits or the grid change
  Texture digits_sheet{"style_digits"}, grid{"style_grid"}, map{"style_map"};
};

bool panel_update(const Shared& s, StylePanel& p);
void panel_draw(Shared& s, StylePanel& p, const Space& space);
// "style": {"probs": [C], "predicted", "label" (the style's), "picked" (-1: the classifier's), "images" (how many
// digits are drawn), "grid": {"label", "n", "cells"}, "map_points", "pick": {"kind", "index"}}; null for a plain
// model.
void panel_json(const Shared& s, const StylePanel& p, Json& j);

}  // namespace app
