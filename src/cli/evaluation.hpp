// The evaluation `vae eval` runs and a model file's figures come from (the README's table: binarised with seed 0,
// the importance-weighted bound with K samples): shared by `vae eval` and `vae quantize`, which re-evaluates the
// file it wrote by the same protocol. Prints each figure as it comes; the estimators are train.hpp's.
#pragma once
#include <cstdint>
#include <string>

#include "common.hpp"
#include "vae/cvae.hpp"

namespace cli {

struct EvalProtocol {
  std::string split = "test";  // the figures' prefix ("test.")
  int K = 0;                   // importance samples for -log p(x); 0: none
  int samples = 0;             // > 0: a plain model's ELBO averaged over this many draws of z per image
  uint64_t seed = 1;           // the estimators' noise
  uint64_t bin_seed = 0;       // the fixed stochastic binarisation of the images
  int threads = 2;
};

// A model file's model: a plain VAE, or a label-conditioned one (vae.classes in its metadata).
struct EvalModel {
  bool conditional = false;
  vae::Vae plain;
  vae::Cvae cvae;
  const vae::Arch& arch() const { return conditional ? cvae.net.arch : plain.arch; }
};
// The model in file, read from path; a file that does not load ends the command with its one line (exit 1).
EvalModel eval_model_load(const char* cmd, const std::string& path, const vae::StFile& file);

// Evaluates m on the first n images of ds (a data set of another image size ends the command), printing the
// figures; returns meta with them set under "<split>." and how they were made (images, binarize_seed,
// eval_command). A plain model's: the one-sample ELBO on grey and on binarised images and its terms, with K the
// NLL and its percentiles; a conditional model's: its classifier's error, its analogies' agreement, with K
// -log p(x|y), -log p(x) and the generative classifier's error.
vae::Metadata eval_figures(const char* cmd, const std::string& path, const EvalModel& m, vae::Metadata meta,
                           const vae::Dataset& ds, int n, const EvalProtocol& p);

// The figures into the model file at path: its metadata replaced by meta, every tensor kept in its own dtype.
void write_figures(const char* cmd, const std::string& path, const vae::Metadata& meta);

}  // namespace cli
