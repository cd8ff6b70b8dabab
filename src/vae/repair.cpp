// Damage generators, the VAE's restorations, the baselines and their errors (see repair.hpp). Forward passes run
// on the packed kernel (infer.hpp), or on model.hpp's Eigen ops when no packed model is given; MAP's gradient
// always runs on model.hpp's ops. Not a trainer, and nothing here prints.
#include "vae/repair.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "vae/dense.hpp"

namespace vae {

namespace {

constexpr uint64_t kDamageStream = 0xda3a6e5ULL;

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

bool hides(Damage k) { return k == Damage::MissingPixels || k == Damage::MissingBlock || k == Damage::Mask; }

// ---- forward passes: the packed kernel, or model.hpp's ops (the reference) when m.infer is null ----

struct Net {
  const Vae& vae;
  const VaeInfer* infer;
  int D, Z;
  InferScratch s;
  Workspace ws;

  Net(const Vae& v, const VaeInfer* p) : vae(v), infer(p), D(v.arch.D), Z(v.arch.Z) {}

  // X (D, B) -> mu, logvar (Z, B), column-major.
  void encode(const float* X, int B, float* mu, float* logvar) {
    if (infer) return infer_encode(*infer, X, B, mu, logvar, s);
    vae_encode(vae, Eigen::Map<const Matrix>(X, D, B), ws);
    std::copy(ws.mu.data(), ws.mu.data() + size_t(Z) * size_t(B), mu);
    std::copy(ws.logvar.data(), ws.logvar.data() + size_t(Z) * size_t(B), logvar);
  }
  // codes (Z, B) -> logits (D, B).
  void decode_logits(const float* codes, int B, float* logits) {
    if (infer) return infer_decode(*infer, codes, B, logits, s, true);
    vae_decode_logits(vae, Eigen::Map<const Matrix>(codes, Z, B), ws);
    std::copy(ws.logits.data(), ws.logits.data() + size_t(D) * size_t(B), logits);
  }
};

// probs = sigmoid(logits), with the kernel's vector sigmoid (the same function infer_decode applies).
void sigmoid_into(const float* logits, size_t n, float* probs) {
  std::copy(logits, logits + n, probs);
  dense_sigmoid(probs, n);
}

// -log p(x | logits) = sum_d softplus(l_d) - x_d l_d (model.hpp's bce_forward), in double.
double bce_logits(const float* x, const float* l, int D) {
  double s = 0;
  for (int d = 0; d < D; ++d) {
    const double v = l[d];
    s += std::max(v, 0.0) - double(x[d]) * v + std::log1p(std::exp(-std::fabs(v)));
  }
  return s;
}

double log_normal_std(const float* z, int Z) {
  double s = 0;
  for (int j = 0; j < Z; ++j) s += double(z[j]) * z[j];
  return -0.5 * s - Z * kHalfLog2Pi;
}

// log N(z; mu, diag(exp(logvar))).
double log_gaussian(const float* z, const float* mu, const float* logvar, int Z) {
  double s = 0;
  for (int j = 0; j < Z; ++j) {
    const double d = double(z[j]) - mu[j];
    s += -0.5 * d * d / std::exp(double(logvar[j])) - 0.5 * double(logvar[j]) - kHalfLog2Pi;
  }
  return s;
}

// Writes an estimate e (D) as the result: hidden pixels from e, observed ones from the damaged image (missing
// kinds); for the noise kinds every pixel is the estimate's.
void clamp_into(const Damaged& d, const float* e, float* out) {
  const int D = d.D();
  for (int i = 0; i < D; ++i) out[i] = d.missing && d.observed[size_t(i)] ? d.image[size_t(i)] : e[i];
}

Status check_options(const RestoreOptions& o) {
  if (o.iterations < 1 || o.iterations > 1000000)
    return Status::error("iterations must be from 1 to 1000000, not " + std::to_string(o.iterations));
  if (o.burn_in < 0 || o.burn_in >= o.iterations)
    return Status::error("burn-in must be from 0 to the iterations - 1 (" + std::to_string(o.iterations - 1) + "), not " +
                         std::to_string(o.burn_in));
  if (o.mwg_warmup < 0) return Status::error("Metropolis-within-Gibbs warm-up must be 0 or more, not " + std::to_string(o.mwg_warmup));
  if (o.samples < 1 || o.samples > 100000)
    return Status::error("samples must be from 1 to 100000, not " + std::to_string(o.samples));
  if (!(o.map_step > 0.f && o.map_step <= 10.f))
    return Status::error("MAP step must be above 0 and at most 10, not " + num(o.map_step));
  return Status::success();
}

// ---- the methods, each on a batch of B images; image b's random numbers come from rngs[b] ----

struct Batch {
  const Damaged* const* d;
  int B;
  std::vector<float> X;  // (D, B) the damaged images
};

void one_pass(Net& net, const Batch& b, std::vector<float>& est, std::vector<float>& codes) {
  std::vector<float> lv(size_t(net.Z) * size_t(b.B)), l(size_t(net.D) * size_t(b.B));
  codes.resize(lv.size());
  net.encode(b.X.data(), b.B, codes.data(), lv.data());
  net.decode_logits(codes.data(), b.B, l.data());
  est.resize(l.size());
  sigmoid_into(l.data(), l.size(), est.data());
}

// The decoder means averaged over z ~ q(z | x~): Z normals per image for each sample, one sample after another.
void posterior_mean(Net& net, const Batch& b, int samples, std::vector<Pcg32>& rngs, std::vector<float>& est,
                    std::vector<float>& codes) {
  const int D = net.D, Z = net.Z, B = b.B;
  std::vector<float> mu(size_t(Z) * size_t(B)), lv(mu.size()), z(mu.size()), l(size_t(D) * size_t(B)), p(l.size());
  net.encode(b.X.data(), B, mu.data(), lv.data());
  std::vector<double> sum(l.size(), 0.0);
  for (int k = 0; k < samples; ++k) {
    for (int i = 0; i < B; ++i)
      for (int j = 0; j < Z; ++j) {
        const size_t q = size_t(i) * size_t(Z) + size_t(j);
        z[q] = mu[q] + std::exp(0.5f * lv[q]) * rngs[size_t(i)].normal();
      }
    net.decode_logits(z.data(), B, l.data());
    sigmoid_into(l.data(), l.size(), p.data());
    for (size_t q = 0; q < p.size(); ++q) sum[q] += p[q];
  }
  est.resize(l.size());
  for (size_t q = 0; q < est.size(); ++q) est[q] = float(sum[q] / samples);
  codes = mu;
}

// Pseudo-Gibbs (metropolis = false) or Metropolis-within-Gibbs on the chain (z, x_m), observed pixels fixed.
// Each iteration: q(. | x_o, x_m) from the encoder, z' = mu + sigma * eps, the decoder's logits at z'; then
// z <- z' always (pseudo-Gibbs, and Metropolis-within-Gibbs's warm-up steps) or when u < rho; then
// x_m ~ Bernoulli(sigmoid(logits(z))) pixel by pixel. The estimate is the decoder mean at the current z during
// the burn-in, afterwards the running average of the decoder means since the burn-in.
// The random numbers are drawn in a fixed order whatever the chain decides: Z normals (eps), one uniform (u),
// D uniforms (one per pixel, hidden or not), so two builds whose sums round differently share them to the end.
void chain(Net& net, const Batch& b, bool metropolis, const RestoreOptions& o, std::vector<Pcg32>& rngs,
           std::vector<float>& est, std::vector<float>& codes, std::vector<std::vector<float>>* frames,
           std::vector<double>& acceptance) {
  const int D = net.D, Z = net.Z, B = b.B, T = o.iterations, warmup = std::min(o.mwg_warmup, o.burn_in);
  std::vector<float> X = b.X;  // (D, B) the chain's current images
  std::vector<float> mu(size_t(Z) * size_t(B)), lv(mu.size()), eps(mu.size()), zp(mu.size()), z(mu.size());
  std::vector<float> lp(size_t(D) * size_t(B)), lc(lp.size()), pc(lp.size()), u(lp.size());
  std::vector<double> sum(lp.size(), 0.0);
  std::vector<int> accepted(size_t(B), 0);
  std::vector<float> ua(static_cast<size_t>(B));
  std::vector<float> e(static_cast<size_t>(D));
  for (int t = 0; t < T; ++t) {
    net.encode(X.data(), B, mu.data(), lv.data());
    if (t == 0) {  // the chain starts at the encoder's mean for the damaged image (hidden pixels 0)
      z = mu;
      net.decode_logits(z.data(), B, lc.data());
    }
    for (int i = 0; i < B; ++i) {
      Pcg32& r = rngs[size_t(i)];
      for (int j = 0; j < Z; ++j) eps[size_t(i) * size_t(Z) + size_t(j)] = r.normal();
      ua[size_t(i)] = r.uniform();
      for (int d = 0; d < D; ++d) u[size_t(i) * size_t(D) + size_t(d)] = r.uniform();
    }
    for (size_t q = 0; q < zp.size(); ++q) zp[q] = mu[q] + std::exp(0.5f * lv[q]) * eps[q];
    net.decode_logits(zp.data(), B, lp.data());
    const bool warm = !metropolis || t < warmup;
    for (int i = 0; i < B; ++i) {
      const size_t zo = size_t(i) * size_t(Z), xo = size_t(i) * size_t(D);
      bool take = warm;
      if (!warm) {
        MwgTerms prop, cur;
        prop.log_prior = log_normal_std(zp.data() + zo, Z);
        prop.log_lik = -bce_logits(X.data() + xo, lp.data() + xo, D);
        prop.log_q = log_gaussian(zp.data() + zo, mu.data() + zo, lv.data() + zo, Z);
        cur.log_prior = log_normal_std(z.data() + zo, Z);
        cur.log_lik = -bce_logits(X.data() + xo, lc.data() + xo, D);
        cur.log_q = log_gaussian(z.data() + zo, mu.data() + zo, lv.data() + zo, Z);
        take = mwg_accept(mwg_log_ratio(prop, cur), ua[size_t(i)]);
        accepted[size_t(i)] += take;
      }
      if (take) {
        std::copy(zp.begin() + std::ptrdiff_t(zo), zp.begin() + std::ptrdiff_t(zo + size_t(Z)), z.begin() + std::ptrdiff_t(zo));
        std::copy(lp.begin() + std::ptrdiff_t(xo), lp.begin() + std::ptrdiff_t(xo + size_t(D)), lc.begin() + std::ptrdiff_t(xo));
      }
    }
    sigmoid_into(lc.data(), lc.size(), pc.data());
    for (int i = 0; i < B; ++i) {
      const Damaged& d = *b.d[i];
      const size_t xo = size_t(i) * size_t(D);
      for (int k = 0; k < D; ++k)
        if (!d.observed[size_t(k)]) X[xo + size_t(k)] = u[xo + size_t(k)] < pc[xo + size_t(k)] ? 1.f : 0.f;
      if (t >= o.burn_in)
        for (int k = 0; k < D; ++k) sum[xo + size_t(k)] += pc[xo + size_t(k)];
      if (frames) {
        const double n = double(t - o.burn_in + 1);
        for (int k = 0; k < D; ++k)
          e[size_t(k)] = t >= o.burn_in ? float(sum[xo + size_t(k)] / n) : pc[xo + size_t(k)];
        std::vector<float>& f = (*frames)[size_t(i)];
        clamp_into(d, e.data(), f.data() + size_t(t) * size_t(D));
      }
    }
  }
  est.resize(lp.size());
  const double n = double(T - o.burn_in);
  for (size_t q = 0; q < est.size(); ++q) est[q] = float(sum[q] / n);
  codes = z;
  acceptance.assign(size_t(B), -1.0);
  if (metropolis)
    for (int i = 0; i < B; ++i) acceptance[size_t(i)] = double(accepted[size_t(i)]) / double(T - warmup);
}

// Gaussian noise's likelihood of the noisy, clipped image y given the decoder mean p = sigmoid(l) as the clean
// value: y = clip(p + sigma n, 0, 1), so -log p(y | p) is (y - p)^2 / (2 sigma^2) inside (0, 1) and the censored
// tails -log Phi(-p / sigma) at y = 0, -log Phi((p - 1) / sigma) at y = 1. Writes d/dl of it.
void noise_dlogits(const float* y, const float* l, int D, float sigma, float* dl) {
  const double s = sigma, inv_sqrt2 = 0.70710678118654752440, inv_sqrt2pi = 0.39894228040143267794;
  for (int d = 0; d < D; ++d) {
    const double p = 1.0 / (1.0 + std::exp(-double(l[d])));
    double dp;
    if (y[d] <= 0.f || y[d] >= 1.f) {
      const double a = y[d] <= 0.f ? -p / s : (p - 1.0) / s;  // -log Phi(a); da/dp = -1/s or 1/s
      const double phi = inv_sqrt2pi * std::exp(-0.5 * a * a), Phi = std::max(1e-300, 0.5 * std::erfc(-a * inv_sqrt2));
      dp = (y[d] <= 0.f ? 1.0 : -1.0) * phi / (s * Phi);
    } else {
      dp = (p - double(y[d])) / (s * s);
    }
    dl[d] = float(dp * p * (1.0 - p));
  }
}

// MAP of z: minimises BCE(x_o, decoder(z)) on the observed pixels + ||z||^2 / 2 (the prior's -log p(z) up to a
// constant) with Adam (Kingma & Ba 2014), from the encoder's mean for the damaged image. The gradient is
// model.hpp's decoder backward with dlogits = (sigmoid(l) - x) on observed pixels, 0 on hidden ones.
void map_z(Net& net, const Batch& b, const RestoreOptions& o, std::vector<float>& est, std::vector<float>& codes,
           std::vector<std::vector<float>>* frames) {
  const Vae& m = net.vae;
  const Layout& lay = m.layout;
  const float* p = m.params.data();
  const int D = net.D, Z = net.Z, B = b.B, T = o.iterations;
  std::vector<float> mu(size_t(Z) * size_t(B)), lv(mu.size());
  net.encode(b.X.data(), B, mu.data(), lv.data());
  Matrix z = Eigen::Map<const Matrix>(mu.data(), Z, B);  // (Z, B)
  std::vector<float> sig(static_cast<size_t>(B));
  for (int i = 0; i < B; ++i) {
    sig[size_t(i)] = b.d[i]->missing ? 0.f : b.d[i]->sigma;
    if (sig[size_t(i)] > 0) z.col(i).setZero();
  }
  Matrix mom = Matrix::Zero(Z, B), vel = Matrix::Zero(Z, B), dz;
  Matrix mask(D, B);  // (D, B) 1 on observed pixels
  for (int i = 0; i < B; ++i)
    for (int k = 0; k < D; ++k) mask(k, i) = b.d[i]->observed[size_t(k)] ? 1.f : 0.f;
  const Eigen::Map<const Matrix> X(b.X.data(), D, B);
  Buffer<float> grads(lay.total);  // the parameter gradients linear_backward writes, unused
  Workspace& ws = net.ws;
  Matrix probs;
  const float b1 = 0.9f, b2 = 0.999f, adam_eps = 1e-8f;
  std::vector<float> e(static_cast<size_t>(D));
  vae_decode_logits(m, z, ws);
  for (int t = 1; t <= T; ++t) {
    // Backward of the observed-pixel BCE through the decoder, in the reverse order of vae_decode_logits.
    ws.d_out = ((1.f / (1.f + (-ws.logits.array()).exp())) - X.array()) * mask.array();
    for (int i = 0; i < B; ++i) {
      if (sig[size_t(i)] <= 0) continue;
      noise_dlogits(X.data() + size_t(i) * size_t(D), ws.logits.data() + size_t(i) * size_t(D), D, sig[size_t(i)],
                    ws.d_out.data() + size_t(i) * size_t(D));
    }
    const int nd = int(lay.dec.size());
    linear_backward(p, lay.dec_out, MatrixRef(ws.g.back()), ws.d_out, grads.data(), &ws.d_in);
    for (int i = nd - 1; i >= 0; --i) {
      std::swap(ws.d_out, ws.d_in);
      relu_backward(ws.g[size_t(i)], ws.d_out);
      if (i > 0)
        linear_backward(p, lay.dec[size_t(i)], MatrixRef(ws.g[size_t(i) - 1]), ws.d_out, grads.data(), &ws.d_in);
      else
        linear_backward(p, lay.dec[size_t(i)], MatrixRef(z), ws.d_out, grads.data(), &ws.d_in);
    }
    dz = ws.d_in + z;  // + d/dz ||z||^2 / 2
    mom = b1 * mom + (1.f - b1) * dz;
    vel = b2 * vel + (1.f - b2) * dz.cwiseProduct(dz);
    const float c1 = 1.f - std::pow(b1, float(t)), c2 = 1.f - std::pow(b2, float(t));
    z.array() -= o.map_step * (mom.array() / c1) / ((vel.array() / c2).sqrt() + adam_eps);
    vae_decode_logits(m, z, ws);
    if (frames) {
      probs.resize(D, B);
      sigmoid_into(ws.logits.data(), size_t(D) * size_t(B), probs.data());
      for (int i = 0; i < B; ++i)
        clamp_into(*b.d[i], probs.data() + size_t(i) * size_t(D), (*frames)[size_t(i)].data() + size_t(t - 1) * size_t(D));
    }
  }
  est.resize(size_t(D) * size_t(B));
  sigmoid_into(ws.logits.data(), est.size(), est.data());
  codes.assign(z.data(), z.data() + z.size());
}

}  // namespace

// ---- names ----

const char* damage_name(Damage d) {
  switch (d) {
    case Damage::Gaussian: return "gaussian";
    case Damage::SaltPepper: return "salt-pepper";
    case Damage::MissingPixels: return "missing-pixels";
    case Damage::MissingBlock: return "missing-block";
    case Damage::Mask: return "mask";
  }
  return "?";
}

const char* block_name(Block b) {
  switch (b) {
    case Block::Top: return "top";
    case Block::Bottom: return "bottom";
    case Block::Left: return "left";
    case Block::Right: return "right";
    case Block::Centre: return "centre";
  }
  return "?";
}

bool damage_from_name(const std::string& s, Damage& out) {
  for (Damage d : {Damage::Gaussian, Damage::SaltPepper, Damage::MissingPixels, Damage::MissingBlock, Damage::Mask})
    if (s == damage_name(d)) {
      out = d;
      return true;
    }
  return false;
}

bool block_from_name(const std::string& s, Block& out) {
  for (Block b : {Block::Top, Block::Bottom, Block::Left, Block::Right, Block::Centre})
    if (s == block_name(b)) {
      out = b;
      return true;
    }
  return false;
}

// ---- damage ----

Status damage_check(const DamageSpec& spec) {
  const float a = spec.amount;
  switch (spec.kind) {
    case Damage::Gaussian:
      if (!(a > 0.f && a <= 2.f)) return Status::error("gaussian noise's sigma must be above 0 and at most 2, not " + num(a));
      return Status::success();
    case Damage::SaltPepper:
    case Damage::MissingPixels:
      if (!(a > 0.f && a <= 1.f))
        return Status::error(std::string(damage_name(spec.kind)) + " rate must be above 0 and at most 1, not " + num(a));
      return Status::success();
    case Damage::MissingBlock:
      if (spec.block != Block::Top && spec.block != Block::Bottom && spec.block != Block::Left &&
          spec.block != Block::Right && spec.block != Block::Centre)
        return Status::error("unknown missing block");
      if (spec.block == Block::Centre && !(a > 0.f && a <= 1.f))
        return Status::error("the centred square's side must be above 0 and at most 1 (of the image's), not " + num(a));
      return Status::success();
    case Damage::Mask:
      return Status::success();
  }
  return Status::error("unknown damage");
}

Status damage_apply(const float* x, int rows, int cols, const DamageSpec& spec, const uint8_t* mask, Damaged& out) {
  Status s = damage_check(spec);
  if (!s) return s;
  if (!x) return Status::error("no image to damage");
  if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096)
    return Status::error("image size " + std::to_string(rows) + "x" + std::to_string(cols) + " out of range");
  if (spec.kind == Damage::Mask && !mask) return Status::error("no mask given: paint the pixels to hide");
  Damaged d;
  d.rows = rows;
  d.cols = cols;
  const int D = rows * cols;
  d.image.assign(x, x + D);
  d.observed.assign(size_t(D), 1);
  d.damaged.assign(size_t(D), 0);
  d.missing = hides(spec.kind);
  Pcg32 rng(prng_mix(spec.seed, uint64_t(spec.kind)), kDamageStream);
  const float a = spec.amount;
  switch (spec.kind) {
    case Damage::Gaussian:
      d.sigma = a;
      for (int i = 0; i < D; ++i) {
        d.image[size_t(i)] = std::min(1.f, std::max(0.f, x[i] + a * rng.normal()));
        d.damaged[size_t(i)] = 1;
      }
      break;
    case Damage::SaltPepper:
      for (int i = 0; i < D; ++i) {
        const bool hit = rng.uniform() < a;
        const bool salt = rng.uniform() < 0.5f;  // drawn for every pixel: the hits do not shift the stream
        if (hit) {
          d.image[size_t(i)] = salt ? 1.f : 0.f;
          d.damaged[size_t(i)] = 1;
        }
      }
      break;
    case Damage::MissingPixels:
      for (int i = 0; i < D; ++i) d.damaged[size_t(i)] = rng.uniform() < a;
      break;
    case Damage::MissingBlock: {
      int r0 = 0, r1 = rows, c0 = 0, c1 = cols;  // hidden rows [r0, r1), columns [c0, c1)
      switch (spec.block) {
        case Block::Top: r1 = rows / 2; break;
        case Block::Bottom: r0 = rows / 2; break;
        case Block::Left: c1 = cols / 2; break;
        case Block::Right: c0 = cols / 2; break;
        case Block::Centre: {
          const int h = int(std::lround(a * rows)), w = int(std::lround(a * cols));
          r0 = (rows - h) / 2;
          r1 = r0 + h;
          c0 = (cols - w) / 2;
          c1 = c0 + w;
          break;
        }
      }
      for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c) d.damaged[size_t(r) * size_t(cols) + size_t(c)] = 1;
      break;
    }
    case Damage::Mask:
      for (int i = 0; i < D; ++i) d.damaged[size_t(i)] = mask[i] != 0;
      break;
  }
  int count = 0;
  for (uint8_t v : d.damaged) count += v;
  const std::string what = spec.kind == Damage::Mask                ? std::string("the mask")
                           : spec.kind == Damage::MissingBlock      ? std::string("a missing ") + block_name(spec.block) +
                                                                          (spec.block == Block::Centre ? " square of side " + num(a) : " half")
                                                                    : std::string(damage_name(spec.kind)) + " at " + num(a);
  const std::string size = std::to_string(rows) + "x" + std::to_string(cols);
  if (count == 0) return Status::error(what + " damages no pixel of the " + size + " image");
  if (d.missing) {
    if (count == D) return Status::error(what + " hides every pixel of the " + size + " image: nothing is left to restore from");
    for (int i = 0; i < D; ++i)
      if (d.damaged[size_t(i)]) {
        d.observed[size_t(i)] = 0;
        d.image[size_t(i)] = 0.f;
      }
  }
  out = std::move(d);
  return Status::success();
}

