// The VAE's layers, losses and passes. Shapes follow model.hpp: activations (features, B) column-major,
// weights (out, in) row-major inside the flat parameter buffer.
#include "vae/model.hpp"

#include <algorithm>
#include <cmath>

namespace vae {

namespace {

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// softplus(l) = log(1 + e^l) without overflow.
template <class T>
Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> softplus(const Mat<T>& l) {
  return l.array().max(T(0)) + (-l.array().abs()).exp().log1p();
}

template <class T>
Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> sigmoid(const Mat<T>& l) {
  return ((-l.array()).exp() + T(1)).inverse();
}

}  // namespace

Status Arch::check() const {
  if (D <= 0 || Z <= 0) return Status::error("input and latent sizes must be positive");
  if (hidden.empty()) return Status::error("at least one hidden layer is needed");
  for (int h : hidden)
    if (h <= 0 || h > 65536) return Status::error("hidden size " + std::to_string(h) + " out of range 1..65536");
  if (D > (1 << 24) || Z > 65536) return Status::error("input or latent size too large");
  if (image_rows <= 0 || image_cols <= 0 || image_rows * image_cols != D)
    return Status::error("image " + std::to_string(image_rows) + "x" + std::to_string(image_cols) +
                         " does not hold " + std::to_string(D) + " pixels");
  return Status::success();
}

std::string Arch::describe() const {
  std::string s = std::to_string(D);
  for (int h : hidden) s += "-" + std::to_string(h);
  s += "-[" + std::to_string(Z) + "]";
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) s += "-" + std::to_string(*it);
  return s + "-" + std::to_string(D);
}

Layout layout_make(const Arch& arch) { return layout_make_conditional(arch, 0, {}); }

Layout layout_make_conditional(const Arch& arch, int C, const std::vector<int>& classifier_hidden) {
  Layout lay;
  auto aligned = [](size_t n) { return (n + kTensorAlign - 1) / kTensorAlign * kTensorAlign; };
  auto add = [&lay, &aligned](const std::string& name, int in, int out) {
    Linear L{in, out, lay.total, aligned(lay.total + size_t(in) * out)};
    lay.slots.push_back({name + ".weight", out, in, L.w});
    lay.slots.push_back({name + ".bias", out, 0, L.b});
    lay.total = aligned(L.b + size_t(out));
    return L;
  };
  const int nh = int(arch.hidden.size());
  int prev = arch.D + C;
  for (int i = 0; i < nh; ++i) {
    lay.enc.push_back(add("encoder.fc" + std::to_string(i + 1), prev, arch.hidden[i]));
    prev = arch.hidden[i];
  }
  lay.enc_mu = add("encoder.mu", prev, arch.Z);
  lay.enc_logvar = add("encoder.logvar", prev, arch.Z);
  prev = arch.Z + C;
  for (int i = nh - 1; i >= 0; --i) {
    lay.dec.push_back(add("decoder.fc" + std::to_string(nh - i), prev, arch.hidden[i]));
    prev = arch.hidden[i];
  }
  lay.dec_out = add("decoder.out", prev, arch.D);
  if (C <= 0) return lay;
  prev = arch.D;
  for (size_t i = 0; i < classifier_hidden.size(); ++i) {
    lay.cls.push_back(add("classifier.fc" + std::to_string(i + 1), prev, classifier_hidden[i]));
    prev = classifier_hidden[i];
  }
  lay.cls_out = add("classifier.out", prev, C);
  return lay;
}

const std::string& layout_weight_name(const Layout& lay, const Linear& L) {
  static const std::string none;
  for (const TensorSlot& s : lay.slots)
    if (s.offset == L.w && s.cols > 0) return s.name;
  return none;
}

size_t layout_parameter_count(const Layout& lay) {
  size_t n = 0;
  for (const TensorSlot& s : lay.slots) n += s.size();
  return n;
}

template <class T>
VaeT<T> vae_make(const Arch& arch, uint64_t seed) {
  VaeT<T> m{arch, layout_make(arch), {}, {}};
  params_init(m, seed);
  return m;
}

template <class T>
void params_init(VaeT<T>& m, uint64_t seed) {
  m.params.assign(m.layout.total, T(0));
  Pcg32 rng(seed, 0x5eed);
  for (const TensorSlot& s : m.layout.slots) {
    if (s.cols == 0) continue;  // biases start at zero
    // Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    const float a = std::sqrt(6.f / float(s.rows + s.cols));
    for (size_t i = 0; i < s.size(); ++i) m.params[s.offset + i] = T(a * (2.f * rng.uniform() - 1.f));
  }
}

// ---- linear ----

