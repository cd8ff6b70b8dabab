// Packed inference passes (see infer.hpp). The encoder's two heads are packed as one layer of 2Z outputs.
#include "vae/infer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "vae/quant.hpp"

namespace vae {

namespace {

// The per-row scales of layer L's int8 weights under `weights`, or null for the float kernel; `own` holds
// scales made here (InferWeights::Int8), an empty vector meaning "quantize at packing".
const std::vector<float>* int8_scales(const Vae& m, const Linear& L, InferWeights weights, std::vector<float>& own) {
  if (weights == InferWeights::Float) return nullptr;
  if (weights == InferWeights::Int8) {
    if (!quant_layer_is_int8(m.layout, L)) return nullptr;
    own.clear();
    return &own;
  }
  const auto it = m.row_scales.find(layout_weight_name(m.layout, L));
  return it == m.row_scales.end() ? nullptr : &it->second;
}

InferLayer pack_layer(const float* W, const float* b, int out, int in, const std::vector<float>* scales) {
  InferLayer d;
  d.int8 = scales != nullptr;
  if (d.int8)
    dense_pack_q8(W, scales->empty() ? nullptr : scales->data(), b, out, in, d.q);
  else
    dense_pack(W, b, out, in, d.f);
  return d;
}

InferLayer pack(const Vae& m, const Linear& L, InferWeights weights) {
  std::vector<float> own;
  return pack_layer(m.params.data() + L.w, m.params.data() + L.b, L.out, L.in, int8_scales(m, L, weights, own));
}

// Runs a ReLU stack from X (in, B); returns where the last layer's output is (one of s.a, s.b).
const float* relu_stack(const std::vector<InferLayer>& layers, const float* X, int B, InferScratch& s) {
  const float* x = X;
  Buffer<float>* dst = &s.a;
  for (const InferLayer& L : layers) {
    dst->resize(std::max(dst->size(), size_t(L.out()) * size_t(B)));
    infer_layer_forward(L, x, B, dst->data(), Act::Relu, &s.dense);
    x = dst->data();
    dst = dst == &s.a ? &s.b : &s.a;
  }
  return x;
}

Buffer<float>& other(InferScratch& s, const float* used) { return used == s.a.data() ? s.b : s.a; }

}  // namespace

DensePath infer_layer_forward(const InferLayer& L, const float* X, int B, float* Y, Act act, DenseScratch* s) {
  return L.int8 ? dense_forward_q8(L.q, X, B, Y, act, s) : dense_forward(L.f, X, B, Y, act, s);
}

int VaeInfer::int8_layers() const {
  int n = enc_head.int8 + dec_out.int8;
  for (const InferLayer& L : enc) n += L.int8;
  for (const InferLayer& L : dec) n += L.int8;
  return n;
}

int CvaeInfer::int8_layers() const {
  int n = net.int8_layers() + cls_out.int8;
  for (const InferLayer& L : cls) n += L.int8;
  return n;
}

VaeInfer infer_make(const Vae& m, InferWeights weights) {
  VaeInfer r;
  r.arch = m.arch;
  for (const Linear& L : m.layout.enc) r.enc.push_back(pack(m, L, weights));
  for (const Linear& L : m.layout.dec) r.dec.push_back(pack(m, L, weights));
  r.dec_out = pack(m, m.layout.dec_out, weights);
  // Stack mu's rows over logvar's: both are (Z, H) row-major, so the weights are two consecutive blocks.
  const Linear& mu = m.layout.enc_mu;
  const Linear& lv = m.layout.enc_logvar;
  const int Z = mu.out, H = mu.in;
  std::vector<float> W(size_t(2 * Z) * size_t(H)), b(size_t(2 * Z));
  std::copy(m.params.data() + mu.w, m.params.data() + mu.w + size_t(Z) * size_t(H), W.begin());
  std::copy(m.params.data() + lv.w, m.params.data() + lv.w + size_t(Z) * size_t(H), W.begin() + size_t(Z) * size_t(H));
  std::copy(m.params.data() + mu.b, m.params.data() + mu.b + Z, b.begin());
  std::copy(m.params.data() + lv.b, m.params.data() + lv.b + Z, b.begin() + Z);
  // One layer of both heads: int8 only if both are, with their scales stacked as their rows are.
  std::vector<float> own_mu, own_lv, scales;
  const std::vector<float>* smu = int8_scales(m, mu, weights, own_mu);
  const std::vector<float>* slv = int8_scales(m, lv, weights, own_lv);
  if (smu && slv && !smu->empty()) {
    scales = *smu;
    scales.insert(scales.end(), slv->begin(), slv->end());
  }
  r.enc_head = pack_layer(W.data(), b.data(), 2 * Z, H, smu && slv ? &scales : nullptr);
  return r;
}

void infer_encode(const VaeInfer& m, const float* X, int B, float* mu, float* logvar, InferScratch& s) {
  const int Z = m.arch.Z;
  const float* h = relu_stack(m.enc, X, B, s);
  Buffer<float>& head = other(s, h);
  head.resize(std::max(head.size(), size_t(2 * Z) * size_t(B)));
  infer_layer_forward(m.enc_head, h, B, head.data(), Act::Identity, &s.dense);
  for (int c = 0; c < B; ++c) {
    const float* col = head.data() + size_t(c) * size_t(2 * Z);
    std::copy(col, col + Z, mu + size_t(c) * size_t(Z));
    std::copy(col + Z, col + 2 * Z, logvar + size_t(c) * size_t(Z));
  }
}

void infer_reserve_decode(const VaeInfer& m, int B, InferScratch& s) {
  size_t widest_out = 0, widest_in = size_t(m.dec_out.in());
  for (const InferLayer& L : m.dec) {
    widest_out = std::max(widest_out, size_t(L.out()));
    widest_in = std::max(widest_in, size_t(L.in()));
  }
  const size_t b = size_t(std::max(B, 0));
  for (Buffer<float>* buf : {&s.a, &s.b})
    if (buf->size() < widest_out * b) buf->resize(widest_out * b);
  DenseScratch& d = s.dense;
  if (d.idx.size() < widest_in * b) d.idx.resize(widest_in * b);
  if (d.val.size() < widest_in * b) d.val.resize(widest_in * b);
  // The int8 kernel's: each image's input pairs, its nonzero pairs and its step.
  const size_t pairs = (widest_in + 1) / 2;
  if (d.qx.size() < pairs * b) d.qx.resize(pairs * b);
  if (d.qval.size() < pairs * b) d.qval.resize(pairs * b);
  if (d.qscale.size() < b) d.qscale.resize(b);
  if (d.qhalf.size() < 4 * pairs) d.qhalf.resize(4 * pairs);
  if (d.count.capacity() < b) d.count.reserve(b);
  if (s.dense.start.capacity() < b + 1) s.dense.start.reserve(b + 1);
}

void infer_decode(const VaeInfer& m, const float* codes, int B, float* out, InferScratch& s, bool logits) {
  const float* g = relu_stack(m.dec, codes, B, s);
  infer_layer_forward(m.dec_out, g, B, out, logits ? Act::Identity : Act::Sigmoid, &s.dense);
}

void infer_iwae(const VaeInfer& m, const MatrixRef& X, int K, uint64_t seed, size_t first_index, InferScratch& s,
                std::vector<double>& out) {
  const int B = int(X.cols()), Z = m.arch.Z, D = m.arch.D;
  const Matrix Xc = X;  // contiguous columns for the kernel
  Matrix mu(Z, B), logvar(Z, B);
  infer_encode(m, Xc.data(), B, mu.data(), logvar.data(), s);
  iwae_from_posterior<float>(Xc, mu, logvar, K, seed, first_index, [&m, &s, D](const Matrix& z, Matrix& logits) {
    logits.resize(D, z.cols());
    infer_decode(m, z.data(), int(z.cols()), logits.data(), s, true);
  }, out);
}

CvaeInfer infer_make_conditional(const Cvae& m, InferWeights weights) {
  CvaeInfer r;
  r.net = infer_make(m.net, weights);
  r.C = m.C;
  for (const Linear& L : m.net.layout.cls) r.cls.push_back(pack(m.net, L, weights));
  r.cls_out = pack(m.net, m.net.layout.cls_out, weights);
  return r;
}

void infer_classify(const CvaeInfer& m, const float* X, int B, float* probs, InferScratch& s) {
  const float* h = relu_stack(m.cls, X, B, s);
  infer_layer_forward(m.cls_out, h, B, probs, Act::Identity, &s.dense);
  for (int c = 0; c < B; ++c) {  // softmax, shifted by the largest logit
    float* p = probs + size_t(c) * size_t(m.C);
    const float top = *std::max_element(p, p + m.C);
    float sum = 0;
    for (int k = 0; k < m.C; ++k) sum += p[k] = std::exp(p[k] - top);
    for (int k = 0; k < m.C; ++k) p[k] /= sum;
  }
}

namespace {

// [A; Y] column by column: A (rows, B) over Y (C, B), into s.cat.
const float* append_labels(const float* A, int rows, const float* Y, int C, int B, InferScratch& s) {
  const size_t col = size_t(rows + C);
  s.cat.resize(std::max(s.cat.size(), col * size_t(B)));
  for (int c = 0; c < B; ++c) {
    std::copy(A + size_t(c) * rows, A + size_t(c + 1) * rows, s.cat.data() + size_t(c) * col);
    std::copy(Y + size_t(c) * C, Y + size_t(c + 1) * C, s.cat.data() + size_t(c) * col + rows);
  }
  return s.cat.data();
}

}  // namespace

void infer_encode_conditional(const CvaeInfer& m, const float* X, const float* Y, int B, float* mu, float* logvar,
                              InferScratch& s) {
  infer_encode(m.net, append_labels(X, m.net.arch.D, Y, m.C, B, s), B, mu, logvar, s);
}

void infer_decode_conditional(const CvaeInfer& m, const float* codes, const float* Y, int B, float* out,
                              InferScratch& s) {
  infer_decode(m.net, append_labels(codes, m.net.arch.Z, Y, m.C, B, s), B, out, s);
}

void infer_analogies(const CvaeInfer& m, const float* X, const int* y, int B, float* out, InferScratch& s) {
  const int C = m.C, Z = m.net.arch.Z;
  std::vector<float> Y(size_t(C) * size_t(B), 0.f), mu(size_t(Z) * size_t(B)), logvar(mu.size());
  for (int b = 0; b < B; ++b)
    if (y[b] >= 0 && y[b] < C) Y[size_t(b) * C + size_t(y[b])] = 1.f;  // else no label at all
  infer_encode_conditional(m, X, Y.data(), B, mu.data(), logvar.data(), s);
  // Every code C times beside the labels 0..C-1: one decoder pass of B * C columns.
  std::vector<float> codes(size_t(Z) * size_t(B) * size_t(C)), labels(size_t(C) * size_t(B) * size_t(C), 0.f);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < C; ++t) {
      const size_t col = size_t(b) * C + size_t(t);
      std::copy(mu.begin() + std::ptrdiff_t(size_t(b) * Z), mu.begin() + std::ptrdiff_t(size_t(b + 1) * Z),
                codes.begin() + std::ptrdiff_t(col * Z));
      labels[col * C + size_t(t)] = 1.f;
    }
  infer_decode_conditional(m, codes.data(), labels.data(), B * C, out, s);
}

std::vector<float> onehot_labels(int C, int y, int count) {
  std::vector<float> Y(size_t(std::max(C, 0)) * size_t(std::max(count, 0)), 0.f);
  if (y >= 0 && y < C)
    for (int c = 0; c < count; ++c) Y[size_t(c) * size_t(C) + size_t(y)] = 1.f;
  return Y;
}

double infer_encode_flops(const VaeInfer& m) {
  double f = 2.0 * m.enc_head.in() * m.enc_head.out();
  for (const InferLayer& L : m.enc) f += 2.0 * L.in() * L.out();
  return f;
}

double infer_decode_flops(const VaeInfer& m) {
  double f = 2.0 * m.dec_out.in() * m.dec_out.out();
  for (const InferLayer& L : m.dec) f += 2.0 * L.in() * L.out();
  return f;
}

}  // namespace vae
