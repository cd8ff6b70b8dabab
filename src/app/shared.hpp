// What every panel reads: the model in use, the drawing and what the model makes of it (its analysis), the two
// morph slots any panel may fill, and the frame's bookkeeping. A panel (panels/<name>.hpp) keeps its own state
// and reaches other panels only through this. No GL, no ImGui, no platform code.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/drawing.hpp"
#include "app/preprocess.hpp"
#include "app/studio.hpp"
#include "vae/digits.hpp"
#include "vae/latent_map.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/pca.hpp"
#include "vae/status.hpp"

namespace app {

// A rectangle in ImGui units: CSS pixels in the browser, window coordinates (points) on the desktop.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// One pointer position as the platform received it (screen units, as io.MousePos), with the primary button's
// state at that moment.
struct PointerSample {
  float x = 0, y = 0;
  bool down = false;
};

// The models the studio knows, by name: the page and the desktop app find them at assets/NAME.safetensors.
constexpr const char* kModelNames[] = {"mnist-z2", "mnist-z32", "fashion-z2", "mnist-cvae"};
// What a panel needs of the model in use: any model, a plain VAE, or a label-conditioned one (vae/cvae.hpp). The
// layout draws a panel whose need the model does not meet as one line saying so (ui.cpp), and skips its update.
enum class Needs { Any, Plain, Conditional };

// A morph end: a latent code and the image it came from (a drawing's input or a decoded sample).
struct Slot {
  std::string what;          // "drawing", "sample 3", "grid cell (4, 7)"; empty: unset
  std::vector<float> z;      // (Z)
  std::vector<float> label;  // (C) a label-conditioned model's label, one-hot; empty for a plain model
  std::vector<float> image;  // (D)
};

// What the models panel lists for a model once it has been loaded (switching away keeps it listed).
struct ModelSummary {
  std::string name, arch;
  size_t parameters = 0;
  vae::Metadata meta;
};

struct Shared {
  // ---- the model in use. Only a load that succeeded replaces it; a failed one leaves it as it was. ----
  std::string model_name;  // the file's stem, e.g. "mnist-z2"; empty until a model has loaded
  vae::Vae model;
  vae::VaeInfer infer;  // the same weights packed for the studio's passes (vae/infer.hpp)
  // A label-conditioned model (M2): conditional is true, cinfer holds it packed with its classifier, and model
  // and infer hold its plain model for label 0 (so that arch is the plain one's).
  bool conditional = false;
  vae::CvaeInfer cinfer;
  vae::Metadata model_meta;
  vae::LatentMap map;                    // the test set's codes shipped in the file (kind "" when absent)
  vae::Pca pca;                          // the PCA shipped in the file (K == 0 when absent)
  std::vector<double> nll_percentiles;   // the test set's -log p(x) at percentiles 0..100 (empty when absent)
  uint64_t model_generation = 0;         // bumped by every successful load
  std::vector<ModelSummary> seen_models; // every model loaded so far, in the order first loaded

  // Asking for another model: a panel sets requested_model to a name ("mnist-z32"); the platform takes it,
  // moves it to loading_model, fetches assets/NAME.safetensors and then calls app_load_model or app_load_failed.
  std::string requested_model;
  // Opening a model file of the user's (a PyTorch export, say): a panel sets open_file_requested; in the browser
  // the platform shows the file picker (can_pick_files), natively a file is dropped on the window. Either way
  // the bytes reach app_load_model under the file's name ("mine.safetensors"), never sent anywhere.
  bool open_file_requested = false;
  bool can_pick_files = false;
  // "Copy link" (the page only, can_share): the platform puts share_encode's text in the page's URL fragment.
  bool share_requested = false;
  bool can_share = false;
  std::string loading_model;
  float loading_progress = -1.f;  // 0..1 while a download reports progress; -1 unknown
  std::string message;            // the last error or notice, one line, shown until replaced

