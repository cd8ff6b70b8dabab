// The studio's state: everything the panels show and edit lives in `App` (never in function-local statics).
// No GL, no ImGui and no platform code here: main.cpp owns the window and the frame loop and hands model bytes
// in; ui.cpp draws the panels from this state; app_update recomputes what depends on changed inputs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/drawing.hpp"
#include "app/preprocess.hpp"
#include "app/studio.hpp"
#include "app/texture.hpp"
#include "vae/latent_map.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/status.hpp"

namespace app {

// A rectangle in ImGui units: CSS pixels in the browser, window coordinates (points) on the desktop.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// The models the studio knows, by name: the page and the desktop app find them at assets/NAME.safetensors.
constexpr const char* kModelNames[] = {"mnist-z2", "mnist-z32", "fashion-z2"};

// A morph end: a latent code and the image it came from (a drawing's input or a decoded sample).
struct Slot {
  std::string what;         // "drawing", "sample 3", "grid cell (4, 7)"; empty: unset
  std::vector<float> z;     // (Z)
  std::vector<float> image; // (D)
};

// The GL textures the panels show, and the version of the data each was last uploaded from (ui.cpp owns them;
// a texture id is a plain number, so App stays window-free).
struct Textures {
  Texture canvas, input, recon, samples, grid, sheet, morph, strip, probe, slot_a, slot_b, map;
  uint64_t canvas_v = ~0ull, analysis_v = ~0ull, grid_v = ~0ull, samples_v = ~0ull, morph_v = ~0ull, probe_v = ~0ull;
  int morph_frame = -1;
  uint64_t slot_a_key = 0, slot_b_key = 0;  // slot_key() of what each slot texture shows
  uint64_t map_generation = ~0ull;  // the map's points: the model, view and size in pixels they were drawn for
  float map_view[3] = {0, 0, 0};
  int map_side = 0;
};

// What the models panel lists for a model once it has been loaded (switching away keeps it listed).
struct ModelSummary {
  std::string name, arch;
  size_t parameters = 0;
  vae::Metadata meta;
};

// A latent grid being decoded a few rows per frame (app_update, App::work_budget_ms): the view and plane it is
// for, its codes, and its images so far. The grid on show changes only when every row is done, so a panel never
// shows half of one view and half of another.
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

// Derived data carries the version of the inputs it was computed from; app_update recomputes it when they move.
struct App {
  // ---- the model in use. Only a load that succeeded replaces it; a failed one leaves it as it was. ----
  std::string model_name;  // the file's stem, e.g. "mnist-z2"; empty until a model has loaded
  vae::Vae model;
  vae::VaeInfer infer;  // the same weights packed for the studio's passes (vae/infer.hpp)
  vae::Metadata model_meta;
  vae::LatentMap map;                    // the test set's codes shipped in the file (kind "" when absent)
  float map_view[3] = {0, 0, 1};         // the square the map panel shows: centre a, centre b, side
  std::vector<double> nll_percentiles;   // the test set's -log p(x) at percentiles 0..100 (empty when absent)
  uint64_t model_generation = 0;         // bumped by every successful load
  std::vector<ModelSummary> seen_models; // every model loaded so far, in the order first loaded

  // Asking for another model: a panel sets requested_model to a name ("mnist-z32"); the platform takes it,
  // moves it to loading_model, fetches assets/NAME.safetensors and then calls app_load_model or app_load_failed.
  std::string requested_model;
  std::string loading_model;
  float loading_progress = -1.f;  // 0..1 while a download reports progress; -1 unknown
  std::string message;            // the last error or notice, one line, shown until replaced

  // ---- the drawing canvas (canvas units, see drawing.hpp) ----
  Drawing drawing;
  float brush_width = 0.07f;  // canvas units
  bool eraser = false;
  bool plain_input = false;   // feed the plain downscale instead of MNIST's preprocessing (for comparison)
  Rect canvas_rect;           // where the canvas was drawn in the last frame

  // ---- derived from the drawing ----
  std::vector<float> raster;      // (kRasterSide^2) the drawing as pixels
  PreprocessResult mnist_input;   // MNIST-style 28x28
  PreprocessResult plain_result;  // plain downscale 28x28
  Analysis analysis;              // of whichever input plain_input selects
  bool analysis_has_iw = false;   // log p(x) is computed when no stroke is open (it takes 500 decoder passes)
  uint64_t analysis_version = 0;  // bumped when analysis changes
  uint64_t analyzed_revision = ~0ull, analyzed_generation = ~0ull;
  bool analyzed_plain = false, analyzed_open = false;

  // ---- the latent map: hovering or dragging decodes the point under the pointer ----
  bool map_active = false;        // the pointer is over the map
  float map_ab[2] = {0, 0};       // its map coordinates
  std::vector<float> map_z, map_image;
  uint64_t map_version = 0;

