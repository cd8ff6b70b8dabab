// Damaged digits and their restoration: damage generators with fixed seeds, the VAE's ways of restoring an image
// (one encode-decode pass, the posterior mean, pseudo-Gibbs, Metropolis-within-Gibbs, MAP of z on the observed
// pixels), the baselines it is compared with (the mean image, PCA on the observed pixels, a 3x3 median filter)
// and the per-image errors. Pure data in, data out; the studio's Repair panel and `vae restore` only call this.
//
// Size letters: D pixels (rows x cols), Z latent size, T iterations.
// References: Rezende, Mohamed & Wierstra 2014, "Stochastic backpropagation ...", appendix F (pseudo-Gibbs
// imputation); Mattei & Frellsen 2018, "Leveraging the exact likelihood of deep latent variable models",
// section 4 (Metropolis-within-Gibbs, which corrects pseudo-Gibbs's drift).
//
// Reproducibility: the same seed gives the same damage and the same restoration, bit for bit, in one build.
// Natively and in the browser the kernels' sums round differently (FMA natively, none in WASM SIMD128), by about
// 1e-6 of a logit. The chains draw every random number in a fixed order whatever they decide (see
// restore_batch), so they stay in step unless a rounding difference flips a decision (an accept, or a pixel's u
// against its p); that image's chain then goes on from another state. MAP's optimiser can likewise amplify the
// difference in an image whose objective is flat. Measured (native AVX-512 against WASM SIMD128 under Node, 200
// test images, bottom half and 80% of pixels missing, Gaussian noise sigma 0.5, the default options): one-pass,
// posterior mean and the baselines within 2e-6 per pixel; pseudo-Gibbs, Metropolis-within-Gibbs and MAP within
// 2e-6 in all but 0 to 2 images of 200, which differ by up to 0.2 on some pixel; mean BCE within 0.05%, mean
// PSNR within 0.01 dB. Expect: single passes 1e-5 per pixel; iterative methods' means over 100 or more images
// 0.5%, a few images in a hundred visibly apart. tests/test_repair.cpp holds the packed kernel to model.hpp's
// Eigen ops (which round differently again) to those bounds.
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
  // (D) 1: the damage hit this pixel, where the errors are measured: hidden pixels; salt-and-pepper's hits (even
  // a 0 set to 0); for Gaussian noise every pixel (noise was added to each, even where clipping undid it), so
  // its PSNR is the whole image's, as in published denoising figures.
  std::vector<uint8_t> damaged;
  bool missing = false;           // some pixels are hidden (MissingPixels, MissingBlock, Mask), not noisy
  float sigma = 0;                // Gaussian: the noise's sigma (known to the methods that model the noise); else 0
  int D() const { return rows * cols; }
};
// Damages image x (rows x cols, values in [0, 1]). mask (D values, nonzero = hidden) is the painted mask for
// Damage::Mask and ignored otherwise. Errors: a bad spec, a mask that is null or hides every pixel or none, a
// damage that leaves no pixel damaged or (for the missing kinds) none observed.
// The draws: Pcg32(prng_mix(seed, int(kind)), 0xda3a6e5), pixel by pixel in row-major order: Gaussian one
// normal; salt-and-pepper two uniforms (hit when the first < rate, then salt (1) when the second < 1/2, else
// pepper (0)); missing pixels one uniform (hidden when < rate). Blocks: top and left halves are rows (columns)
// [0, n/2), bottom and right [n/2, n); the centred square has side round(amount * rows) by
// round(amount * cols), starting at ((rows - side) / 2, (cols - side) / 2).
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
constexpr Restore kRestoreAll[] = {Restore::OnePass, Restore::PosteriorMean, Restore::PseudoGibbs, Restore::MetropolisGibbs,
                                   Restore::Map,     Restore::MeanImage,     Restore::Pca,         Restore::Median};
// "one-pass", "posterior-mean", "pseudo-gibbs", "mwg", "map", "mean-image", "pca", "median3x3"
const char* restore_name(Restore r);
bool restore_from_name(const std::string& s, Restore& out);
// A one-line description for tables and the studio ("Metropolis-within-Gibbs (Mattei & Frellsen 2018)").
const char* restore_label(Restore r);
// Whether a method applies to a damage: pseudo-Gibbs and Metropolis-within-Gibbs need hidden pixels; MAP needs
// hidden pixels or Gaussian noise (d.sigma > 0: it then fits the noise's own likelihood); the posterior mean and
// the median filter are for noise; PCA and the mean image need a PCA; the one-pass baseline applies to all.
bool restore_applies(Restore r, const Damaged& d, bool have_pca);

