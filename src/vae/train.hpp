// Training and evaluation: minibatch Adam on the negative ELBO with KL warm-up, a cosine learning-rate schedule,
// dynamic binarisation, a validation split with best-checkpoint selection, atomic per-epoch checkpoints and an
// exact resume. Evaluation: the ELBO and its terms, and the importance-weighted log p(x) over a data set.
// Prints nothing: progress goes to a callback.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vae/cvae.hpp"
#include "vae/idx.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/status.hpp"

namespace vae {

struct TrainConfig {
  std::string dataset = "mnist";  // "mnist" or "fashion"
  std::string data_dir;           // empty: the data set's default location
  std::string root = ".";         // project root, for the default MNIST location
  Arch arch;
  // A label-conditioned model (cvae.hpp) when classes > 0: the data set's labels condition the encoder and the
  // decoder, and the classifier q(y|x) (classifier_hidden) is trained beside them, its cross-entropy weighted by
  // class_weight (Kingma et al. 2014's alpha, per image).
  int classes = 0;
  std::vector<int> classifier_hidden = {512, 256};
  float class_weight = 1.f;
  int epochs = 100;
  int batch = 100;
  float lr = 1e-3f;
  float lr_final = 1e-5f;   // cosine decay from lr to lr_final over all steps
  int warmup_epochs = 10;   // KL weight beta rises linearly from 0 to 1 over these epochs (0: beta = 1)
  bool binarize = true;     // dynamic binarisation: x ~ Bernoulli(pixel), drawn anew for every step
  int val_count = 10000;    // the last val_count training images are held out
  int train_limit = 0;      // > 0: use only this many training images (tests, quick runs)
  uint64_t seed = 1;
  int threads = 2;
  std::string checkpoint;   // written every epoch (atomically); empty: none
  bool resume = false;      // continue from checkpoint if it exists
  std::string out;          // the best model, written at the end (atomically)
  DType out_dtype = DType::F32;
  std::string command;      // the command line, recorded in the model's metadata
  int stop_after_epochs = 0;  // > 0: return after this many epochs of this call (to test resume)
};

// A training checkpoint holds the weights unprefixed and, under these prefixes, Adam's first and second moments
// and the best weights so far, each a full set of the model's tensors (so `vae info` can check each one).
constexpr const char* kCheckpointAdamM = "adam.m.";
constexpr const char* kCheckpointAdamV = "adam.v.";
constexpr const char* kCheckpointBest = "best.";
constexpr const char* kCheckpointSets[3] = {kCheckpointAdamM, kCheckpointAdamV, kCheckpointBest};

// The model in f under a prefix: "" for a model file's weights (or a checkpoint's, leaving out its prefixed
// sets when `checkpoint`), or one of kCheckpointSets. An error names the set. A conditional model's (vae.classes
// in the metadata) comes as its net: its layout holds the classifier too (Layout::cls).
Status checkpoint_model_set(const StFile& f, const std::string& prefix, bool checkpoint, Vae& m);

// Floating-point operations of one training step per image: forward 2*in*out per layer; backward 2*in*out for
// dW and, except for the first layer, 2*in*out for dX. Biases, activations and the optimiser not counted.
double train_flops_per_image(const Layout& lay);

// Everything that must match for --resume to continue a run (epochs and the data set included).
std::string train_signature(const TrainConfig& c);

struct EpochReport {
  int epoch = 0, epochs = 0;  // 1-based epoch just finished, of epochs
  double train_elbo = 0, train_rec = 0, train_kl = 0;  // per image, nats, averaged over the epoch (beta = 1)
  double val_elbo = 0, val_rec = 0, val_kl = 0;
  double train_ce = 0, val_error = 0;  // a conditional model's: cross-entropy per image, classification error
  double images_per_s = 0;
  double seconds = 0;       // this epoch
  double eta_seconds = 0;   // estimated for the remaining epochs
  float lr = 0, beta = 0;   // at the end of the epoch
  bool best = false;        // the validation ELBO is the best so far
  bool resumed = false;     // the first report after a resume
};

// Runs training; calls on_epoch after each epoch. The final model (the best by validation ELBO) goes to cfg.out
// with its metadata. On a non-finite loss it stops with an error and leaves the last good checkpoint.
Status train_run(const TrainConfig& cfg, const std::function<void(const EpochReport&)>& on_epoch);

// Stochastic binarisation with a fixed seed: dst[i] = 1 if u_i < src[i] else 0, u_i from Pcg32(seed).
void binarize(const float* src, size_t n, uint64_t seed, float* dst);

// One-sample ELBO over a set of images (count, D) row-major; each image i gets noise from its own stream
// (seed, i), so the result does not depend on batching or threads.
ElboSum eval_elbo(const Vae& m, const float* images, int count, uint64_t seed, int threads);

// The ELBO over images (count, D) row-major with each image's reconstruction term averaged over S draws of z
// (the KL is closed form), and the Monte Carlo error of that average. Image i's draws come one after another from its eval_elbo stream (seed, i),
// so S = 1 is eval_elbo's figure, and the result does not depend on batching or threads.
struct ElboEstimate {
  ElboSum sum;         // rec: the images' S-draw means summed; kl summed; count images
  double rec_var = 0;  // sum over images of the variance of each image's mean, s_i^2 / S (0 when S == 1)
  int samples = 1;
  // Monte Carlo standard error of the per-image ELBO sum.elbo() / count, the images held fixed.
  double standard_error() const;
};
ElboEstimate eval_elbo_samples(const Vae& m, const float* images, int count, int S, uint64_t seed, int threads);

// A conditional model's one-sample ELBO of log p(x|y) and its classifier's cross-entropy and hits over images with
// their labels, the noise drawn as eval_elbo's.
CvaeSum eval_cvae(const Cvae& m, const float* images, const uint8_t* labels, int count, uint64_t seed, int threads);

// Importance-weighted log p(x) per image with K samples (Burda et al. 2015); images must be binary.
void eval_iwae(const Vae& m, const float* images, int count, int K, uint64_t seed, int threads,
               std::vector<double>& log_px, const std::function<void(int done)>& progress = nullptr);

}  // namespace vae