  // ---- the latent grid ----
  GridView grid;
  GridView grid_done;  // the view grid_images shows
  uint64_t grid_generation = ~0ull;
  std::vector<float> grid_through;  // the plane's anchor it was computed for (Z > 2)
  std::vector<float> grid_images, grid_codes;
  uint64_t grid_version = 0;
  int grid_selected = -1;  // a clicked cell, row * n + col
  GridJob grid_job;              // the next view, while it is being decoded
  double grid_ms_per_cell = 0;   // the last slice's decoding time per cell, to size the next slice

  // Milliseconds app_update may spend on the grid per call once the rest is done (at least one row is always
  // decoded, so it finishes); 0: no limit, the whole grid in one call. The platform sets it to keep each frame
  // short while the grid is dragged or zoomed (a 20x20 decode takes longer than a 60 Hz frame in the browser).
  double work_budget_ms = 0;

  // ---- prior samples ----
  float temperature = 1.f;
  int sample_count = 16;
  uint64_t sample_seed = 1;
  std::vector<float> sample_codes, sample_images;
  uint64_t samples_key = 0;  // InputKey of the model generation, seed, count and temperature when computed
  uint64_t samples_version = 0;

  // ---- the morph between two slots ----
  Slot slot_a, slot_b;
  bool slerp = false;
  bool morph_play = true;
  float morph_t = 0.f;                     // 0..1, where the animation is
  static constexpr int kMorphFrames = 48;  // precomputed, so playing decodes nothing
  std::vector<float> morph_codes, morph_images;
  uint64_t morph_version = 0;
  uint64_t morph_key = 0;  // InputKey of the model generation, slerp and both slots' codes when computed

  // ---- PNGs to save: the platform takes them (a file natively, a download in the browser) ----
  std::vector<std::pair<std::string, std::vector<uint8_t>>> saves;

  Textures tex;
  // Where some buttons, sliders and panels were drawn in the last frame, by name ("undo", "clear", "grid",
  // "new_samples", ...): the state JSON lists them so that end-to-end tests click what a user would.
  std::vector<std::pair<std::string, Rect>> widgets;
  uint64_t frame = 0;  // frames drawn so far
  double time = 0;     // seconds, from the platform (animations)
};

// Parses a model file's bytes and makes it the current model (with its map and test percentiles). On failure
// the current model is kept and app.message says why; the returned status carries the parser's message.
vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size);
// The platform could not fetch model `name` (why: one line). Sets app.message; the current model is kept.
void app_load_failed(App& app, const std::string& name, const std::string& why);

// Recomputes whatever depends on inputs that changed since the last call (drawing, model, grid view, sampling
// options, slots). Cheap when nothing changed; called once per frame before the panels.
void app_update(App& app);
// Whether app_update has work left to catch up with its inputs: a grid view not yet on show (it is decoded
// over several calls when App::work_budget_ms is set).
bool app_busy(const App& app);

// The drawing's current code: the analysis's mu, or empty when nothing is drawn.
const std::vector<float>& app_drawing_code(const App& app);
// The slot from the drawing, a sample, or a grid cell.
bool app_slot_from_drawing(const App& app, Slot& slot);
void app_slot_from_code(const App& app, const std::string& what, const float* z, Slot& slot);
// The cache key of a slot's thumbnail: its label, every dimension of its code and the model it was decoded
// with (the image follows from the last two, so it is not hashed every frame).
uint64_t slot_key(const Slot& slot, uint64_t model_generation);
// Puts an image (D values) on the canvas as one undoable step.
void app_send_to_canvas(App& app, const std::vector<float>& image);
// Queues a PNG of the drawing, its reconstruction, the grid or the morph strip (name like "vae-grid.png").
void app_save(App& app, const std::string& what);

// Draws a "7" with two strokes, as a person would: the desktop app's --demo, and tests.
void app_demo_drawing(App& app);

// "mnist-z2" from "assets/mnist-z2.safetensors".
std::string model_name_from_path(const std::string& path);

// The app as one JSON object, for tests and tools (window.vaeStudio.state() in the browser):
// {"frame":N,"model":"mnist-z2","arch":"...","loading":"","message":"","canvas":{"x":..,"y":..,"w":..,"h":..},
//  "strokes":N,"last_point":[x,y] or null,"empty":bool,"z":[..],"sigma":[..],"elbo":x,"rec":x,"kl":x,
//  "log_px":x or null,"percentile":x or null,"grid":{"n":N,"cells":N},"samples":N,"map_points":N,"morph":N,
//  "widgets":{"undo":{"x":..,"y":..,"w":..,"h":..},...}};
// last_point is the newest drawn point in canvas units. grid also has "center":[a,b] and "zoom" (the view its
// images show), "version" (how many times it has been decoded) and "pending" (a newer view is being decoded).
std::string app_state_json(const App& app);

}  // namespace app
