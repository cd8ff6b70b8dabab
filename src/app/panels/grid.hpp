// The latent grid (Kingma & Welling 2013, Fig. 4): N x N decoded codes over a square of the latent plane, panned
// by dragging and zoomed with the wheel, decoded a few rows per frame within Shared::work_budget_ms; a clicked
// cell can go to the canvas or to a morph slot.
#pragma once
#include "app/panel_ui.hpp"

namespace app {

// A grid view being decoded a few rows per frame: the view and plane it is for, its codes and its images so
// far. The grid on show changes only when every row is done, so the panel never shows half of one view and
// half of another.
struct GridJob {
  bool active = false;
  GridView view;
  uint64_t generation = 0;     // the model it decodes with; a new model restarts it
  std::vector<float> through;  // the plane's anchor (Z > 2)
  std::vector<float> codes;    // (n*n, Z) row-major by cell
  std::vector<float> images;   // (n*n, D)
  int rows_done = 0;
  vae::InferScratch scratch;   // the decoder's buffers, kept from slice to slice
};

struct GridPanel {
  static constexpr int kWide = 2, kMedium = 1;
  static constexpr const char* kSection = "Grid";
  static constexpr Needs kNeeds = Needs::Plain;
  GridView view;       // the view asked for (the controls, panning and zooming change it)
  GridView done;       // the view the images show
  uint64_t generation = ~0ull;       // the model the images were decoded with
  uint64_t view_generation = ~0ull;  // the model the view was last reset for
  std::vector<float> through;        // the plane's anchor the images were computed for (Z > 2)
  std::vector<float> images, codes;  // (n*n, D), (n*n, Z)
  uint64_t version = 0;              // bumped each time a whole grid is on show
  int selected = -1;                 // a clicked cell, row * n + col
  GridJob job;                       // the next view, while it is being decoded
  double ms_per_cell = 0;            // the last slice's decoding time per cell, to size the next slice
  Texture texture{"grid"};
  uint64_t shown_version = ~0ull;
};

// Starts or continues decoding the view asked for; true while a view not yet on show is being decoded.
bool panel_update(const Shared& s, GridPanel& p);
void panel_draw(Shared& s, GridPanel& p, const Space& space);
// "grid": {"n", "cells", "center": [a, b], "zoom" (the view its images show), "version", "pending"}.
void panel_json(const Shared& s, const GridPanel& p, Json& j);

// Whether the grid on show is the view asked for, with the current model and plane.
bool grid_shows_view(const Shared& s, const GridPanel& p);
// Queues the grid as a PNG (vae-grid.png).
void grid_save(Shared& s, const GridPanel& p);

}  // namespace app
