// Samples from the prior: count codes z ~ N(0, t^2 I) from a seed (the same codes as `vae sample`), decoded; a
// click sends one to a morph slot.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct SamplesPanel {
  static constexpr int kWide = 2, kMedium = 1;
  static constexpr const char* kSection = "Samples";
  static constexpr Needs kNeeds = Needs::Plain;
  float temperature = 1.f;
  int count = 16;
  uint64_t seed = 1;
  std::vector<float> codes, images;  // (count, Z), (count, D)
  uint64_t key = 0;      // InputKey of the model generation, seed, count and temperature when computed
  uint64_t version = 0;  // bumped when the samples change
  Texture sheet{"samples"};
};

bool panel_update(const Shared& s, SamplesPanel& p);
void panel_draw(Shared& s, SamplesPanel& p, const Space& space);
// "samples": how many are on show.
void panel_json(const Shared& s, const SamplesPanel& p, Json& j);

}  // namespace app
