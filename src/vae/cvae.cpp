// The label-conditioned VAE (cvae.hpp).
#include "vae/cvae.hpp"

#include <algorithm>
#include <cmath>

namespace vae {

template <class T>
CvaeT<T> cvae_make(const Arch& arch, int C, const std::vector<int>& classifier_hidden, uint64_t seed) {
  CvaeT<T> m{VaeT<T>{arch, layout_make_conditional(arch, C, classifier_hidden), {}}, C, classifier_hidden};
  params_init(m.net, seed);
  return m;
}

// ---- softmax cross-entropy ----

template <class T>
void softmax_ce_forward(const Mat<T>& logits, const std::vector<int>& y, Mat<T>& logq, RowVec<T>& per_image) {
  logq.resize(logits.rows(), logits.cols());
  per_image.resize(logits.cols());
  for (Eigen::Index b = 0; b < logits.cols(); ++b) {
    const T top = logits.col(b).maxCoeff();
    const T lse = top + std::log((logits.col(b).array() - top).exp().sum());
    logq.col(b) = logits.col(b).array() - lse;
    per_image[b] = -logq(y[size_t(b)], b);
  }
}

template <class T>
void softmax_ce_backward(const Mat<T>& logq, const std::vector<int>& y, T scale, Mat<T>& dlogits) {
  dlogits = logq.array().exp() * scale;
  for (Eigen::Index b = 0; b < logq.cols(); ++b) dlogits(y[size_t(b)], b) -= scale;
}

// ---- the model ----

namespace {

template <class T>
void onehot(const std::vector<int>& y, int C, Mat<T>& out) {
  out.setZero(C, Eigen::Index(y.size()));
  for (size_t b = 0; b < y.size(); ++b) out(y[b], Eigen::Index(b)) = T(1);
}

}  // namespace

template <class T>
void cvae_classify(const CvaeT<T>& m, const MatRef<T>& X, CvaeWorkspaceT<T>& ws) {
  const T* p = m.net.params.data();
  relu_stack_forward(p, m.net.layout.cls, X, ws.c);
  if (ws.c.empty())
    linear_forward(p, m.net.layout.cls_out, X, ws.cls_logits);
  else
    linear_forward(p, m.net.layout.cls_out, ws.c.back(), ws.cls_logits);
}

template <class T>
CvaeSum cvae_forward(const CvaeT<T>& m, const MatRef<T>& X, const std::vector<int>& y, const MatRef<T>& eps,
                     CvaeWorkspaceT<T>& ws) {
  const Arch& a = m.net.arch;
  const Eigen::Index B = X.cols();
  WorkspaceT<T>& v = ws.vae;
  onehot(y, m.C, ws.onehot);
  ws.xin.resize(a.D + m.C, B);
  ws.xin << X, ws.onehot;
  vae_encode(m.net, ws.xin, v);
  v.eps = eps;
  reparam_forward(v.mu, v.logvar, v.eps, v.z);
  ws.zin.resize(a.Z + m.C, B);
  ws.zin << v.z, ws.onehot;
  vae_decode_logits(m.net, ws.zin, v);
  bce_forward(v.logits, X, v.rec);
  kl_forward(v.mu, v.logvar, v.kl);
  cvae_classify(m, X, ws);
  softmax_ce_forward(ws.cls_logits, y, ws.logq, ws.ce);

  CvaeSum s;
  s.elbo.rec = v.rec.template cast<double>().sum();
  s.elbo.kl = v.kl.template cast<double>().sum();
  s.elbo.count = int(B);
  s.ce = ws.ce.template cast<double>().sum();
  for (Eigen::Index b = 0; b < B; ++b) {
    Eigen::Index best = 0;
    ws.logq.col(b).maxCoeff(&best);
    s.correct += int(best) == y[size_t(b)];
  }
  return s;
}

template <class T>
void cvae_backward(const CvaeT<T>& m, const MatRef<T>& X, const std::vector<int>& y, T beta, T alpha, T scale,
                   CvaeWorkspaceT<T>& ws, T* grads) {
  const Layout& lay = m.net.layout;
  const T* p = m.net.params.data();
  WorkspaceT<T>& v = ws.vae;
  // Reverse of cvae_forward: the classifier (its loss is last), then bce, the decoder, reparam, KL, the encoder.
  softmax_ce_backward(ws.logq, y, alpha * scale, ws.d_out);
  if (lay.cls.empty()) {
    linear_backward<T>(p, lay.cls_out, X, ws.d_out, grads, nullptr);
  } else {
    linear_backward(p, lay.cls_out, ws.c.back(), ws.d_out, grads, &ws.d_tmp);
    relu_stack_backward<T>(p, lay.cls, X, ws.c, ws.d_tmp, ws.d_out, grads, nullptr);
  }

  bce_backward(v.logits, X, scale, v.d_out);
  linear_backward(p, lay.dec_out, v.g.back(), v.d_out, grads, &v.d_in);
  std::swap(v.d_out, v.d_in);
  relu_stack_backward(p, lay.dec, ws.zin, v.g, v.d_out, v.d_tmp, grads, &v.d_in);  // d_in = d[z; y]
  const Mat<T> dz = v.d_in.topRows(m.net.arch.Z);  // the label is data: its rows are dropped
  v.dmu.setZero(v.mu.rows(), v.mu.cols());
  v.dlogvar.setZero(v.logvar.rows(), v.logvar.cols());
  reparam_backward(v.logvar, v.eps, dz, v.dmu, v.dlogvar);
  kl_backward(v.mu, v.logvar, beta * scale, v.dmu, v.dlogvar);
  encoder_backward(m.net, ws.xin, v, grads);
}

template <class T>
VaeT<T> cvae_for_label(const CvaeT<T>& m, int y) {
  const Arch& a = m.net.arch;
  VaeT<T> plain{a, layout_make(a), Buffer<T>(), m.net.row_scales};  // the scales: rows keep their whole numbers
  plain.params.assign(plain.layout.total, T(0));
  const Layout& from = m.net.layout;
  const T* src = m.net.params.data();
  // Every tensor the plain model has, by name; the two first layers lose their label columns to the bias.
  for (const TensorSlot& to : plain.layout.slots) {
    const auto it = std::find_if(from.slots.begin(), from.slots.end(), [&to](const TensorSlot& s) { return s.name == to.name; });
    T* dst = plain.params.data() + to.offset;
    if (it->cols == to.cols) {
      std::copy(src + it->offset, src + it->offset + to.size(), dst);
      continue;
    }
    for (int r = 0; r < to.rows; ++r)  // (out, in + C) row-major to (out, in)
      std::copy(src + it->offset + size_t(r) * it->cols, src + it->offset + size_t(r) * it->cols + to.cols,
                dst + size_t(r) * to.cols);
  }
  for (const auto& [full, cut] : {std::pair(from.enc.front(), plain.layout.enc.front()),
                                  std::pair(from.dec.front(), plain.layout.dec.front())})
    for (int r = 0; r < cut.out; ++r)
      plain.params[cut.b + size_t(r)] += src[full.w + size_t(r) * full.in + size_t(cut.in + y)];
  return plain;
}

#define VAE_INSTANTIATE(T)                                                                                       \
  template CvaeT<T> cvae_make<T>(const Arch&, int, const std::vector<int>&, uint64_t);                          \
  template void softmax_ce_forward<T>(const Mat<T>&, const std::vector<int>&, Mat<T>&, RowVec<T>&);             \
  template void softmax_ce_backward<T>(const Mat<T>&, const std::vector<int>&, T, Mat<T>&);                     \
  template void cvae_classify<T>(const CvaeT<T>&, const MatRef<T>&, CvaeWorkspaceT<T>&);                         \
  template CvaeSum cvae_forward<T>(const CvaeT<T>&, const MatRef<T>&, const std::vector<int>&, const MatRef<T>&, \
                                   CvaeWorkspaceT<T>&);                                                           \
  template void cvae_backward<T>(const CvaeT<T>&, const MatRef<T>&, const std::vector<int>&, T, T, T,           \
                                 CvaeWorkspaceT<T>&, T*);                                                         \
  template VaeT<T> cvae_for_label<T>(const CvaeT<T>&, int);
VAE_INSTANTIATE(float)
VAE_INSTANTIATE(double)
#undef VAE_INSTANTIATE

}  // namespace vae
