// libFuzzer target: bytes as a model file handed to the studio (what the page does with a download and the
// desktop app with --model). app_load_model must refuse or accept without touching memory it does not own; a
// model it accepts (finite but possibly absurd weights, a map, test percentiles in the metadata) then goes
// through everything the studio computes from it: the drawing's analysis with log p(x), the grid, samples, the
// morph, the map probe, the repair of the drawing with every method, the comparison with PCA and the state
// JSON. (Not the PNG exports: stb's encoder took 80 % of the time and reads
// only pixel values already clamped to [0, 1], in sheets whose size is fixed by the architecture.)
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "app/app.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  app::App a;
  if (!app::app_load_model(a, "fuzz", data, size)) return 0;
  app::panel<app::GridPanel>(a).view.n = 5;  // the smallest grid the panel offers: the decodes matter, not their number
  app::panel<app::SamplesPanel>(a).count = 4;
  app::RepairPanel& repair = app::panel<app::RepairPanel>(a);
  repair.source = app::RepairPanel::kDrawing;
  repair.options.iterations = 10;  // the panel's fewest
  repair.options.samples = 4;
  app::app_demo_drawing(a);
  if (size & 1) {  // half the inputs leave a stroke open, which skips log p(x)'s 500 decodes (most of the time)
    app::drawing_begin_stroke(a.drawing, a.brush_width, false);
    app::drawing_add_point(a.drawing, 0.3f, 0.6f);
    app::drawing_add_point(a.drawing, 0.6f, 0.5f);
  }
  app::app_update(a);
  app::Slot s;
  if (app::app_slot_from_drawing(a, s)) a.slot_a = s;
  app::app_slot_from_code(a, "sample 0", app::panel<app::SamplesPanel>(a).codes.data(), a.slot_b);
  app::MapPanel& map = app::panel<app::MapPanel>(a);
  map.active = true;
  map.ab[0] = map.view[0];
  map.ab[1] = map.view[1];
  app::app_update(a);
  // The state JSON must always be JSON.
  if (nlohmann::json::parse(app::app_state_json(a), nullptr, false).is_discarded()) __builtin_trap();
  return 0;
}