struct RestoreOptions {
  int iterations = 100;  // pseudo-Gibbs, Metropolis-within-Gibbs and MAP steps
  int burn_in = 20;      // chain steps not averaged into the result
  int samples = 32;      // posterior-mean: decoded z ~ q(z|x)
  float map_step = 0.3f;   // MAP: Adam's step size on z
  uint64_t seed = 1;     // the same seed gives the same result
  // Metropolis-within-Gibbs's first min(mwg_warmup, burn_in) steps accept every proposal (pseudo-Gibbs steps,
  // inside the burn-in): they move the chain off the damaged image's code, where the corrected chain, accepting
  // few proposals, would otherwise stay. Chosen on test images 9000..9199 (bottom half missing, mnist-z32),
  // not on the reported ones: BCE on the missing pixels 207 with 0 warm-up steps, 166 with 5, 148 with 20.
  int mwg_warmup = 20;
  bool keep_frames = true;  // fill Restored::frames (off for many images: T * D floats each)
};

struct Restored {
  std::vector<float> image;   // (D) the restoration; for the missing kinds the observed pixels are clamped
  std::vector<float> frames;  // (T, D) the estimate after each iteration, for the animation (iterative only)
  int iterations = 0;         // T
  double acceptance = -1;     // Metropolis-within-Gibbs: the share of proposals accepted after the warm-up; -1 otherwise
  std::vector<float> code;    // (Z) the code behind the result: the encoder's mean (one-pass, posterior mean),
                              // the chain's last z, MAP's z; empty for the baselines
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
// What the methods do (x~ the damaged image, hidden pixels 0; every forward pass on m.infer's packed kernel, or
// on model.hpp's Eigen ops when m.infer is null, except MAP's decoder passes, which are model.hpp's because its
// backward pass needs their activations):
//   one-pass: decoder mean at the encoder's mean for x~.
//   posterior-mean: decoder means averaged over `samples` codes z ~ q(z | x~).
//   pseudo-gibbs, mwg: the chain (z, x_m) from z = the encoder's mean for x~ and x_m = 0. Each iteration
//     proposes z' = mu + sigma * eps from q(. | x_o, x_m); pseudo-Gibbs always takes it, Metropolis-within-Gibbs
//     after its mwg_warmup steps takes it when mwg_accept(mwg_log_ratio(...), u); then x_m ~ Bernoulli(decoder
//     mean at z), one pixel at a time. The result is the decoder mean at the current z averaged over the
//     iterations after the burn-in; a frame is that running average (during the burn-in, the current mean).
//   map: Adam on z, minimising -log p(observed | z) + ||z||^2 / 2; frame t is the decoder mean at z after step
//     t; the result is the last frame. Missing kinds: from the encoder's mean for x~, with the decoder's
//     Bernoulli BCE on the observed pixels. Gaussian noise: from z = 0 (the encoder never saw noise: its code for
//     the noisy image starts further away), with the noise's likelihood on every pixel, the clean value being
//     the decoder mean p: y = clip(p + sigma n, 0, 1), so (y - p)^2 / (2 sigma^2) inside (0, 1) and the clipped
//     tails -log Phi(-p / sigma) at y = 0, -log Phi((p - 1) / sigma) at y = 1. The step size and the start were
//     chosen on test images 9000..9199, not on the reported ones.
//   mean-image: pca.mean. pca: pca_fill_observed for the missing kinds, pca_reconstruct for noise.
//   median3x3: median3x3 of x~.
// For the missing kinds every result and frame has the observed pixels clamped to x~'s.
Status restore(const RepairModels& m, const Damaged& d, Restore r, const RestoreOptions& opt, Restored& out);
// n images at once (one kernel call per layer for the whole batch: the CLI's path). Image i draws from its own
// stream Pcg32(prng_mix(opt.seed, first_index + i), kRestoreStream), so its result does not depend on the
// batch it is in (to the kernel's rounding, which is the same for every batch size). restore() is image 0 of a
// batch of one. Draw order per iteration of the chains: Z normals (eps), one uniform (the accept's u, drawn by
// pseudo-Gibbs too), D uniforms (one per pixel, hidden or not); posterior-mean: Z normals per sample.
// out[0..n) are replaced only on success; the first image that fails names itself ("image 3: ...").
constexpr uint64_t kRestoreStream = 0x2e5702eULL;
Status restore_batch(const RepairModels& m, const Damaged* const* ds, int n, Restore r, const RestoreOptions& opt,
                     uint64_t first_index, Restored* out);

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
