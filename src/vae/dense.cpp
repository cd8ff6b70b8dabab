// The dense-layer kernel (see dense.hpp): a register-blocked outer-product loop over packed weight panels,
// bias, ReLU and a vectorised sigmoid fused into the store.
#include "vae/dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vae {

namespace {

constexpr int kLanes = kDenseVecBytes / int(sizeof(float));
constexpr int kVecs = kDensePanel / kLanes;  // vectors per panel row (2)
typedef float V __attribute__((vector_size(kDenseVecBytes)));
typedef int32_t VI __attribute__((vector_size(kDenseVecBytes)));

inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
inline V splat(float x) { return V{} + x; }

// exp(x) for x in [-87, 88] (arguments are clamped to it): x = n ln 2 + r, |r| <= ln 2 / 2, e^r by the
// Cephes expf polynomial (relative error about 1e-7), 2^n built in the exponent bits.
inline V vexp(V x) {
  x = x < splat(-87.f) ? splat(-87.f) : x;
  x = x > splat(88.f) ? splat(88.f) : x;
  const V t = x * 1.44269504088896341f;
  const VI n = __builtin_convertvector(t + (t >= splat(0.f) ? splat(0.5f) : splat(-0.5f)), VI);
  const V fn = __builtin_convertvector(n, V);
  V r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  V p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V er = p * (r * r) + r + 1.f;
  const VI bits = (n + 127) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return er * scale;
}

inline V activate(V v, Act act) {
  switch (act) {
    case Act::Relu:
      return v > splat(0.f) ? v : splat(0.f);
    case Act::Sigmoid:
      return splat(1.f) / (splat(1.f) + vexp(-v));
    case Act::Identity:
      break;
  }
  return v;
}

// Accumulators one block keeps in registers. WASM SIMD has 16 vector registers once V8 has compiled it, and
// V8 spills beyond 8 accumulators (measured: a 6x8 block ran at half the speed of a 4x8 one in Chromium);
// natively GCC keeps 12 (SSE/AVX: 16 registers; AVX-512: 32).
#if defined(__wasm_simd128__)
constexpr int kAccumulators = 8;
#else
constexpr int kAccumulators = 12;
#endif
constexpr int kMR = kAccumulators / kVecs;  // images per block in the main loop
// Panels taken at once by a block of MR images: with few images, more panels keep enough sums in flight.
constexpr int panels_for(int MR) { return kAccumulators / (MR * kVecs) > 1 ? kAccumulators / (MR * kVecs) : 1; }

// One image's sums for panel p, activated, into its output column y (the last panel may be cut short by out).
inline void store_panel(const V (&acc)[kVecs], int p, int out, float* y, Act act) {
  for (int v = 0; v < kVecs; ++v) {
    const int o = p * kDensePanel + v * kLanes;
    const V a = activate(acc[v], act);
    if (o + kLanes <= out) {
      store(y + o, a);
    } else if (o < out) {  // the last panel's tail
      float tmp[kLanes];
      store(tmp, a);
      std::copy(tmp, tmp + (out - o), y + o);
    }
  }
}

// MR images (columns b0..b0+MR-1) times NP panels (p0..p0+NP-1): MR * NP * kVecs accumulators that stay in
// registers for the whole sweep over the inputs; each step loads NP * kVecs weight vectors and broadcasts
// MR inputs.
template <int MR, int NP>
void block(const DensePacked& L, int p0, const float* X, int b0, float* Y, Act act) {
  const int in = L.in, out = L.out;
  const float* w[NP];
  const float* x[MR];
  V acc[MR][NP][kVecs];
  for (int q = 0; q < NP; ++q) {
    w[q] = L.w.data() + size_t(p0 + q) * size_t(in) * kDensePanel;
    for (int v = 0; v < kVecs; ++v) {
      const V bias = load(L.b.data() + size_t(p0 + q) * kDensePanel + size_t(v) * kLanes);
      for (int r = 0; r < MR; ++r) acc[r][q][v] = bias;
    }
  }
  for (int r = 0; r < MR; ++r) x[r] = X + size_t(b0 + r) * size_t(in);
  for (int k = 0; k < in; ++k) {
    V wk[NP][kVecs];
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kVecs; ++v) wk[q][v] = load(w[q] + size_t(k) * kDensePanel + size_t(v) * kLanes);
    for (int r = 0; r < MR; ++r) {
      const float xr = x[r][k];
      for (int q = 0; q < NP; ++q)
        for (int v = 0; v < kVecs; ++v) acc[r][q][v] += wk[q][v] * xr;
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < NP; ++q) store_panel(acc[r][q], p0 + q, out, Y + size_t(b0 + r) * size_t(out), act);
}

// The same NP panels for one image from its nonzero inputs only: (index, value) pairs in increasing index order.
// A zero input adds w * 0 = 0 to every sum, so skipping it gives the dense kernel's sums; after a ReLU, about half
// a layer's inputs are zero (and most of an MNIST image's pixels), so half the multiply-adds go.
template <int NP>
void sparse_block(const DensePacked& L, int p0, const int32_t* idx, const float* val, int nnz, float* y, Act act) {
  const float* w[NP];
  V acc[NP][kVecs];
  for (int q = 0; q < NP; ++q) {
    w[q] = L.w.data() + size_t(p0 + q) * size_t(L.in) * kDensePanel;
    for (int v = 0; v < kVecs; ++v) acc[q][v] = load(L.b.data() + size_t(p0 + q) * kDensePanel + size_t(v) * kLanes);
  }
  for (int j = 0; j < nnz; ++j) {
    const size_t row = size_t(idx[j]) * kDensePanel;
    const float x = val[j];
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kVecs; ++v) acc[q][v] += load(w[q] + row + size_t(v) * kLanes) * x;
  }
  for (int q = 0; q < NP; ++q) store_panel(acc[q], p0 + q, L.out, y, act);
}