// ---- errors ----

ImageErrors image_errors(const float* original, const float* estimate, int D, const uint8_t* which) {
  ImageErrors e;
  double bce = 0, se = 0;
  int n = 0;
  for (int i = 0; i < D; ++i) {
    if (which && !which[i]) continue;
    const double x = original[i], p = std::min(1.0 - 1e-6, std::max(1e-6, double(estimate[i])));
    bce -= x * std::log(p) + (1.0 - x) * std::log(1.0 - p);
    se += (double(estimate[i]) - x) * (double(estimate[i]) - x);
    ++n;
  }
  e.pixels = n;
  e.bce = bce;
  e.mse = n > 0 ? se / n : 0.0;
  e.psnr = e.mse > 0 ? 10.0 * std::log10(1.0 / e.mse) : 99.0;
  return e;
}

// ---- restoring ----

const char* restore_name(Restore r) {
  switch (r) {
    case Restore::OnePass: return "one-pass";
    case Restore::PosteriorMean: return "posterior-mean";
    case Restore::PseudoGibbs: return "pseudo-gibbs";
    case Restore::MetropolisGibbs: return "mwg";
    case Restore::Map: return "map";
    case Restore::MeanImage: return "mean-image";
    case Restore::Pca: return "pca";
    case Restore::Median: return "median3x3";
  }
  return "?";
}

