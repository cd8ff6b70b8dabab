// Packed inference passes (see infer.hpp). The encoder's two heads are packed as one layer of 2Z outputs.
#include "vae/infer.hpp"

#include <algorithm>

namespace vae {

namespace {

DensePacked pack(const Vae& m, const Linear& L) {
  DensePacked d;
  dense_pack(m.params.data() + L.w, m.params.data() + L.b, L.out, L.in, d);
  return d;
}

// Runs a ReLU stack from X (in, B); returns where the last layer's output is (one of s.a, s.b).
const float* relu_stack(const std::vector<DensePacked>& layers, const float* X, int B, InferScratch& s) {
  const float* x = X;
  Buffer<float>* dst = &s.a;
  for (const DensePacked& L : layers) {
    dst->resize(std::max(dst->size(), size_t(L.out) * size_t(B)));
    dense_forward(L, x, B, dst->data(), Act::Relu, &s.dense);
    x = dst->data();
    dst = dst == &s.a ? &s.b : &s.a;
  }
  return x;
}

Buffer<float>& other(InferScratch& s, const float* used) { return used == s.a.data() ? s.b : s.a; }

}  // namespace

VaeInfer infer_make(const Vae& m) {
  VaeInfer r;
  r.arch = m.arch;
  for (const Linear& L : m.layout.enc) r.enc.push_back(pack(m, L));
  for (const Linear& L : m.layout.dec) r.dec.push_back(pack(m, L));
  r.dec_out = pack(m, m.layout.dec_out);
  // Stack mu's rows over logvar's: both are (Z, H) row-major, so the weights are two consecutive blocks.
  const Linear& mu = m.layout.enc_mu;
  const Linear& lv = m.layout.enc_logvar;
  const int Z = mu.out, H = mu.in;
  std::vector<float> W(size_t(2 * Z) * size_t(H)), b(size_t(2 * Z));
  std::copy(m.params.data() + mu.w, m.params.data() + mu.w + size_t(Z) * size_t(H), W.begin());
  std::copy(m.params.data() + lv.w, m.params.data() + lv.w + size_t(Z) * size_t(H), W.begin() + size_t(Z) * size_t(H));
  std::copy(m.params.data() + mu.b, m.params.data() + mu.b + Z, b.begin());
  std::copy(m.params.data() + lv.b, m.params.data() + lv.b + Z, b.begin() + Z);
  dense_pack(W.data(), b.data(), 2 * Z, H, r.enc_head);
  return r;
}

void infer_encode(const VaeInfer& m, const float* X, int B, float* mu, float* logvar, InferScratch& s) {
  const int Z = m.arch.Z;
  const float* h = relu_stack(m.enc, X, B, s);
  Buffer<float>& head = other(s, h);
  head.resize(std::max(head.size(), size_t(2 * Z) * size_t(B)));
  dense_forward(m.enc_head, h, B, head.data(), Act::Identity, &s.dense);
  for (int c = 0; c < B; ++c) {
    const float* col = head.data() + size_t(c) * size_t(2 * Z);
    std::copy(col, col + Z, mu + size_t(c) * size_t(Z));
    std::copy(col + Z, col + 2 * Z, logvar + size_t(c) * size_t(Z));
  }
}

void infer_reserve_decode(const VaeInfer& m, int B, InferScratch& s) {
  size_t widest_out = 0, widest_in = size_t(m.dec_out.in);
  for (const DensePacked& L : m.dec) {
    widest_out = std::max(widest_out, size_t(L.out));
    widest_in = std::max(widest_in, size_t(L.in));
  }
  const size_t b = size_t(std::max(B, 0));
  for (Buffer<float>* buf : {&s.a, &s.b})
    if (buf->size() < widest_out * b) buf->resize(widest_out * b);
  if (s.dense.idx.size() < widest_in * b) s.dense.idx.resize(widest_in * b);
  if (s.dense.val.size() < widest_in * b) s.dense.val.resize(widest_in * b);
  if (s.dense.start.capacity() < b + 1) s.dense.start.reserve(b + 1);
}

void infer_decode(const VaeInfer& m, const float* codes, int B, float* out, InferScratch& s, bool logits) {
  const float* g = relu_stack(m.dec, codes, B, s);
  dense_forward(m.dec_out, g, B, out, logits ? Act::Identity : Act::Sigmoid, &s.dense);
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

double infer_encode_flops(const VaeInfer& m) {
  double f = 2.0 * m.enc_head.in * m.enc_head.out;
  for (const DensePacked& L : m.enc) f += 2.0 * L.in * L.out;
  return f;
}

double infer_decode_flops(const VaeInfer& m) {
  double f = 2.0 * m.dec_out.in * m.dec_out.out;
  for (const DensePacked& L : m.dec) f += 2.0 * L.in * L.out;
  return f;
}

}  // namespace vae
