// `vae eval`: a split's one-sample ELBO (grey and binarised) and its terms (with --samples S averaged over S draws
// of z per image, with a standard error), with --iw K the importance-weighted NLL and its percentiles;
// --write-metadata stores them in the model file. The estimators are train.hpp's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "common.hpp"
#include "vae/figures.hpp"
#include "vae/infer.hpp"
#include "vae/train.hpp"

namespace cli {

namespace {

struct TermsReport {
  double elbo, rec, kl;
  double se;  // Monte Carlo standard error of elbo, with --samples
};

// samples == 0: the one-sample ELBO (eval_elbo); else each image's reconstruction averaged over that many draws.
TermsReport elbo_terms(const vae::Vae& m, const std::vector<float>& images, int n, int samples, uint64_t seed,
                       int threads) {
  if (samples == 0) {
    const vae::ElboSum s = vae::eval_elbo(m, images.data(), n, seed, threads);
    return {s.elbo() / n, s.rec / n, s.kl / n, 0.0};
  }
  const vae::ElboEstimate e = vae::eval_elbo_samples(m, images.data(), n, samples, seed, threads);
  return {e.sum.elbo() / n, e.sum.rec / n, e.sum.kl / n, e.standard_error()};
}

// "one-sample" or "mean of S draws of z per image, +- 0.012 s.e." for the ELBO lines.
std::string estimate_text(int samples, double se) {
  if (samples <= 1) return "one-sample";
  char buf[96];
  std::snprintf(buf, sizeof buf, "mean of %d draws of z per image, +- %.3f s.e.", samples, se);
  return buf;
}

// A label-conditioned model (cvae.hpp) on the images with their labels: its classifier's error, and with K > 0
// -log p(x|y) by the importance-weighted bound of the plain model it is for label y (cvae_for_label), the same K
// draws for every label; -log p(x) = -log sum_y p(x|y) p(y) with p(y) = 1/C; and the generative classifier
// argmax_y log p(x|y) (Bayes' rule with the uniform prior) with its error.
// The figures go into meta under prefix ("test.").
void eval_conditional(const vae::Cvae& m, const std::vector<float>& bin, const uint8_t* labels, int n, int K,
                      uint64_t seed, int threads, vae::Metadata& meta, const std::string& prefix) {
  auto put = [&meta, &prefix](const char* key, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    vae::meta_set(meta, prefix + key, buf);
  };
  const int D = m.net.arch.D;
  vae::CvaeWorkspaceT<float> ws;
  int wrong = 0;
  for (int b0 = 0; b0 < n; b0 += 500) {
    const int k = std::min(500, n - b0);
    vae::cvae_classify(m, Eigen::Map<const vae::Matrix>(bin.data() + size_t(b0) * D, D, k), ws);
    for (int j = 0; j < k; ++j) {
      Eigen::Index best = 0;
      ws.cls_logits.col(j).maxCoeff(&best);
      wrong += int(best) != labels[b0 + j];
    }
  }
  std::printf("classifier  q(y|x) error %.2f%% (%d of %d), binarised images\n", 100.0 * wrong / n, wrong, n);
  put("classifier_error", 100.0 * wrong / n);
  // Analogies (Kingma et al. 2014, Fig. 1): each image's style, read with its label, drawn as every label; the
  // share of these the classifier reads as the label they were drawn with says how well the label, not the style
  // code, carries the class.
  const vae::CvaeInfer packed = vae::infer_make_conditional(m);
  vae::InferScratch scratch;
  int agree = 0;
  std::vector<float> drawn, q;
  for (int b0 = 0; b0 < n; b0 += 100) {
    const int k = std::min(100, n - b0);
    const std::vector<int> y(labels + b0, labels + b0 + k);
    drawn.resize(size_t(k) * m.C * D);
    q.resize(size_t(k) * m.C * m.C);
    vae::infer_analogies(packed, bin.data() + size_t(b0) * D, y.data(), k, drawn.data(), scratch);
    vae::infer_classify(packed, drawn.data(), k * m.C, q.data(), scratch);
    for (int i = 0; i < k * m.C; ++i)
      agree += std::max_element(q.begin() + i * m.C, q.begin() + (i + 1) * m.C) - (q.begin() + i * m.C) == i % m.C;
  }
  std::printf("analogies   q(y|x) reads %.2f%% of the %d redrawn digits as the label they were drawn with\n",
              100.0 * agree / (double(n) * m.C), n * m.C);
  put("analogy_agreement", 100.0 * agree / (double(n) * m.C));
  if (K <= 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<double>> lp(size_t(m.C));  // log p(x|y) per label, per image
  for (int y = 0; y < m.C; ++y)
    vae::eval_iwae(vae::cvae_for_label(m, y), bin.data(), n, K, seed, threads, lp[size_t(y)], [n, y, &m](int done) {
      std::fprintf(stderr, "\r  importance sampling: label %d of %d, %d/%d images", y + 1, m.C, done, n);
    });
  std::fprintf(stderr, "\n");
  double nll_y = 0, nll = 0;
  int gen_wrong = 0;
  for (int i = 0; i < n; ++i) {
    double top = -INFINITY, sum = 0;
    int arg = 0;
    for (int y = 0; y < m.C; ++y)
      if (lp[size_t(y)][size_t(i)] > top) top = lp[size_t(y)][size_t(i)], arg = y;
    for (int y = 0; y < m.C; ++y) sum += std::exp(lp[size_t(y)][size_t(i)] - top);
    nll_y -= lp[labels[i]][size_t(i)];
    nll -= top + std::log(sum) - std::log(double(m.C));
    gen_wrong += arg != labels[i];
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("NLL         -log p(x|y) %.3f nats, -log p(x) %.3f nats (importance-weighted bound, K = %d, binarised, "
              "%.0fs)\n", nll_y / n, nll / n, K, secs);
  std::printf("generative  argmax_y log p(x|y) error %.2f%% (%d of %d)\n", 100.0 * gen_wrong / n, gen_wrong, n);
  put("nll_given_label", nll_y / n);
  put("nll", nll / n);
  put("generative_error", 100.0 * gen_wrong / n);
  vae::meta_set(meta, prefix + "nll_k", std::to_string(K));
}

// --write-metadata: the figures, with how they were made, into the model file (every tensor kept).
void write_figures(const std::string& path, vae::Metadata meta, const std::string& prefix, int n, uint64_t bin_seed) {
  vae::meta_set(meta, prefix + "images", std::to_string(n));
  vae::meta_set(meta, prefix + "binarize_seed", std::to_string(bin_seed));
  vae::meta_set(meta, prefix + "eval_command", g_command);
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("eval", s);
  f.metadata = std::move(meta);
  if (!(s = vae::st_save(path, f, vae::st_file_dtype(f)))) die("eval", s);
  std::printf("wrote the figures into %s's metadata\n", path.c_str());
}

int run_eval(Args& a) {
  // Option values first: a usage error is reported before anything is loaded.
  const std::string split = a.choice("split", {"test", "train"});
  a.choice("data", {"mnist", "fashion"});
  const int limit = a.has("limit") ? int(a.integer("limit", 1, 100000000)) : 0;
  const int threads = int(a.integer("threads", 1, 256));
  const uint64_t seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  const int K = int(a.integer("iw", 0, 1000000));
  const uint64_t bin_seed = uint64_t(a.integer("binarize-seed", 0, 1LL << 62));
  const int samples = a.has("samples") ? int(a.integer("samples", 1, 100000)) : 0;
  vae::Metadata meta;
  const std::string path = a.str("model");
  vae::StFile file;
  if (Status s = vae::st_load(path, file); !s) die("eval", s);
  if (!file.meta(vae::kMetaClasses).empty()) {  // a label-conditioned model: its own figures
    vae::Cvae cm;
    if (Status s = vae::cvae_from_st(file, cm); !s) die("eval", s.with_context(path));
    vae::Dataset ds = load_data("eval", a, split);
    const int n = limit > 0 ? std::min(ds.count, limit) : ds.count;
    std::vector<float> bin(size_t(n) * size_t(ds.pixels()));
    vae::binarize(ds.images.data(), bin.size(), bin_seed, bin.data());
    std::printf("model       %s  %s conditioned on %d labels\ndata        %s, %d images, binarised with seed %llu\n",
                path.c_str(), cm.net.arch.describe().c_str(), cm.C, ds.name.c_str(), n, (unsigned long long)bin_seed);
    vae::Metadata figures = file.metadata;
    const std::string prefix = split + ".";
    eval_conditional(cm, bin, ds.labels.data(), n, K, seed, threads, figures, prefix);
    if (a.has("write-metadata")) write_figures(path, figures, prefix, n, bin_seed);
    return 0;
  }
  vae::Vae m = load_model("eval", path, &meta);
  vae::Dataset ds = load_data("eval", a, split);
  if (ds.pixels() != m.arch.D) die("eval", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) +
                                                         " pixels, the model takes " + std::to_string(m.arch.D)));
  const int n = limit > 0 ? std::min(ds.count, limit) : ds.count;

  std::vector<float> grey(ds.images.begin(), ds.images.begin() + std::ptrdiff_t(size_t(n) * ds.pixels()));
  std::vector<float> bin(grey.size());
  vae::binarize(grey.data(), grey.size(), bin_seed, bin.data());

  std::printf("model   %s  %s, %s parameters, data set %s\n", path.c_str(), m.arch.describe().c_str(),
              thousands(double(vae::layout_parameter_count(m.layout))).c_str(), vae::meta_get(meta, "dataset", "?").c_str());
  std::printf("data    %s, %d images\n", ds.name.c_str(), n);
  const TermsReport g = elbo_terms(m, grey, n, samples, seed, threads);
  std::printf("grey    ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  %s, grey targets\n", g.elbo, g.rec, g.kl,
              estimate_text(samples, g.se).c_str());
  const TermsReport b = elbo_terms(m, bin, n, samples, seed, threads);
  std::printf("binary  ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  %s, binarised with seed %llu\n",
              b.elbo, b.rec, b.kl, estimate_text(samples, b.se).c_str(), (unsigned long long)bin_seed);
  char buf[64];
  auto put = [&meta, &buf](const char* key, double v) {
    std::snprintf(buf, sizeof buf, "%.3f", v);
    vae::meta_set(meta, key, buf);
  };
  const std::string prefix = std::string(split) + ".";
  put((prefix + "elbo_grey").c_str(), g.elbo);
  put((prefix + "rec_grey").c_str(), g.rec);
  put((prefix + "kl_grey").c_str(), g.kl);
  put((prefix + "elbo_binary").c_str(), b.elbo);
  put((prefix + "rec_binary").c_str(), b.rec);
  put((prefix + "kl_binary").c_str(), b.kl);
  if (samples > 0) vae::meta_set(meta, prefix + "elbo_samples", std::to_string(samples));
  if (K > 0) {
    std::vector<double> lp;
    const auto t0 = std::chrono::steady_clock::now();
    vae::eval_iwae(m, bin.data(), n, K, seed, threads, lp, [n](int done) {
      std::fprintf(stderr, "\r  importance sampling: %d/%d images", done, n);
    });
    std::fprintf(stderr, "\n");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double mean = 0, sq = 0;
    for (double v : lp) mean += v;
    mean /= n;
    for (double v : lp) sq += (v - mean) * (v - mean);
    const double se = n > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0;
    std::printf("NLL     %9.3f nats  (+- %.3f s.e.)  -log p(x), importance-weighted bound, K = %d, binarised (%.0fs)\n",
                -mean, se, K, secs);
    put((prefix + "nll").c_str(), -mean);
    vae::meta_set(meta, prefix + "nll_k", std::to_string(K));
    // Percentiles of -log p(x) over the set, so the studio can place a drawing among them.
    std::vector<double> nll(lp.size());
    for (size_t i = 0; i < lp.size(); ++i) nll[i] = -lp[i];
    vae::meta_set_nll_percentiles(meta, split, std::move(nll));
  }
  if (a.has("write-metadata")) write_figures(path, meta, prefix, n, bin_seed);
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
