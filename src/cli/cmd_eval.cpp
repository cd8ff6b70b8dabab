// `vae eval`: a split's one-sample ELBO (grey and binarised) and its terms (with --samples S averaged over S draws
// of z per image, with a standard error), with --iw K the importance-weighted NLL and its percentiles; for a
// label-conditioned model its classifier's, analogies' and NLL figures; --write-metadata stores them in the model
// file. The evaluation itself is evaluation.cpp's, shared with `vae quantize`.
#include <algorithm>
#include <string>

#include "common.hpp"
#include "evaluation.hpp"

namespace cli {

namespace {

int run_eval(Args& a) {
  // Option values first: a usage error is reported before anything is loaded.
  EvalProtocol p;
  p.split = a.choice("split", {"test", "train"});
  a.choice("data", {"mnist", "fashion"});
  const int limit = a.has("limit") ? int(a.integer("limit", 1, 100000000)) : 0;
  p.threads = int(a.integer("threads", 1, 256));
  p.seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  p.K = int(a.integer("iw", 0, 1000000));
  p.bin_seed = uint64_t(a.integer("binarize-seed", 0, 1LL << 62));
  p.samples = a.has("samples") ? int(a.integer("samples", 1, 100000)) : 0;
  const std::string path = a.str("model");
  vae::StFile file;
  if (Status s = vae::st_load(path, file); !s) die("eval", s);
  const EvalModel m = eval_model_load("eval", path, file);
  const vae::Dataset ds = load_data("eval", a, p.split);
  const int n = limit > 0 ? std::min(ds.count, limit) : ds.count;
  const vae::Metadata figures = eval_figures("eval", path, m, file.metadata, ds, n, p);
  if (a.has("write-metadata")) write_figures("eval", path, figures);
  return 0;
}

}  // namespace

Command command_eval() {
  return {"eval", "Test-set ELBO (grey and binarised), its terms, and with --iw K the importance-weighted NLL.",
          {kModel, kData, kDataDir, kRoot,
           {"split", "NAME", "test", "test or train"},
           {"iw", "K", "0", "importance samples for log p(x) (Burda et al. 2015); 0: skip"},
           {"samples", "S", nullptr, "average the ELBO over S draws of z per image and print its standard error"},
           {"binarize-seed", "N", "0", "seed of the fixed stochastic binarisation of the images"},
           {"limit", "N", nullptr, "only the first N images"},
           {"write-metadata", nullptr, nullptr, "store the figures in the model file's metadata"},
           kSeed, kThreads},
          run_eval};
}

}  // namespace cli
