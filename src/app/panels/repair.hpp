// Repair: damage a digit (the drawing, or a shipped MNIST test digit whose original is known) with noise, missing
// pixels, a missing block or a painted mask, each from a fixed seed, and restore it with the VAE (one pass, the
// posterior mean, pseudo-Gibbs, Metropolis-within-Gibbs, MAP) or a baseline (the mean image, PCA, a 3x3 median),
// animated over the iterations; the error on the damaged pixels for the chosen method and for every method.
// The computing is vae/repair.hpp's.
#pragma once
#include "app/panel_ui.hpp"
#include "vae/repair.hpp"

namespace app {

struct RepairPanel {
  static constexpr int kWide = 1, kMedium = 1;
  static constexpr const char* kSection = "Repair";
  static constexpr Needs kNeeds = Needs::Plain;
  static constexpr double kAnimationSeconds = 1.5;  // an iterative restoration plays its frames over this long
  enum Source { kDrawing = 0, kTestDigit = 1 };
  int source = kTestDigit;
  int digit = 0;  // index into Shared::digits
  vae::DamageSpec damage;
  // The amount each damage kind had last (switching kinds keeps each one's own).
  float amounts[5] = {0.5f, 0.2f, 0.5f, 0.5f, 0.5f};
  std::vector<uint8_t> mask;  // (D) the painted mask, nonzero = hidden
  float brush = 1.5f;         // the mask brush's radius, in image pixels
  vae::Restore method = vae::Restore::MetropolisGibbs;
  vae::RestoreOptions options;

  // ---- derived ----
  uint64_t key = 0;             // InputKey of everything the restoration depends on
  uint64_t table_key = 0;       // the same, for the table of every method
  std::string error;            // why there is nothing to restore (empty drawing, bad mask, ...); empty: fine
  std::vector<float> original;  // (D) the clean image
  vae::Damaged damaged;
  vae::Restored restored;
  vae::ImageErrors errors;      // restored against original, on the damaged pixels
  struct Row {
    vae::Restore method;
    vae::ImageErrors errors;
    double acceptance = -1;
  };
  std::vector<Row> table;       // every method that applies, in restore order
  double started = 0;           // Shared::time when the animation began
  int frame_shown = -2;         // the frame on show (-1: the final image)
  bool painting = false;        // a mask stroke is under way (the table waits for it to end)
  float last_paint[2] = {0, 0}; // where the stroke was in the last frame, image pixel units
  Texture damaged_tex{"repair_damaged"}, restored_tex{"repair_restored"}, original_tex{"repair_original"},
      difference_tex{"repair_difference"};
};

bool panel_update(const Shared& s, RepairPanel& p);
void panel_draw(Shared& s, RepairPanel& p, const Space& space);
// "repair": {"source", "digit", "damage", "amount", "block", "seed", "method", "error" (null when fine),
// "damaged_pixels", "bce", "mse", "psnr" (on the damaged pixels), "acceptance", "frames", "frame", "mask_pixels",
// "table": [{"method", "bce", "mse", "psnr"}, ...]}.
void panel_json(const Shared& s, const RepairPanel& p, Json& j);

// The damaged image as RGBA8: grey as it is, with hidden pixels in a dark blue so that "missing" never reads as
// "black ink-free paper".
std::vector<uint8_t> damaged_rgba(const vae::Damaged& d);
// Sets (or, with erase, clears) the mask pixels within radius r (image pixels) of (x, y) (image pixel units).
void mask_paint(std::vector<uint8_t>& mask, int rows, int cols, float x, float y, float r, bool erase);

}  // namespace app
