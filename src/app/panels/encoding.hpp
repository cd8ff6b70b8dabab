// What the model sees and makes of the drawing: its 28x28 input, the reconstruction, the difference between the
// two (signed: ink the model lost, ink it added) with the per-image errors, posterior samples, the ELBO and its
// terms, log p(x) among the test set's, and the posterior per latent dimension. All from Shared's analysis.
#pragma once
#include "app/panel_ui.hpp"
#include "vae/repair.hpp"

namespace app {

struct EncodingPanel {
  static constexpr int kWide = 0, kMedium = 0;
  static constexpr const char* kSection = "Code";
  static constexpr Needs kNeeds = Needs::Plain;
  Texture input{"input"}, recon{"recon"}, samples{"posterior_samples"}, difference{"difference"};
  vae::ImageErrors errors;  // the reconstruction against the input (all pixels)
  float lost = 0, added = 0;  // total ink the reconstruction lacks / adds, in pixels' worth (sums of the signed parts)
  uint64_t shown_version = ~0ull;
};

bool panel_update(const Shared& s, EncodingPanel& p);
void panel_draw(Shared& s, EncodingPanel& p, const Space& space);
// "empty", "z", "sigma", "elbo", "rec", "kl", "log_px", "percentile" (null when unknown), and "difference":
// {"bce", "mse", "psnr", "lost", "added"} (null when nothing is drawn).
void panel_json(const Shared& s, const EncodingPanel& p, Json& j);

// The signed difference estimate - original (D values each) as an RGBA8 image: red where ink was lost (the
// estimate is darker than the original), cyan where ink was added, black where they agree, each channel in
// proportion to |difference|. Sums of the lost and added parts go to lost and added when given.
std::vector<uint8_t> difference_rgba(const std::vector<float>& original, const std::vector<float>& estimate,
                                     float* lost = nullptr, float* added = nullptr);
// One line "BCE 61.2 nats  MSE 0.0213  PSNR 16.7 dB" for e.
std::string errors_line(const vae::ImageErrors& e);

// Queues the model's input beside its reconstruction as a PNG (vae-reconstruction.png).
void encoding_save(Shared& s);

}  // namespace app