template <class T>
void linear_forward(const T* params, const Linear& L, const MatRef<T>& X, Mat<T>& Y) {
  Eigen::Map<const RowMajor<T>> W(params + L.w, L.out, L.in);
  Eigen::Map<const Vec<T>> b(params + L.b, L.out);
  Y.resize(L.out, X.cols());
  Y.noalias() = W * X;
  Y.colwise() += b;
}

template <class T>
void linear_backward(const T* params, const Linear& L, const MatRef<T>& X, const Mat<T>& dY, T* grads,
                     Mat<T>* dX) {
  Eigen::Map<RowMajor<T>> dW(grads + L.w, L.out, L.in);
  Eigen::Map<Vec<T>> db(grads + L.b, L.out);
  dW.noalias() = dY * X.transpose();
  db = dY.rowwise().sum();
  if (dX) {
    Eigen::Map<const RowMajor<T>> W(params + L.w, L.out, L.in);
    dX->resize(L.in, dY.cols());
    dX->noalias() = W.transpose() * dY;
  }
}

// ---- relu ----

template <class T>
void relu_forward(Mat<T>& Y) { Y = Y.cwiseMax(T(0)); }

template <class T>
void relu_backward(const Mat<T>& Y, Mat<T>& dY) {
  dY = (Y.array() > T(0)).select(dY, T(0));
}

// ---- Bernoulli reconstruction term ----

template <class T>
void bce_forward(const Mat<T>& logits, const MatRef<T>& X, RowVec<T>& per_image) {
  per_image = (softplus(logits) - X.array() * logits.array()).colwise().sum().matrix();
}

template <class T>
void bce_backward(const Mat<T>& logits, const MatRef<T>& X, T scale, Mat<T>& dlogits) {
  dlogits = (sigmoid(logits) - X.array()) * scale;
}

// ---- KL term ----

template <class T>
void kl_forward(const Mat<T>& mu, const Mat<T>& logvar, RowVec<T>& per_image) {
  per_image = (T(0.5) * (mu.array().square() + logvar.array().exp() - T(1) - logvar.array())).colwise().sum().matrix();
}

template <class T>
void kl_backward(const Mat<T>& mu, const Mat<T>& logvar, T scale, Mat<T>& dmu, Mat<T>& dlogvar) {
  dmu.array() += scale * mu.array();
  dlogvar.array() += scale * T(0.5) * (logvar.array().exp() - T(1));
}

// ---- reparameterisation ----

template <class T>
void reparam_forward(const Mat<T>& mu, const Mat<T>& logvar, const Mat<T>& eps, Mat<T>& z) {
  z = (mu.array() + (T(0.5) * logvar.array()).exp() * eps.array()).matrix();
}

template <class T>
void reparam_backward(const Mat<T>& logvar, const Mat<T>& eps, const Mat<T>& dz, Mat<T>& dmu, Mat<T>& dlogvar) {
  dmu += dz;
  dlogvar.array() += dz.array() * eps.array() * T(0.5) * (T(0.5) * logvar.array()).exp();
}

// ---- the model ----

template <class T>
void relu_stack_forward(const T* p, const std::vector<Linear>& layers, const MatRef<T>& X, std::vector<Mat<T>>& acts) {
  acts.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i == 0)
      linear_forward(p, layers[i], X, acts[i]);
    else
      linear_forward(p, layers[i], acts[i - 1], acts[i]);
    relu_forward(acts[i]);
  }
}

template <class T>
void relu_stack_backward(const T* p, const std::vector<Linear>& layers, const MatRef<T>& X,
                         const std::vector<Mat<T>>& acts, Mat<T>& d_out, Mat<T>& scratch, T* grads, Mat<T>* dX) {
  for (int i = int(layers.size()) - 1; i >= 0; --i) {
    relu_backward(acts[size_t(i)], d_out);
    if (i > 0) {
      linear_backward(p, layers[size_t(i)], acts[size_t(i) - 1], d_out, grads, &scratch);
      std::swap(d_out, scratch);
    } else {
      linear_backward<T>(p, layers[0], X, d_out, grads, dX);
    }
  }
}

template <class T>
void vae_encode(const VaeT<T>& m, const MatRef<T>& X, WorkspaceT<T>& ws) {
  const T* p = m.params.data();
  relu_stack_forward(p, m.layout.enc, X, ws.h);
  linear_forward(p, m.layout.enc_mu, ws.h.back(), ws.mu);
  linear_forward(p, m.layout.enc_logvar, ws.h.back(), ws.logvar);
}