bool restore_from_name(const std::string& s, Restore& out) {
  for (Restore r : kRestoreAll)
    if (s == restore_name(r)) {
      out = r;
      return true;
    }
  return false;
}

const char* restore_label(Restore r) {
  switch (r) {
    case Restore::OnePass: return "one encode-decode pass of the damaged image";
    case Restore::PosteriorMean: return "posterior mean: decoder means averaged over z ~ q(z|x)";
    case Restore::PseudoGibbs: return "pseudo-Gibbs (Rezende, Mohamed & Wierstra 2014)";
    case Restore::MetropolisGibbs: return "Metropolis-within-Gibbs (Mattei & Frellsen 2018)";
    case Restore::Map: return "MAP of z: the observed pixels' likelihood + the prior";
    case Restore::MeanImage: return "the training images' mean image";
    case Restore::Pca: return "PCA from the observed pixels";
    case Restore::Median: return "3x3 median filter";
  }
  return "?";
}

bool restore_applies(Restore r, const Damaged& d, bool have_pca) {
  switch (r) {
    case Restore::PseudoGibbs:
    case Restore::MetropolisGibbs: return d.missing;
    case Restore::Map: return d.missing || d.sigma > 0;
    case Restore::PosteriorMean:
    case Restore::Median: return !d.missing;
    case Restore::MeanImage:
    case Restore::Pca: return have_pca;
    case Restore::OnePass: return true;
  }
  return false;
}

