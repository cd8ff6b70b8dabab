// Damaged digits and their restoration: damage generators with fixed seeds, the VAE's ways of restoring an image
// (one encode-decode pass, the posterior mean, pseudo-Gibbs, Metropolis-within-Gibbs, MAP of z on the observed
// pixels), the baselines it is compared with (the mean image, PCA on the observed pixels, a 3x3 median filter)
// and the per-image errors. Pure data in, data out; the studio's Repair panel and `vae restore` only call this.
//
// Size letters: D pixels (rows x cols), Z latent size, T iterations.
// References: Rezende, Mohamed & Wierstra 2014, "Stochastic backpropagation ...", appendix F (pseudo-Gibbs
// imputation); Mattei & Frellsen 2018, "Leveraging the exact likelihood of deep latent variable models",
// section 4 (Metropolis-within-Gibbs, which corrects pseudo-Gibbs's drift).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/infer.hpp"
#include "vae/model.hpp"
#include "vae/pca.hpp"
#include "vae/status.hpp"

namespace vae {

// ---- damage ----

enum class Damage { Gaussian, SaltPepper, MissingPixels, MissingBlock, Mask };
enum class Block { Top, Bottom, Left, Right, Centre };
const char* damage_name(Damage d);  // "gaussian", "salt-pepper", "missing-pixels", "missing-block", "mask"
const char* block_name(Block b);    // "top", "bottom", "left", "right", "centre"
bool damage_from_name(const std::string& s, Damage& out);
bool block_from_name(const std::string& s, Block& out);

struct DamageSpec {
  Damage kind = Damage::MissingBlock;
  // Gaussian: sigma (0, 2]; SaltPepper and MissingPixels: rate (0, 1]; MissingBlock with Block::Centre: the
  // square's side as a fraction of the image's (0, 1]. Unused otherwise.
  float amount = 0.5f;
  Block block = Block::Bottom;
  uint64_t seed = 1;  // the same seed gives the same damage
};
// The spec's ranges; one line naming the bad value.
Status damage_check(const DamageSpec& spec);

struct Damaged {
  int rows = 0, cols = 0;
  std::vector<float> image;       // (D) what a method is given: noisy values clipped to [0, 1]; hidden pixels 0
  std::vector<uint8_t> observed;  // (D) 1: the method sees this pixel's value (every pixel, for the noise kinds)
  std::vector<uint8_t> damaged;   // (D) 1: the damage changed or hid this pixel: where the errors are measured
  bool missing = false;           // some pixels are hidden (MissingPixels, MissingBlock, Mask), not noisy
  int D() const { return rows * cols; }
};
// Damages image x (rows x cols, values in [0, 1]). mask (D values, nonzero = hidden) is the painted mask for
// Damage::Mask and ignored otherwise. Errors: a bad spec, a mask that is null or hides every pixel or none, a
// damage that leaves no pixel damaged or (for the missing kinds) none observed.
Status damage_apply(const float* x, int rows, int cols, const DamageSpec& spec, const uint8_t* mask, Damaged& out);

// ---- errors between an image and an estimate of it ----

struct ImageErrors {
  double bce = 0;   // sum over the pixels of -[x log p + (1 - x) log(1 - p)], nats; p clamped to [1e-6, 1 - 1e-6]
  double mse = 0;   // mean of (p - x)^2 over the pixels
  double psnr = 0;  // 10 log10(1 / mse), dB (peak value 1); 99 when mse is 0
  int pixels = 0;
};
// Over the pixels where which[d] != 0, or all D when which is null.
ImageErrors image_errors(const float* original, const float* estimate, int D, const uint8_t* which = nullptr);

// ---- restoring ----

enum class Restore { OnePass, PosteriorMean, PseudoGibbs, MetropolisGibbs, Map, MeanImage, Pca, Median };
// "one-pass", "posterior-mean", "pseudo-gibbs", "mwg", "map", "mean-image", "pca", "median3x3"
const char* restore_name(Restore r);
bool restore_from_name(const std::string& s, Restore& out);
// A one-line description for tables and the studio ("Metropolis-within-Gibbs (Mattei & Frellsen 2018)").
const char* restore_label(Restore r);
// Whether a method applies to a damage: pseudo-Gibbs, Metropolis-within-Gibbs and MAP need hidden pixels;
// the posterior mean and the median filter are for noise; PCA and the mean image need a PCA; the rest apply to all.
bool restore_applies(Restore r, const Damaged& d, bool have_pca);

struct RestoreOptions {
  int iterations = 100;  // pseudo-Gibbs, Metropolis-within-Gibbs and MAP steps
  int burn_in = 20;      // chain steps not averaged into the result
  int samples = 32;      // posterior-mean: decoded z ~ q(z|x)
  float map_step = 0.05f;  // MAP: Adam's step size on z
  uint64_t seed = 1;     // the same seed gives the same result
};

struct Restored {
  std::vector<float> image;   // (D) the restoration; for the missing kinds the observed pixels are clamped
  std::vector<float> frames;  // (T, D) the estimate after each iteration, for the animation (iterative only)
  int iterations = 0;         // T
  double acceptance = -1;     // Metropolis-within-Gibbs: the share of proposals accepted; -1 otherwise
};

// What a method may use: the model (MAP needs its backward pass), its packed copy (every forward pass), and
// the model's PCA (the PCA and mean-image baselines; may be null or empty).
struct RepairModels {
  const Vae* vae = nullptr;
  const VaeInfer* infer = nullptr;
  const Pca* pca = nullptr;
};

// Restores d with method r. Errors: a method that does not apply (restore_applies), a model whose input size
// is not d.D(), bad options. out is replaced only on success.
Status restore(const RepairModels& m, const Damaged& d, Restore r, const RestoreOptions& opt, Restored& out);

// One Metropolis-within-Gibbs step's acceptance (Mattei & Frellsen 2018, eq. 9), in logs. For the current code
// z and the proposal z' ~ q(. | x_o, x_m), with x_m the current imputation:
//   log rho = [log p(z') + log p(x_o, x_m | z') - log q(z' | x_o, x_m)] - [log p(z) + log p(x_o, x_m | z) - log q(z | x_o, x_m)]
// Each code's three terms:
struct MwgTerms {
  double log_prior = 0;  // log p(z) under N(0, I)
  double log_lik = 0;    // log p(x_o, x_m | z): minus the BCE of the whole current image
  double log_q = 0;      // log q(z | x_o, x_m): this code's density under the encoder's Gaussian for the current image
};
double mwg_log_ratio(const MwgTerms& proposed, const MwgTerms& current);
// Accept when u < rho, that is log u < log rho (u uniform in [0, 1)).
bool mwg_accept(double log_ratio, double u);

// The 3x3 median of each pixel (edges replicate their nearest pixel).
void median3x3(const float* x, int rows, int cols, float* out);

}  // namespace vae