template <class T>
void vae_decode_logits(const VaeT<T>& m, const MatRef<T>& Zs, WorkspaceT<T>& ws) {
  const T* p = m.params.data();
  relu_stack_forward(p, m.layout.dec, Zs, ws.g);
  linear_forward(p, m.layout.dec_out, ws.g.back(), ws.logits);
}

template <class T>
void vae_decode(const VaeT<T>& m, const MatRef<T>& Zs, WorkspaceT<T>& ws, Mat<T>& probs) {
  vae_decode_logits(m, Zs, ws);
  probs = sigmoid(ws.logits).matrix();
}

template <class T>
ElboSum vae_forward(const VaeT<T>& m, const MatRef<T>& X, const MatRef<T>& eps, WorkspaceT<T>& ws) {
  vae_encode(m, X, ws);
  ws.eps = eps;
  reparam_forward(ws.mu, ws.logvar, ws.eps, ws.z);
  vae_decode_logits(m, ws.z, ws);
  bce_forward(ws.logits, X, ws.rec);
  kl_forward(ws.mu, ws.logvar, ws.kl);
  ElboSum s;
  s.rec = ws.rec.template cast<double>().sum();
  s.kl = ws.kl.template cast<double>().sum();
  s.count = int(X.cols());
  return s;
}

template <class T>
void encoder_backward(const VaeT<T>& m, const MatRef<T>& X, WorkspaceT<T>& ws, T* grads) {
  const Layout& lay = m.layout;
  const T* p = m.params.data();
  linear_backward(p, lay.enc_mu, ws.h.back(), ws.dmu, grads, &ws.d_out);
  linear_backward(p, lay.enc_logvar, ws.h.back(), ws.dlogvar, grads, &ws.d_in);
  ws.d_out += ws.d_in;  // both heads read the last hidden layer
  relu_stack_backward<T>(p, lay.enc, X, ws.h, ws.d_out, ws.d_in, grads, nullptr);  // no gradient w.r.t. the data
}

template <class T>
void vae_backward(const VaeT<T>& m, const MatRef<T>& X, T beta, T scale, WorkspaceT<T>& ws, T* grads) {
  const Layout& lay = m.layout;
  const T* p = m.params.data();
  // Reverse of vae_forward: bce, decoder out, decoder hidden (last to first), reparam, KL, encoder heads,
  // encoder hidden (last to first).
  bce_backward(ws.logits, X, scale, ws.d_out);
  linear_backward(p, lay.dec_out, ws.g.back(), ws.d_out, grads, &ws.d_in);
  std::swap(ws.d_out, ws.d_in);  // d_out: the gradient w.r.t. the last hidden layer's output
  relu_stack_backward(p, lay.dec, ws.z, ws.g, ws.d_out, ws.d_tmp, grads, &ws.d_in);  // d_in = dz
  ws.dmu.setZero(ws.mu.rows(), ws.mu.cols());
  ws.dlogvar.setZero(ws.logvar.rows(), ws.logvar.cols());
  reparam_backward(ws.logvar, ws.eps, ws.d_in, ws.dmu, ws.dlogvar);
  kl_backward(ws.mu, ws.logvar, beta * scale, ws.dmu, ws.dlogvar);
  encoder_backward(m, X, ws, grads);
}


template <class T>
void vae_iwae(const VaeT<T>& m, const MatRef<T>& X, int K, uint64_t seed, size_t first_index, WorkspaceT<T>& ws,
              std::vector<double>& out) {
  vae_encode(m, X, ws);
  const Mat<T> mu = ws.mu, logvar = ws.logvar;
  iwae_from_posterior<T>(X, mu, logvar, K, seed, first_index, [&m, &ws](const Mat<T>& z, Mat<T>& logits) {
    vae_decode_logits(m, z, ws);
    logits.swap(ws.logits);
  }, out);
}

