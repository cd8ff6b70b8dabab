// The shared evaluation (evaluation.hpp): a plain model's ELBO terms and importance-weighted NLL, a label-
// conditioned model's classifier, analogies and NLL, and writing the figures into the model file.
#include "evaluation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

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

// A plain model: the ELBO and its terms on grey and on binarised images, and with K > 0 the importance-weighted
// -log p(x) with its standard error and percentiles. The figures go into meta under prefix ("test.").
void eval_plain(const vae::Vae& m, const std::vector<float>& grey, const std::vector<float>& bin, int n,
                const EvalProtocol& p, vae::Metadata& meta, const std::string& prefix) {
  const TermsReport g = elbo_terms(m, grey, n, p.samples, p.seed, p.threads);
  std::printf("grey    ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  %s, grey targets\n", g.elbo, g.rec, g.kl,
              estimate_text(p.samples, g.se).c_str());
  const TermsReport b = elbo_terms(m, bin, n, p.samples, p.seed, p.threads);
  std::printf("binary  ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  %s, binarised with seed %llu\n",
              b.elbo, b.rec, b.kl, estimate_text(p.samples, b.se).c_str(), (unsigned long long)p.bin_seed);
  auto put = [&meta, &prefix](const char* key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    vae::meta_set(meta, prefix + key, buf);
  };
  put("elbo_grey", g.elbo);
  put("rec_grey", g.rec);
  put("kl_grey", g.kl);
  put("elbo_binary", b.elbo);
  put("rec_binary", b.rec);
  put("kl_binary", b.kl);
  if (p.samples > 0) vae::meta_set(meta, prefix + "elbo_samples", std::to_string(p.samples));
  if (p.K <= 0) return;
  std::vector<double> lp;
  const auto t0 = std::chrono::steady_clock::now();
  vae::eval_iwae(m, bin.data(), n, p.K, p.seed, p.threads, lp, [n](int done) {
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
              -mean, se, p.K, secs);
  put("nll", -mean);
  vae::meta_set(meta, prefix + "nll_k", std::to_string(p.K));
  // Percentiles of -log p(x) over the set, so the studio can place a drawing among them.
  std::vector<double> nll(lp.size());
  for (size_t i = 0; i < lp.size(); ++i) nll[i] = -lp[i];
  vae::meta_set_nll_percentiles(meta, p.split, std::move(nll));
}

}  // namespace

EvalModel eval_model_load(const char* cmd, const std::string& path, const vae::StFile& file) {
  EvalModel m;
  m.conditional = !file.meta(vae::kMetaClasses).empty();
  const Status s = m.conditional ? vae::cvae_from_st(file, m.cvae) : vae::model_from_st(file, m.plain);
  if (!s) die(cmd, s.with_context(path));
  return m;
}

vae::Metadata eval_figures(const char* cmd, const std::string& path, const EvalModel& m, vae::Metadata meta,
                           const vae::Dataset& ds, int n, const EvalProtocol& p) {
  if (ds.pixels() != m.arch().D)
    die(cmd, Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                           std::to_string(m.arch().D)));
  const std::vector<float> grey(ds.images.begin(), ds.images.begin() + std::ptrdiff_t(size_t(n) * ds.pixels()));
  std::vector<float> bin(grey.size());
  vae::binarize(grey.data(), grey.size(), p.bin_seed, bin.data());
  const std::string prefix = p.split + ".";
  if (m.conditional) {
    std::printf("model       %s  %s conditioned on %d labels\ndata        %s, %d images, binarised with seed %llu\n",
                path.c_str(), m.arch().describe().c_str(), m.cvae.C, ds.name.c_str(), n,
                (unsigned long long)p.bin_seed);
    eval_conditional(m.cvae, bin, ds.labels.data(), n, p.K, p.seed, p.threads, meta, prefix);
  } else {
    std::printf("model   %s  %s, %s parameters, data set %s\n", path.c_str(), m.arch().describe().c_str(),
                thousands(double(vae::layout_parameter_count(m.plain.layout))).c_str(),
                vae::meta_get(meta, "dataset", "?").c_str());
    std::printf("data    %s, %d images\n", ds.name.c_str(), n);
    eval_plain(m.plain, grey, bin, n, p, meta, prefix);
  }
  vae::meta_set(meta, prefix + "images", std::to_string(n));
  vae::meta_set(meta, prefix + "binarize_seed", std::to_string(p.bin_seed));
  vae::meta_set(meta, prefix + "eval_command", g_command);
  return meta;
}

void write_figures(const char* cmd, const std::string& path, const vae::Metadata& meta) {
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die(cmd, s);
  f.metadata = meta;
  if (!(s = vae::st_save(path, f))) die(cmd, s);
  std::printf("wrote the figures into %s's metadata\n", path.c_str());
}

}  // namespace cli