// When the sparse path pays: under a share of nonzero inputs (it does the dense path's work per nonzero input,
// plus reading the index), and for batches the dense kernel cannot beat by reusing each weight across kMR
// images. Under WASM SIMD128 (panels of 8 floats) that is every batch: the 20x20 grid's decode went from 17.4
// to 14.7 ms in Chromium. Natively (AVX-512 panels of 32 floats) a sparse group's weights outgrow the L1 cache
// and the dense kernel wins from batch kMR on: DEC16 batch 900 took 7.5 ms dense and 17.7 ms sparse, while
// batch 1 went from 0.052 to 0.019 ms.
constexpr double kSparseBelow = 0.75;
#if defined(__wasm_simd128__)
constexpr int kSparseMaxBatch = 1 << 30;
#else
constexpr int kSparseMaxBatch = kMR - 1;
#endif

void sparse_forward(const DensePacked& L, int B, float* Y, Act act, const DenseScratch& nz) {
  const std::vector<int32_t>& idx = nz.idx;
  const std::vector<float>& val = nz.val;
  const std::vector<size_t>& start = nz.start;
  constexpr int NP = kAccumulators / kVecs;
  const int panels = L.panels();
  // Panel groups outside, images inside: a group's weights stay in cache while every image passes over them.
  int p = 0;
  for (; p + NP <= panels; p += NP)
    for (int b = 0; b < B; ++b)
      sparse_block<NP>(L, p, idx.data() + start[size_t(b)], val.data() + start[size_t(b)],
                       int(start[size_t(b) + 1] - start[size_t(b)]), Y + size_t(b) * size_t(L.out), act);
  for (; p < panels; ++p)
    for (int b = 0; b < B; ++b)
      sparse_block<1>(L, p, idx.data() + start[size_t(b)], val.data() + start[size_t(b)],
                      int(start[size_t(b) + 1] - start[size_t(b)]), Y + size_t(b) * size_t(L.out), act);
}


// All panels for images b0..b0+MR-1, NP panels at a time, the remainder one at a time.
template <int MR, int NP>
void all_panels(const DensePacked& L, const float* X, int b0, float* Y, Act act) {
  const int panels = L.panels();
  int p = 0;
  for (; p + NP <= panels; p += NP) block<MR, NP>(L, p, X, b0, Y, act);
  for (; p < panels; ++p) block<MR, 1>(L, p, X, b0, Y, act);
}

// A whole call with n < kMR images: block<n, panels_for(n)> over all panels.
template <int MR = 1>
void few_images(int n, const DensePacked& L, const float* X, float* Y, Act act) {
  if constexpr (MR < kMR) {
    if (n == MR) return all_panels<MR, panels_for(MR)>(L, X, 0, Y, act);
    few_images<MR + 1>(n, L, X, Y, act);
  }
}

// The last n < kMR images of a batch on panel p.
template <int MR = 1>
void tail_block(int n, const DensePacked& L, int p, const float* X, int b0, float* Y, Act act) {
  if constexpr (MR < kMR) {
    if (n == MR) return block<MR, 1>(L, p, X, b0, Y, act);
    tail_block<MR + 1>(n, L, p, X, b0, Y, act);
  }
}

}  // namespace

const char* dense_isa() {
#if defined(__wasm_simd128__)
  return "wasm-simd128";
#elif defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE2__)
  return "sse";
#else
  return "generic";
#endif
}

