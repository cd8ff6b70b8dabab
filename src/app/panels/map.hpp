// The latent map: the test set's codes shipped in the model file as labelled dots, the drawing's posterior
// ellipses on it, and the decoded image of the point under the pointer.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

struct MapPanel {
  static constexpr int kWide = 1, kMedium = 1;
  static constexpr const char* kSection = "Map";
  static constexpr Needs kNeeds = Needs::Plain;
  float view[3] = {0, 0, 1};  // the square shown: centre a, centre b, side; zoomed by the wheel or a pinch
  float home[3] = {0, 0, 1};  // the square around all the points, set for each model (a double click returns)
  uint64_t view_generation = ~0ull;
  bool active = false;        // the pointer is over the map
  float ab[2] = {0, 0};       // its map coordinates
  std::vector<float> probe_z, probe_image;
  Texture points{"map"}, probe{"map_probe"};
  uint64_t points_generation = ~0ull;  // the model, view and size in pixels the points texture was drawn for
  float points_view[3] = {0, 0, 0};
  int points_side = 0;
};

bool panel_update(const Shared& s, MapPanel& p);
void panel_draw(Shared& s, MapPanel& p, const Space& space);
// "map_points": how many points the map has; "map_view": [centre a, centre b, side] of the square shown.
void panel_json(const Shared& s, const MapPanel& p, Json& j);

}  // namespace app
