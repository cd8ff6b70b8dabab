// The VAE beside PCA with as many components as the model has latent dimensions, fitted to the same training
// images and shipped in the model's file: the drawing reconstructed by each with both errors, samples from each
// (PCA: Gaussian in its component space with the components' variances), and for two dimensions each one's
// plane as a grid.
#pragma once
#include "app/panel_ui.hpp"
#include "vae/repair.hpp"

namespace app {

struct ComparePanel {
  static constexpr int kWide = 2, kMedium = 1;
  static constexpr const char* kSection = "Compare";
  static constexpr Needs kNeeds = Needs::Plain;
  static constexpr int kSamples = 8;  // from each model
  static constexpr int kGrid = 10;    // cells per side of each plane's grid (two-dimensional models)
  float temperature = 1.f;
  uint64_t seed = 1;
  uint64_t key = 0;          // InputKey of the model, the drawing's analysis and the sampling options
  std::vector<float> pca_recon;  // (D) the drawing's PCA reconstruction; empty when nothing is drawn
  vae::ImageErrors vae_errors, pca_errors;  // each reconstruction against the model's input
  std::vector<float> vae_samples, pca_samples;  // (kSamples, D) each
  std::vector<float> vae_grid, pca_grid;        // (kGrid^2, D) each, K == 2 only
  Texture vae_recon_tex{"compare_vae"}, pca_recon_tex{"compare_pca"}, vae_samples_tex{"compare_vae_samples"},
      pca_samples_tex{"compare_pca_samples"}, vae_grid_tex{"compare_vae_grid"}, pca_grid_tex{"compare_pca_grid"};
};

bool panel_update(const Shared& s, ComparePanel& p);
void panel_draw(Shared& s, ComparePanel& p, const Space& space);
// "compare": {"pca": K (0 when the model ships none), "vae": {"bce", "mse", "psnr"} and "pca": {...} for the
// drawing (null when nothing is drawn), "samples": per model, "grid": cells per model (0 unless K == 2)}.
void panel_json(const Shared& s, const ComparePanel& p, Json& j);

// The PCA plane's grid: n x n images decoded from c = (a, b) with a, b on the grid's inverse-CDF axis scaled by
// each component's standard deviation (the analogue of the VAE's grid over its prior). Row 0 is the top (b
// decreasing down the rows, as the latent grid).
std::vector<float> pca_plane_grid(const vae::Pca& pca, int n);

}  // namespace app
