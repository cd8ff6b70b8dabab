// The studio's computations: one batched encoder or decoder pass per request, noise from the project PRNG with
// fixed seeds so that what is shown for a given drawing never flickers.
#include "app/studio.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "vae/figures.hpp"
#include "vae/train.hpp"

namespace app {

void decode_codes(const vae::VaeInfer& m, const std::vector<float>& codes, int count, std::vector<float>& images) {
  images.clear();
  if (count <= 0) return;
  images.resize(size_t(count) * size_t(m.arch.D));
  vae::InferScratch s;
  vae::infer_decode(m, codes.data(), count, images.data(), s);
}

namespace {

// A fresh analysis of input; false (and empty) when it is not D values or holds no ink.
bool analysis_start(const std::vector<float>& input, int D, Analysis& out) {
  out = Analysis{};
  out.input = input;
  double ink = 0;
  for (float v : input) ink += v;
  out.empty = int(input.size()) != D || ink < 1e-3;
  return !out.empty;
}

// The posterior q(z|x) = N(mu, diag exp(logvar)) (Z, 1): its mean, sigma and closed-form KL.
void analysis_posterior(const vae::Matrix& mu, const vae::Matrix& logvar, Analysis& out) {
  const int Z = int(mu.rows());
  out.mu.assign(mu.data(), mu.data() + Z);
  out.sigma.resize(size_t(Z));
  for (int j = 0; j < Z; ++j) out.sigma[size_t(j)] = std::exp(0.5f * logvar(j, 0));
  Eigen::RowVectorXf kl;
  vae::kl_forward(mu, logvar, kl);
  out.kl = kl[0];
}

}  // namespace

void analyze_input(const vae::VaeInfer& m, const std::vector<float>& input, const std::vector<double>& nll_percentiles,
                   Analysis& out, bool with_iw) {
  const int D = m.arch.D, Z = m.arch.Z;
  if (!analysis_start(input, D, out)) return;
  vae::InferScratch s;
  vae::Matrix mu(Z, 1), logvar(Z, 1);
  vae::infer_encode(m, input.data(), 1, mu.data(), logvar.data(), s);
  analysis_posterior(mu, logvar, out);
  out.recon.resize(size_t(D));
  vae::infer_decode(m, mu.data(), 1, out.recon.data(), s);

  // Posterior samples z = mu + sigma * eps, decoded in one batch; their mean -log p(x|z) is the ELBO's
  // reconstruction term (a kPosteriorSamples-sample estimate of the expectation).
  vae::Pcg32 rng(kAnalysisSeed, 1);
  vae::Matrix eps(Z, kPosteriorSamples);
  for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
  vae::Matrix zs;
  vae::reparam_forward<float>(mu.replicate(1, kPosteriorSamples), logvar.replicate(1, kPosteriorSamples), eps, zs);
  vae::Matrix logits(D, kPosteriorSamples);
  vae::infer_decode(m, zs.data(), kPosteriorSamples, logits.data(), s, true);
  const Eigen::Map<const vae::Matrix> X(input.data(), D, 1);
  const vae::Matrix Xs = X.replicate(1, kPosteriorSamples);
  Eigen::RowVectorXf rec;
  vae::bce_forward(logits, Xs, rec);
  out.rec = double(rec.mean());
  out.samples.assign(logits.data(), logits.data() + logits.size());
  vae::dense_sigmoid(out.samples.data(), out.samples.size());

  if (!with_iw) return;
  // log p(x) by importance sampling, on the input binarised as the test set was (Burda et al. 2015).
  std::vector<float> binary(input.size());
  vae::binarize(input.data(), input.size(), kAnalysisSeed, binary.data());
  std::vector<double> lp;
  vae::infer_iwae(m, Eigen::Map<const vae::Matrix>(binary.data(), D, 1), kIwSamples, kAnalysisSeed, 0, s, lp);
  out.log_px = lp[0];
  out.percentile = percentile_of_nll(nll_percentiles, -out.log_px);
}

void analyze_input_conditional(const vae::CvaeInfer& m, const std::vector<float>& input, int label, Analysis& out) {
  const int D = m.net.arch.D, Z = m.net.arch.Z, C = m.C;
  if (!analysis_start(input, D, out)) return;
  vae::InferScratch s;
  out.probs.resize(size_t(C));
  vae::infer_classify(m, input.data(), 1, out.probs.data(), s);
  out.predicted = int(std::max_element(out.probs.begin(), out.probs.end()) - out.probs.begin());
  out.label = label >= 0 && label < C ? label : out.predicted;
  const std::vector<float> y = vae::onehot_labels(C, out.label, 1);
  vae::Matrix mu(Z, 1), logvar(Z, 1);
  vae::infer_encode_conditional(m, input.data(), y.data(), 1, mu.data(), logvar.data(), s);
  analysis_posterior(mu, logvar, out);
  out.recon.resize(size_t(D));
  vae::infer_decode_conditional(m, mu.data(), y.data(), 1, out.recon.data(), s);
}

std::vector<double> nll_percentiles_from_meta(const vae::Metadata& meta) {
  return vae::meta_nll_percentiles(meta, "test");
}

double percentile_of_nll(const std::vector<double>& q, double nll) {
  if (q.size() != 101) return -1;
  // q[p] is the NLL below which p % of the test set lies; the share above nll is 100 - (where nll falls).
  if (nll <= q.front()) return 100;
  if (nll >= q.back()) return 0;
  const size_t hi = size_t(std::upper_bound(q.begin(), q.end(), nll) - q.begin());
  const double lo_v = q[hi - 1], hi_v = q[hi];
  const double p = double(hi - 1) + (hi_v > lo_v ? (nll - lo_v) / (hi_v - lo_v) : 0.0);
  return 100.0 - p;
}

std::vector<float> plane_to_latent(const vae::LatentMap& map, int Z, const std::vector<float>& through, float a,
                                   float b) {
  std::vector<float> z(size_t(Z), 0.f);
  if (Z == 2) {
    z[0] = a;
    z[1] = b;
  } else if (map.kind == "pca") {
    const std::vector<float>& t = int(through.size()) == Z ? through : map.center;
    vae::latent_map_unproject(map, a, b, t.data(), Z, z.data());
  } else {
    if (int(through.size()) == Z) z = through;
    z[0] = a;
    if (Z > 1) z[1] = b;
  }
  return z;
}

void latent_to_plane(const vae::LatentMap& map, const std::vector<float>& z, float out[2]) {
  out[0] = out[1] = 0.f;
  if (z.empty()) return;
  if (z.size() != 2 && map.kind == "pca") {
    vae::latent_map_project(map, z.data(), int(z.size()), out);
    return;
  }
  out[0] = z[0];
  out[1] = z.size() > 1 ? z[1] : 0.f;
}

void grid_cell_plane(const GridView& g, int row, int col, float& a, float& b) {
  const std::vector<float> axis = vae::grid_axis(g.n, g.spacing, g.range);
  a = g.center_a + axis[size_t(col)] / g.zoom;
  b = g.center_b + axis[size_t(g.n - 1 - row)] / g.zoom;
}

void grid_codes(const vae::LatentMap& map, int Z, const std::vector<float>& through, const GridView& g,
                std::vector<float>& codes) {
  const std::vector<float> axis = vae::grid_axis(g.n, g.spacing, g.range);
  codes.assign(size_t(g.n) * size_t(g.n) * size_t(Z), 0.f);
  for (int r = 0; r < g.n; ++r)
    for (int c = 0; c < g.n; ++c) {
      const std::vector<float> z = plane_to_latent(map, Z, through, g.center_a + axis[size_t(c)] / g.zoom,
                                                   g.center_b + axis[size_t(g.n - 1 - r)] / g.zoom);
      std::copy(z.begin(), z.end(), codes.begin() + std::ptrdiff_t(size_t(r * g.n + c) * Z));
    }
}

std::vector<float> prior_codes(int Z, int count, float temperature, uint64_t seed) {
  return vae::prior_codes(Z, count, temperature, seed);
}

std::vector<float> morph_codes(const std::vector<float>& a, const std::vector<float>& b, int steps, bool spherical) {
  std::vector<float> out;
  for (int i = 0; i < steps; ++i) {
    const float t = steps > 1 ? float(i) / float(steps - 1) : 0.f;
    const std::vector<float> z = spherical ? vae::slerp(a, b, t) : vae::lerp(a, b, t);
    out.insert(out.end(), z.begin(), z.end());
  }
  return out;
}

Sheet tile_images(const std::vector<float>& images, int count, int side, int cols) {
  cols = std::max(1, std::min(cols, std::max(count, 1)));
  const int rows = (std::max(count, 1) + cols - 1) / cols;
  Sheet sheet;
  const int width = sheet.width = cols * side + (cols + 1);
  sheet.height = rows * side + (rows + 1);
  sheet.pixels.assign(size_t(width) * size_t(sheet.height), 0.15f);
  for (int i = 0; i < count; ++i) {
    const int x0 = 1 + (i % cols) * (side + 1), y0 = 1 + (i / cols) * (side + 1);
    for (int y = 0; y < side; ++y)
      std::copy_n(images.begin() + std::ptrdiff_t(size_t(i) * side * side + size_t(y) * side), side,
                  sheet.pixels.begin() + std::ptrdiff_t(size_t(y0 + y) * width + x0));
  }
  return sheet;
}

void map_home(const vae::LatentMap& map, float view[3]) {
  float lo[2] = {0, 0}, hi[2] = {0, 0};
  for (int i = 0; i < map.count(); ++i)
    for (int k = 0; k < 2; ++k) {
      const float v = map.points[size_t(2 * i + k)];
      lo[k] = i ? std::min(lo[k], v) : v;
      hi[k] = i ? std::max(hi[k], v) : v;
    }
  view[0] = (lo[0] + hi[0]) / 2;
  view[1] = (lo[1] + hi[1]) / 2;
  view[2] = std::max(1e-3f, std::max(hi[0] - lo[0], hi[1] - lo[1]) * 1.05f);
}

std::vector<uint8_t> map_raster(const vae::LatentMap& map, const float view[3], int side, float dot,
                                const uint32_t palette[10], uint32_t background) {
  side = std::max(side, 1);
  std::vector<uint8_t> rgba(size_t(side) * size_t(side) * 4);
  for (size_t i = 0; i < rgba.size(); i += 4)
    for (int c = 0; c < 4; ++c) rgba[i + size_t(c)] = uint8_t(background >> (8 * c));
  const float px = float(side) / std::max(view[2], 1e-12f);  // pixels per plane unit
  for (int i = 0; i < map.count(); ++i) {
    // The dot covers the pixels whose centres fall inside it, as a rasteriser fills a rectangle.
    const float x = (map.points[size_t(2 * i)] - view[0]) * px + 0.5f * float(side);
    const float y = (view[1] - map.points[size_t(2 * i + 1)]) * px + 0.5f * float(side);
    if (!(std::isfinite(x) && std::isfinite(y))) continue;
    const int x0 = std::max(0, int(std::ceil(x - dot / 2 - 0.5f))), x1 = std::min(side, int(std::ceil(x + dot / 2 - 0.5f)));
    const int y0 = std::max(0, int(std::ceil(y - dot / 2 - 0.5f))), y1 = std::min(side, int(std::ceil(y + dot / 2 - 0.5f)));
    const uint32_t c = palette[map.labels[size_t(i)] % 10];
    const float a = float(c >> 24) / 255.f;
    for (int r = y0; r < y1; ++r)
      for (int k = x0; k < x1; ++k) {
        uint8_t* p = &rgba[(size_t(r) * size_t(side) + size_t(k)) * 4];
        for (int ch = 0; ch < 3; ++ch)
          p[ch] = uint8_t(std::lround(float((c >> (8 * ch)) & 255) * a + float(p[ch]) * (1.f - a)));
      }
  }
  return rgba;
}

}  // namespace app