  // ---- the drawing (canvas units, see drawing.hpp) and what the model makes of it ----
  Drawing drawing;
  // Every pointer position since the last frame, in order (the platform replaces it before each frame): Dear
  // ImGui 1.86 sees one position per frame, so the canvas draws along this instead, and a stroke pressed and
  // released between two frames keeps every point. Empty when nothing moved (or the platform gives none).
  std::vector<PointerSample> pointer_trail;
  // ---- the person's hands beyond the pointer (the platform sets the first three before each frame) ----
  bool touch = false;  // the pointer is a finger: nothing hovers, and a swipe scrolls (ui.cpp)
  // A two-finger pinch since the last frame: its zoom factor (1: none) about its centre (screen units). The grid
  // and the map under the centre zoom with it; nothing else does.
  float pinch = 1.f, pinch_x = 0, pinch_y = 0;
  bool gesture = false;       // a pinch happened during the current press: its release is no click or tap
  bool drag_claimed = false;  // this frame a panel's own drag holds the pointer (drawing, panning): no scrolling
  std::string help_open;      // the "(?)" help a tap or click opened (its name), until the next tap; "" none
  bool first_run_hint = true; // the "draw here" hint, until the first stroke or its dismissal
  float brush_width = 0.07f;  // canvas units
  bool plain_input = false;   // feed the plain downscale instead of MNIST's preprocessing (for comparison)
  int style_label = -1;       // a conditional model: the label the drawing's style is read with; -1 its classifier's
  std::vector<float> raster;      // (kRasterSide^2) the drawing as pixels
  PreprocessResult mnist_input;   // MNIST-style 28x28
  PreprocessResult plain_result;  // plain downscale 28x28
  Analysis analysis;              // of whichever input plain_input selects
  bool analysis_has_iw = false;   // log p(x) is computed when no stroke is open (it takes 500 decoder passes)
  uint64_t analysis_version = 0;  // bumped when analysis changes
  uint64_t analyzed_revision = ~0ull, analyzed_generation = ~0ull;
  bool analyzed_plain = false, analyzed_open = false;
  int analyzed_label = -1;

  // ---- test digits with known originals (kDigitsFile): fetched by the platform when a panel asks ----
  enum class Digits { None, Wanted, Loading, Ready, Failed };
  Digits digits_state = Digits::None;
  vae::DigitSample digits;
  std::string digits_error;  // why they could not be had (Failed)

  // ---- the morph's two ends, filled from the drawing, a sample, a grid cell, ... ----
  Slot slot_a, slot_b;

  // ---- the frame ----
  // Milliseconds app_update may spend on work spread over frames (the latent grid) once the rest is done (at
  // least one row is always decoded, so it finishes); 0: no limit. The platform sets it to keep each frame
  // short while the grid is dragged or zoomed (a 20x20 decode takes longer than a 60 Hz frame in the browser).
  double work_budget_ms = 0;
  std::chrono::steady_clock::time_point update_start;  // when this frame's app_update began
  // PNGs to save: the platform takes them (a file natively, a download in the browser).
  std::vector<std::pair<std::string, std::vector<uint8_t>>> saves;
  // Where some buttons, sliders and panels were drawn in the last frame, by name ("undo", "clear", "grid",
  // "new_samples", ...): the state JSON lists them so that end-to-end tests click what a user would.
  // Each with whether it was wholly in sight (not scrolled partly or wholly out of its column, nor off the window).
  struct Widget {
    Rect rect;
    bool visible = true;
  };
  std::vector<std::pair<std::string, Widget>> widgets;
  uint64_t frame = 0;  // frames drawn so far
  double time = 0;     // seconds, from the platform (animations)
};

// The shipped sample of MNIST test images, beside the models: assets/mnist-test-100.safetensors.
constexpr const char* kDigitsFile = "mnist-test-100.safetensors";
// The platform's answer to digits_state == Wanted: the file's bytes, or why there are none.
vae::Status app_load_digits(Shared& s, const uint8_t* bytes, size_t size);
void app_digits_failed(Shared& s, const std::string& why);

// The drawing's current code: the analysis's mu, or empty when nothing is drawn.
const std::vector<float>& app_drawing_code(const Shared& s);
// A slot from the drawing, or from a code (decoded now; a conditional model's with label y, one-hot).
bool app_slot_from_drawing(const Shared& s, Slot& slot);
void app_slot_from_code(const Shared& s, const std::string& what, const float* z, Slot& slot, int y = -1);
// Decodes codes (count, Z) with the model in use: a conditional model's with labels (count, C), a plain one's
// ignoring them.
void app_decode(const Shared& s, const std::vector<float>& codes, const std::vector<float>& labels, int count,
                std::vector<float>& images);
// Whether the model in use meets a panel's need.
bool app_model_meets(const Shared& s, Needs needs);
// The cache key of a slot's thumbnail: its label, every dimension of its code and the model it was decoded
// with (the image follows from the last two, so it is not hashed every frame).
uint64_t slot_key(const Slot& slot, uint64_t model_generation);
// Puts an image (D values) on the canvas as one undoable step.
void app_send_to_canvas(Shared& s, const std::vector<float>& image);
// Queues a PNG of grey images (count of them, rows x cols each, in one row of `cols_per_row`) scaled by
// `scale`, as file `name`; says so in s.message when there is nothing to save.
void app_save_images(Shared& s, const std::string& name, const std::vector<float>& images, int count,
                     int cols_per_row, int scale);
// Milliseconds of this frame's app_update spent so far.
double app_update_ms(const Shared& s);
// One decoded image of a (count, D) block.
std::vector<float> image_at(const std::vector<float>& images, int index, int D);

}  // namespace app
