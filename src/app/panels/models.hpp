// The models the studio knows: the one in use, the others to load with a click, and each loaded model's
// architecture, provenance and test figures from its file's metadata.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct ModelsPanel {
  static constexpr int kWide = 1, kMedium = 1;
  static constexpr const char* kSection = "Models";
  static constexpr Needs kNeeds = Needs::Any;
};

bool panel_update(const Shared& s, ModelsPanel& p);
void panel_draw(Shared& s, ModelsPanel& p, const Space& space);
// Nothing of its own: the state JSON's "model" and "arch" are the app's.
void panel_json(const Shared& s, const ModelsPanel& p, Json& j);

}  // namespace app
