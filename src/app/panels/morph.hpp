// The morph between the two slots of Shared (filled from the drawing, a sample or a grid cell): kFrames codes
// from A to B, linear or spherical, decoded once and played as an animation, with a strip of every fourth frame.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct MorphPanel {
  static constexpr int kWide = 2, kMedium = 1;
  static constexpr const char* kSection = "Morph";
  static constexpr Needs kNeeds = Needs::Any;
  static constexpr int kFrames = 48;  // precomputed, so playing decodes nothing
  bool slerp = false;
  bool play = true;
  float t = 0.f;  // 0..1, where the animation is
  std::vector<float> codes, images;  // (kFrames, Z), (kFrames, D)
  uint64_t key = 0;      // InputKey of the model generation, slerp and both slots' codes when computed
  uint64_t version = 0;  // bumped when the frames change
  Texture frame{"morph"}, strip{"morph_strip"}, slot_a{"slot_a"}, slot_b{"slot_b"};
  int frame_shown = -1;
  uint64_t slot_a_key = 0, slot_b_key = 0;  // slot_key() of what each slot texture shows
};

bool panel_update(const Shared& s, MorphPanel& p);
void panel_draw(Shared& s, MorphPanel& p, const Space& space);
// "morph": how many frames there are (0 until both slots are filled).
void panel_json(const Shared& s, const MorphPanel& p, Json& j);

// Queues every fourth frame, A to B, as a strip PNG (vae-morph.png).
void morph_save(Shared& s, const MorphPanel& p);

}  // namespace app