Status restore_batch(const RepairModels& m, const Damaged* const* ds, int n, Restore r, const RestoreOptions& opt,
                     uint64_t first_index, Restored* out) {
  if (n < 0 || (n > 0 && (!ds || !out))) return Status::error("no images to restore");
  if (!m.vae) return Status::error("no model to restore with");
  Status s = check_options(opt);
  if (!s) return s;
  const int D = m.vae->arch.D;
  if (m.infer && !(m.infer->arch == m.vae->arch)) return Status::error("the packed model is not the model's");
  const bool have_pca = m.pca && !m.pca->empty();
  if (have_pca && m.pca->D != D)
    return Status::error("the PCA has " + std::to_string(m.pca->D) + " pixels, the model takes " + std::to_string(D));
  for (int i = 0; i < n; ++i) {
    const std::string where = n > 1 ? "image " + std::to_string(i) + ": " : "";
    const Damaged& d = *ds[i];
    if (d.D() != D || d.image.size() != size_t(D) || d.observed.size() != size_t(D) || d.damaged.size() != size_t(D))
      return Status::error(where + "the image has " + std::to_string(d.D()) + " pixels, the model takes " + std::to_string(D));
    if (!restore_applies(r, d, have_pca)) {
      if (r == Restore::MeanImage || r == Restore::Pca)
        return Status::error(std::string(restore_name(r)) + " needs the model's PCA (\"pca.*\" tensors; vae pca adds them)");
      return Status::error(where + restore_name(r) + (d.missing ? " is for noise, and this image has hidden pixels"
                                                                : " needs hidden pixels, and this damage is noise"));
    }
  }
  std::vector<Restored> res(static_cast<size_t>(n));
  Batch b{ds, n, std::vector<float>(size_t(D) * size_t(n))};
  for (int i = 0; i < n; ++i) std::copy(ds[i]->image.begin(), ds[i]->image.end(), b.X.begin() + std::ptrdiff_t(size_t(i) * size_t(D)));
  std::vector<Pcg32> rngs;
  for (int i = 0; i < n; ++i) rngs.emplace_back(prng_mix(opt.seed, first_index + uint64_t(i)), kRestoreStream);
  const bool iterative = r == Restore::PseudoGibbs || r == Restore::MetropolisGibbs || r == Restore::Map;
  std::vector<std::vector<float>> frames;
  if (iterative && opt.keep_frames)
    frames.assign(size_t(n), std::vector<float>(size_t(opt.iterations) * size_t(D)));
  std::vector<float> est, codes;  // (D, n) and (Z, n), the codes empty for the baselines
  std::vector<double> acceptance(size_t(n), -1.0);
  Net net(*m.vae, m.infer);
  switch (r) {
    case Restore::OnePass: one_pass(net, b, est, codes); break;
    case Restore::PosteriorMean: posterior_mean(net, b, opt.samples, rngs, est, codes); break;
    case Restore::PseudoGibbs:
    case Restore::MetropolisGibbs:
      chain(net, b, r == Restore::MetropolisGibbs, opt, rngs, est, codes, frames.empty() ? nullptr : &frames, acceptance);
      break;
    case Restore::Map: map_z(net, b, opt, est, codes, frames.empty() ? nullptr : &frames); break;
    case Restore::MeanImage:
      est.resize(size_t(D) * size_t(n));
      for (int i = 0; i < n; ++i) std::copy(m.pca->mean.begin(), m.pca->mean.end(), est.begin() + std::ptrdiff_t(size_t(i) * size_t(D)));
      break;
    case Restore::Pca:
      est.resize(size_t(D) * size_t(n));
      for (int i = 0; i < n; ++i) {
        float* e = est.data() + size_t(i) * size_t(D);
        if (ds[i]->missing)
          pca_fill_observed(*m.pca, ds[i]->image.data(), ds[i]->observed.data(), e);
        else  // noise: every pixel is observed, and all of them are to be cleaned
          pca_reconstruct(*m.pca, ds[i]->image.data(), e);
      }
      break;
    case Restore::Median:
      est.resize(size_t(D) * size_t(n));
      for (int i = 0; i < n; ++i) median3x3(ds[i]->image.data(), ds[i]->rows, ds[i]->cols, est.data() + size_t(i) * size_t(D));
      break;
  }
  for (int i = 0; i < n; ++i) {
    Restored& o = res[size_t(i)];
    o.image.resize(size_t(D));
    clamp_into(*ds[i], est.data() + size_t(i) * size_t(D), o.image.data());
    if (!frames.empty()) {
      o.frames = std::move(frames[size_t(i)]);
      o.iterations = opt.iterations;
    }
    o.acceptance = acceptance[size_t(i)];
    if (!codes.empty()) {
      const size_t Z = size_t(m.vae->arch.Z);
      o.code.assign(codes.begin() + std::ptrdiff_t(size_t(i) * Z), codes.begin() + std::ptrdiff_t(size_t(i + 1) * Z));
    }
  }
  for (int i = 0; i < n; ++i) out[i] = std::move(res[size_t(i)]);
  return Status::success();
}

Status restore(const RepairModels& m, const Damaged& d, Restore r, const RestoreOptions& opt, Restored& out) {
  const Damaged* p = &d;
  return restore_batch(m, &p, 1, r, opt, 0, &out);
}

double mwg_log_ratio(const MwgTerms& proposed, const MwgTerms& current) {
  return (proposed.log_prior + proposed.log_lik - proposed.log_q) - (current.log_prior + current.log_lik - current.log_q);
}

bool mwg_accept(double log_ratio, double u) {
  if (std::isnan(log_ratio)) return false;
  if (log_ratio >= 0) return true;  // rho = 1 > u
  if (u <= 0) return log_ratio > -INFINITY;
  return prng_log(u) < log_ratio;
}

void median3x3(const float* x, int rows, int cols, float* out) {
  float v[9];
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      int k = 0;
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          const int rr = std::min(rows - 1, std::max(0, r + dr)), cc = std::min(cols - 1, std::max(0, c + dc));
          v[k++] = x[size_t(rr) * size_t(cols) + size_t(cc)];
        }
      std::nth_element(v, v + 4, v + 9);
      out[size_t(r) * size_t(cols) + size_t(c)] = v[4];
    }
}

}  // namespace vae