template <class T>
void iwae_from_posterior(const MatRef<T>& X, const Mat<T>& mu, const Mat<T>& logvar, int K, uint64_t seed,
                         size_t first_index, const DecodeLogitsFn<T>& decode_logits, std::vector<double>& out) {
  const int Z = int(mu.rows());
  const int B = int(X.cols());
  const int chunk = std::min(K, 512);
  out.assign(size_t(B), 0.0);
  Mat<T> eps(Z, chunk), z(Z, chunk), logits;
  for (int b = 0; b < B; ++b) {
    Pcg32 rng(prng_mix(seed, first_index + size_t(b)), 0x1a5);
    const double half_sum_logvar = 0.5 * double(logvar.col(b).sum());
    // Running log-sum-exp over the K log-weights, in double.
    double max_w = -INFINITY, sum_exp = 0.0;
    for (int k0 = 0; k0 < K; k0 += chunk) {
      const int n = std::min(chunk, K - k0);
      eps.resize(Z, n);
      for (int j = 0; j < n; ++j)
        for (int d = 0; d < Z; ++d) eps(d, j) = T(rng.normal());
      reparam_forward<T>(mu.col(b).replicate(1, n), logvar.col(b).replicate(1, n), eps, z);
      decode_logits(z, logits);
      // log p(x|z_k) = -sum_d softplus(l_dk) - x_d l_dk; the x-term is one matrix-vector product.
      const RowVec<T> log_px_z = (X.col(b).transpose() * logits) - softplus(logits).colwise().sum().matrix();
      // log p(z) - log q(z|x) = -|z|^2/2 + |eps|^2/2 + sum(logvar)/2 (the 2 pi terms cancel).
      const RowVec<T> log_prior_ratio =
          T(0.5) * (eps.array().square().colwise().sum() - z.array().square().colwise().sum()).matrix();
      for (int j = 0; j < n; ++j) {
        const double w = double(log_px_z[j]) + double(log_prior_ratio[j]) + half_sum_logvar;
        if (w > max_w) {
          sum_exp = sum_exp * std::exp(max_w - w) + 1.0;
          max_w = w;
        } else {
          sum_exp += std::exp(w - max_w);
        }
      }
    }
    out[size_t(b)] = max_w + std::log(sum_exp) - std::log(double(K));
  }
}

// ---- explicit instantiations: float for the product, double for the gradient checks ----
#define VAE_INSTANTIATE(T)                                                                                      \
  template VaeT<T> vae_make<T>(const Arch&, uint64_t);                                                         \
  template void params_init<T>(VaeT<T>&, uint64_t);                                                             \
  template void linear_forward<T>(const T*, const Linear&, const MatRef<T>&, Mat<T>&);                          \
  template void linear_backward<T>(const T*, const Linear&, const MatRef<T>&, const Mat<T>&, T*, Mat<T>*);      \
  template void relu_forward<T>(Mat<T>&);                                                                       \
  template void relu_backward<T>(const Mat<T>&, Mat<T>&);                                                       \
  template void bce_forward<T>(const Mat<T>&, const MatRef<T>&, RowVec<T>&);                                    \
  template void bce_backward<T>(const Mat<T>&, const MatRef<T>&, T, Mat<T>&);                                   \
  template void kl_forward<T>(const Mat<T>&, const Mat<T>&, RowVec<T>&);                                        \
  template void kl_backward<T>(const Mat<T>&, const Mat<T>&, T, Mat<T>&, Mat<T>&);                              \
  template void reparam_forward<T>(const Mat<T>&, const Mat<T>&, const Mat<T>&, Mat<T>&);                       \
  template void reparam_backward<T>(const Mat<T>&, const Mat<T>&, const Mat<T>&, Mat<T>&, Mat<T>&);             \
  template void vae_encode<T>(const VaeT<T>&, const MatRef<T>&, WorkspaceT<T>&);                                \
  template void vae_decode_logits<T>(const VaeT<T>&, const MatRef<T>&, WorkspaceT<T>&);                         \
  template void vae_decode<T>(const VaeT<T>&, const MatRef<T>&, WorkspaceT<T>&, Mat<T>&);                       \
  template ElboSum vae_forward<T>(const VaeT<T>&, const MatRef<T>&, const MatRef<T>&, WorkspaceT<T>&);          \
  template void vae_backward<T>(const VaeT<T>&, const MatRef<T>&, T, T, WorkspaceT<T>&, T*);                    \
  template void encoder_backward<T>(const VaeT<T>&, const MatRef<T>&, WorkspaceT<T>&, T*);                      \
  template void relu_stack_forward<T>(const T*, const std::vector<Linear>&, const MatRef<T>&, std::vector<Mat<T>>&); \
  template void relu_stack_backward<T>(const T*, const std::vector<Linear>&, const MatRef<T>&,                  \
                                       const std::vector<Mat<T>>&, Mat<T>&, Mat<T>&, T*, Mat<T>*);               \
  template void iwae_from_posterior<T>(const MatRef<T>&, const Mat<T>&, const Mat<T>&, int, uint64_t, size_t,     \
                                       const DecodeLogitsFn<T>&, std::vector<double>&);                          \
  template void vae_iwae<T>(const VaeT<T>&, const MatRef<T>&, int, uint64_t, size_t, WorkspaceT<T>&,            \
                            std::vector<double>&);
VAE_INSTANTIATE(float)
VAE_INSTANTIATE(double)
#undef VAE_INSTANTIATE

}  // namespace vae
