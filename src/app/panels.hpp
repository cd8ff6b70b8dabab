// The one list of the studio's panels. Each panel is a module of its own, panels/<name>.{hpp,cpp} (after
// WerWolv/ImHex's views): a struct holding its state, with its column in the three- and two-column layouts
// (kWide, kMedium), its name in the one-column layout's section bar (kSection), what it needs of the model
// (kNeeds: a panel whose need is unmet is drawn as one line saying so, and not updated), and three free functions
// overloaded on it:
//   bool panel_update(const Shared&, P&)          recompute what depends on changed inputs (once per frame,
//                                                  before drawing; true while work is left for later frames)
//   void panel_draw(Shared&, P&, const Space&)     its widgets; it changes its own state and Shared's inputs only
//   void panel_json(const Shared&, const P&, Json&)     its fields of the state JSON
// A panel reads the shared inputs (the model, the drawing and its analysis, the morph slots) and never another
// panel's fields. Adding a panel is its two files, its #include below and its name in Panels.
#pragma once
#include <tuple>

#include "app/panels/canvas.hpp"
#include "app/panels/compare.hpp"
#include "app/panels/encoding.hpp"
#include "app/panels/grid.hpp"
#include "app/panels/map.hpp"
#include "app/panels/models.hpp"
#include "app/panels/morph.hpp"
#include "app/panels/repair.hpp"
#include "app/panels/samples.hpp"
#include "app/panels/style.hpp"

namespace app {

// In the order they are updated, and laid out within each column (one column: this order, top to bottom).
using Panels = std::tuple<CanvasPanel, EncodingPanel, StylePanel, MapPanel, RepairPanel, GridPanel, SamplesPanel,
                          MorphPanel, ComparePanel, ModelsPanel>;

template <class F>
void for_each_panel(Panels& panels, F&& f) {
  std::apply([&f](auto&... p) { (f(p), ...); }, panels);
}
template <class F>
void for_each_panel(const Panels& panels, F&& f) {
  std::apply([&f](const auto&... p) { (f(p), ...); }, panels);
}

}  // namespace app