void dense_pack(const float* W, const float* b, int out, int in, DensePacked& L) {
  L.in = in;
  L.out = out;
  const int panels = L.panels();
  L.w.assign(size_t(panels) * size_t(in) * kDensePanel, 0.f);
  L.b.assign(size_t(panels) * kDensePanel, 0.f);
  for (int o = 0; o < out; ++o) {
    const int p = o / kDensePanel, j = o % kDensePanel;
    float* panel = L.w.data() + size_t(p) * size_t(in) * kDensePanel;
    for (int k = 0; k < in; ++k) panel[size_t(k) * kDensePanel + size_t(j)] = W[size_t(o) * size_t(in) + size_t(k)];
    L.b[size_t(o)] = b[o];
  }
}

const double kDenseSparseBelow = kSparseBelow;
const int kDenseSparseMaxBatch = kSparseMaxBatch;

const char* dense_path_name(DensePath p) {
  switch (p) {
    case DensePath::None: return "none";
    case DensePath::Sparse: return "sparse";
    case DensePath::FewImages: return "few-images";
    case DensePath::Blocked: return "blocked";
  }
  return "?";
}

DensePath dense_forward(const DensePacked& L, const float* X, int B, float* Y, Act act, DenseScratch* scratch) {
  if (B <= 0 || L.out <= 0) return DensePath::None;
  // Mostly zeros (a ReLU's output, an image's blank background): only the nonzero inputs are multiplied.
  const size_t n = size_t(L.in) * size_t(B);
  size_t nnz = 0;
  if (B <= kSparseMaxBatch)
    for (size_t i = 0; i < n; ++i) nnz += X[i] != 0.f;
  if (B <= kSparseMaxBatch && double(nnz) < kSparseBelow * double(n)) {
    DenseScratch local;
    DenseScratch& nz = scratch ? *scratch : local;
    // Sized by what the call could need (in * B), not by this input's nonzeros: a reused scratch then stops
    // growing once the largest batch has been seen, whatever the inputs.
    if (nz.idx.size() < n) nz.idx.resize(n);
    if (nz.val.size() < n) nz.val.resize(n);
    nz.start.assign(size_t(B) + 1, 0);
    size_t j = 0;
    for (int b = 0; b < B; ++b) {
      const float* x = X + size_t(b) * size_t(L.in);
      for (int k = 0; k < L.in; ++k)
        if (x[k] != 0.f) {
          nz.idx[j] = k;
          nz.val[j++] = x[k];
        }
      nz.start[size_t(b) + 1] = j;
    }
    sparse_forward(L, B, Y, act, nz);
    return DensePath::Sparse;
  }
  if (B < kMR) {
    few_images(B, L, X, Y, act);
    return DensePath::FewImages;
  }
  // Panels outside, images inside: one panel's weights (in * kDensePanel floats) stay in L1 while every
  // image passes over them, so the weights are read from memory once per call.
  const int full = B / kMR * kMR;
  for (int p = 0; p < L.panels(); ++p) {
    for (int b0 = 0; b0 < full; b0 += kMR) block<kMR, 1>(L, p, X, b0, Y, act);
    if (full < B) tail_block(B - full, L, p, X, full, Y, act);
  }
  return DensePath::Blocked;
}

void dense_forward_reference(const float* W, const float* b, int out, int in, const float* X, int B, float* Y,
                             Act act) {
  for (int c = 0; c < B; ++c)
    for (int o = 0; o < out; ++o) {
      double s = b[o];
      for (int k = 0; k < in; ++k) s += double(W[size_t(o) * size_t(in) + size_t(k)]) * X[size_t(c) * size_t(in) + size_t(k)];
      if (act == Act::Relu) s = std::max(s, 0.0);
      if (act == Act::Sigmoid) s = 1.0 / (1.0 + std::exp(-s));
      Y[size_t(c) * size_t(out) + size_t(o)] = float(s);
    }
}

void dense_sigmoid(float* Y, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(Y + i, activate(load(Y + i), Act::Sigmoid));
  if (i < n) {
    float tmp[kLanes] = {};
    std::copy(Y + i, Y + n, tmp);
    store(tmp, activate(load(tmp), Act::Sigmoid));
    std::copy(tmp, tmp + (n - i), Y + i);
  }
}

double dense_peak_probe(long steps) {
  constexpr int kChains = 12;  // enough independent sums to cover the multiply-add latency on both pipes
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = splat(1.f + 1e-3f * float(i));
  volatile float vm = 0.9999999f, va = 1e-7f;  // unknown to the compiler, so the loop cannot be folded
  const V m = splat(vm), a = splat(va);
  for (long s = 0; s < steps; ++s)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * m + a;
  V total = {};
  for (int i = 0; i < kChains; ++i) total += acc[i];
  float lanes[kLanes];
  store(lanes, total);
  float sum = 0;
  for (float x : lanes) sum += x;
  volatile float sink = sum;  // the result is used, so the loop stays
  (void)sink;
  return double(steps) * kChains * kLanes * 2;
}

}  // namespace vae
