// The dense-layer kernel (see dense.hpp): a register-blocked outer-product loop over packed weight panels,
// bias, ReLU and a vectorised sigmoid fused into the store.
#include "vae/dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__SSE2__)
#include <immintrin.h>
#endif

#include "vae/quant.hpp"

namespace vae {

namespace {

constexpr int kLanes = kDenseVecBytes / int(sizeof(float));
constexpr int kVecs = kDensePanel / kLanes;  // vectors per panel row (2)
typedef float V __attribute__((vector_size(kDenseVecBytes)));
typedef int32_t VI __attribute__((vector_size(kDenseVecBytes)));
typedef uint32_t VU __attribute__((vector_size(kDenseVecBytes)));

inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
inline V splat(float x) { return V{} + x; }
// b where a < b, else a. Under WASM that is the one-instruction pmax (maxps); a plain select became f32x4.max,
// whose NaN rules cost V8 several instructions. min_of(a, b): b where b < a, else a.
inline V max_of(V a, V b) {
#if defined(__wasm_simd128__)
  return (V)wasm_f32x4_pmax((v128_t)a, (v128_t)b);
#else
  return a < b ? b : a;
#endif
}
inline V min_of(V a, V b) { return -max_of(-a, -b); }

// exp(x) for x in [-87, 88] (arguments are clamped to it): x = n ln 2 + r, |r| <= ln 2 / 2, e^r by the
// Cephes expf polynomial (relative error about 1e-7), 2^n built in the exponent bits. Its constants come in c.
struct ExpConstants {
  V lo, hi, log2e, magic, ln2_hi, ln2_lo, p[6], one;
  // Read through a volatile, so that the compiler cannot see them: it would rebuild each from an immediate at
  // every use in a loop, which V8 does in three instructions; read once, they stay in registers or a load away
  // (measured in Chromium: the 20x20 grid's int8 decode 3 % faster).
  static ExpConstants read() {
    static volatile const float table[] = {-87.f, 88.f, 1.44269504088896341f, 12582912.f, 0.693359375f,
                                           -2.12194440e-4f, 1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f, 1.f};
    ExpConstants c;
    V* const to[] = {&c.lo, &c.hi, &c.log2e, &c.magic, &c.ln2_hi, &c.ln2_lo, &c.p[0], &c.p[1], &c.p[2], &c.p[3],
                     &c.p[4], &c.p[5], &c.one};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i) *to[i] = splat(table[i]);
    return c;
  }
};

inline V vexp(V x, const ExpConstants& c) {
  x = min_of(max_of(x, c.lo), c.hi);
  // n = round(t), to nearest: adding 1.5 * 2^23 leaves n in the low mantissa bits (|t| < 2^22), with no
  // float-to-int conversion (WASM's saturating one is several instructions in V8).
  const V t = x * c.log2e, shifted = t + c.magic;
  VI n, magic_bits, one_bits;
  std::memcpy(&n, &shifted, sizeof n);
  std::memcpy(&magic_bits, &c.magic, sizeof magic_bits);
  std::memcpy(&one_bits, &c.one, sizeof one_bits);
  n -= magic_bits;
  const V fn = shifted - c.magic;
  V r = x - fn * c.ln2_hi;
  r = r - fn * c.ln2_lo;
  V p = c.p[0];
  for (int i = 1; i < 6; ++i) p = p * r + c.p[i];
  const V er = p * (r * r) + r + c.one;
  const VI bits = (n << 23) + one_bits;  // 2^n: n added to 1.0's exponent (127)
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return er * scale;
}

// The store's activation. The sigmoid is not one of them: forward applies it to the whole output afterwards.
inline V activate(V v, Act act) {
  return act == Act::Relu ? max_of(splat(0.f), v) : v;  // 0 < v ? v : 0, so a NaN gives 0 as v > 0 ? v : 0 did
}

// Accumulators one block keeps in registers. WASM SIMD has 16 vector registers once V8 has compiled it, one of
// them V8's scratch: 10 accumulators leave room for a step's 2 weight vectors, a broadcast input and a product
// (a 5x8 block ran 1.5 % faster than a 4x8 one in Chromium 156; a 6x8 one, which cannot fit, at half the speed);
// natively GCC keeps 12 (SSE/AVX: 16 registers; AVX-512: 32).
#if defined(__wasm_simd128__)
constexpr int kAccumulators = 10;
#else
constexpr int kAccumulators = 12;
#endif
constexpr int kMR = kAccumulators / kVecs;  // images per block in the main loop
// Panels taken at once by a block of MR images: with few images, more panels keep enough sums in flight.
constexpr int panels_for(int MR) { return kAccumulators / (MR * kVecs) > 1 ? kAccumulators / (MR * kVecs) : 1; }

// When the sparse path pays: under a share of nonzero inputs (it does the dense path's work per nonzero input,
// plus reading the index), and for batches the dense kernel cannot beat by reusing each weight across kMR
// images. Under WASM SIMD128 (panels of 8 floats) that is every batch for floats: the 20x20 grid's decode went
// from 17.4 to 14.7 ms in Chromium. Natively (AVX-512 panels of 32 floats) a sparse group's weights outgrow the
// L1 cache and the dense kernel wins from batch kMR on: DEC16 batch 900 took 7.5 ms dense and 17.7 ms sparse,
// while batch 1 went from 0.052 to 0.019 ms.
// The int8 kernel's dense loop does two inputs per instruction, so its sparse path pays only at fewer nonzero
// inputs (counted one by one, not in pairs): in Chromium 156, with half the inputs zero, the 30x30 grid took
// 14.4 ms dense and 15.8 ms sparse, while the trained mnist-z2 decoder (36 % and 8 % nonzero) was fastest at a
// switch between 0.30 and 0.45. Natively batch 1 with half the inputs zero: 0.0079-0.0091 ms sparse, 0.0094
// dense.
// kSideBySide: the blocked loop reads its images' inputs side by side (block's SideBySide), under WASM only.
constexpr double kFloatSparseBelow = 0.75;
#if defined(__wasm_simd128__)
constexpr double kInt8SparseBelow = 0.45;
constexpr int kSparseMaxBatch = 1 << 30;
constexpr bool kSideBySide = true;
#else
constexpr double kInt8SparseBelow = 0.6;
constexpr int kSparseMaxBatch = kMR - 1;
constexpr bool kSideBySide = false;
#endif

// The two kernels differ only in what one step of the sweep over the inputs multiplies, and in the store. A step
// is one input (float) or one pair of inputs (int8 weights): K::X is one image's value for a step, K::W a vector
// of the panel's weights for it, K::Acc the running sums.
struct FloatKernel {
  using Layer = DensePacked;
  using X = float;
  using W = V;
  using Acc = V;
  static const float* panel(const Layer& L, int p) { return L.w.data() + size_t(p) * size_t(L.in) * kDensePanel; }
  static constexpr size_t kStep = kDensePanel;  // a step's weights in a panel
  static W weights(const float* panel, size_t step, int v) { return load(panel + step * kStep + size_t(v) * kLanes); }
  static V splat_x(float x) { return splat(x); }
  static Acc mac(Acc a, W w, V x) { return a + w * x; }
  static Acc start(const Layer& L, int p, int v) { return load(L.b.data() + size_t(p) * kDensePanel + size_t(v) * kLanes); }
  static V finish(const Layer&, Acc a, int, int, float) { return a; }
  static constexpr int kInputsPerStep = 1;
  static int nonzero_inputs(float x) { return x != 0; }
  static constexpr double kSparseBelow = kFloatSparseBelow;
  static constexpr bool kMerges = false;  // one input per step: nothing to merge (no merged loop is compiled)
};

// Eight (SIMD128; 32 under AVX-512) 16-bit values: a pair of inputs for each of a vector's outputs.
typedef int16_t VS __attribute__((vector_size(kDenseVecBytes)));

// a + the pairwise products of w and x summed per 32-bit lane: lane i gets w[2i] x[2i] + w[2i+1] x[2i+1]. One
// instruction where there is one (SIMD128's i32x4.dot_i16x8_s, x86's pmaddwd, AVX-512 VNNI's vpdpwssd fused
// with the add); exact, since no pairwise sum of 16-bit products overflows 32 bits.
inline VI dot_add(VI a, VS w, VI x) {
#if defined(__wasm_simd128__)
  return a + (VI)wasm_i32x4_dot_i16x8((v128_t)w, (v128_t)x);
#elif defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
  // The instruction itself: through the intrinsic, GCC 12 keeps every accumulator in memory as well and stores
  // it at every step (the 20x20 grid ran at a third of the probe's rate); as asm it stays in its register.
  asm("vpdpwssd %2, %1, %0" : "+v"(a) : "v"(w), "v"(x));
  return a;
#elif defined(__AVX512F__) && defined(__AVX512BW__)
  return a + (VI)_mm512_madd_epi16((__m512i)w, (__m512i)x);
#elif !defined(__AVX512F__) && defined(__AVX__) && defined(__AVX2__)
  return a + (VI)_mm256_madd_epi16((__m256i)w, (__m256i)x);
#elif !defined(__AVX512F__) && !defined(__AVX__) && defined(__SSE2__)
  return a + (VI)_mm_madd_epi16((__m128i)w, (__m128i)x);
#else
  int16_t ws[2 * kLanes], xs[2 * kLanes];
  int32_t r[kLanes];
  std::memcpy(ws, &w, sizeof ws);
  std::memcpy(xs, &x, sizeof xs);
  std::memcpy(r, &a, sizeof r);
  for (int i = 0; i < kLanes; ++i) r[i] += int32_t(ws[2 * i]) * xs[2 * i] + int32_t(ws[2 * i + 1]) * xs[2 * i + 1];
  std::memcpy(&a, r, sizeof r);
  return a;
#endif
}

// Lanes of the two pairs' vectors (pairs s and t), merged: each 32-bit lane's low 16 bits from s's (its even
// input's weight) and its high 16 bits from t's (its odd input's). One blend instruction (SIMD128 i8x16.shuffle,
// which V8 makes a pblendw; AVX-512BW vpblendmw).
template <size_t... I>
inline VS blend_pairs(VS s, VS t, std::index_sequence<I...>) {
  return __builtin_shufflevector(s, t, int(I % 2 ? I + 2 * kLanes : I)...);
}

struct IntKernel {
  using Layer = DenseQ8;
  using X = int32_t;  // two 16-bit inputs, the even one in the low half
  using W = VS;
  using Acc = VI;
  static const int16_t* panel(const Layer& L, int p) { return L.w.data() + size_t(p) * size_t(L.pairs()) * 2 * kDensePanel; }
  static constexpr size_t kStep = 2 * kDensePanel;
  static W weights(const int16_t* panel, size_t step, int v) {
    W w;
    std::memcpy(&w, panel + step * kStep + size_t(v) * 2 * kLanes, sizeof w);
    return w;
  }
  static constexpr int kInputsPerStep = 2;
  static int nonzero_inputs(int32_t x) { return int((uint32_t(x) & 0xffffu) != 0) + int((uint32_t(x) >> 16) != 0); }
  static constexpr double kSparseBelow = kInt8SparseBelow;
  // Two pairs with one nonzero input each, the even input of pair s and the odd one of pair t, as one step.
  static constexpr bool kMerges = true;
  static W merged(const int16_t* panel, size_t s, size_t t, int v) {
    return blend_pairs(weights(panel, s, v), weights(panel, t, v), std::make_index_sequence<2 * kLanes>{});
  }
  static VI splat_x(int32_t x) { return VI{} + x; }
  static Acc mac(Acc a, W w, VI x) { return dot_add(a, w, x); }
  static Acc start(const Layer&, int, int) { return VI{}; }
  // The sums in units of (weight step) x (input step): scaled per output row and per image, then the bias.
  static V finish(const Layer& L, Acc a, int p, int v, float x_scale) {
    const size_t o = size_t(p) * kDensePanel + size_t(v) * kLanes;
    return __builtin_convertvector(a, V) * (load(L.scale.data() + o) * x_scale) + load(L.b.data() + o);
  }
};

// One image's sums for panel p, activated, into its output column y (the last panel may be cut short by out).
// Always inlined: a call would take the sums' address, and GCC then keeps the int8 kernel's accumulators in memory
// as well as in registers (they may alias the int32 inputs), storing every one of them at every step.
template <class K>
__attribute__((always_inline)) inline void store_panel(const typename K::Layer& L, const typename K::Acc (&acc)[kVecs], int p, float x_scale,
                        float* y, Act act) {
  for (int v = 0; v < kVecs; ++v) {
    const int o = p * kDensePanel + v * kLanes;
    const V a = activate(K::finish(L, acc[v], p, v, x_scale), act);
    if (o + kLanes <= L.out) {
      store(y + o, a);
    } else if (o < L.out) {  // the last panel's tail
      float tmp[kLanes];
      store(tmp, a);
      std::copy(tmp, tmp + (L.out - o), y + o);
    }
  }
}

// An input batch as the kernel reads it: `steps` values per image, image b's at x + b * steps, and its scale
// (the int kernel's per-image input step; 1 for floats).
template <class K>
struct Input {
  const typename K::X* x;
  int steps;
  const float* scale;  // null: 1 for every image
  const typename K::X* column(int b) const { return x + size_t(b) * size_t(steps); }
  float scale_of(int b) const { return scale ? scale[b] : 1.f; }
};

// MR images (columns b0..b0+MR-1) times NP panels (p0..p0+NP-1): MR * NP * kVecs accumulators that stay in
// registers for the whole sweep over the inputs; each step loads NP * kVecs weight vectors and broadcasts
// MR inputs. SideBySide: the MR images' values are read from `side`, step k's at side[k * MR + r], so that one
// pointer and constant offsets reach them all: WASM has no indexed addressing, and V8 computed each image's
// address at every step (5 of a step's 32 instructions; the grids' int8 decode ran 6-8 % faster side by side in
// Chromium 156, with the pointers below). Natively x86 addressing does it for free, so there it is not used.
template <class K, int MR, int NP, bool SideBySide = false>
void block(const typename K::Layer& L, int p0, const Input<K>& X, int b0, float* Y, Act act,
           const typename K::X* side = nullptr) {
  decltype(K::panel(L, 0)) w[NP];
  const typename K::X* x[MR];
  typename K::Acc acc[MR][NP][kVecs];
  for (int q = 0; q < NP; ++q) {
    w[q] = K::panel(L, p0 + q);
    for (int v = 0; v < kVecs; ++v) {
      const typename K::Acc init = K::start(L, p0 + q, v);
      for (int r = 0; r < MR; ++r) acc[r][q][v] = init;
    }
  }
  for (int r = 0; r < MR; ++r) x[r] = X.column(b0 + r);
  // Pointers stepped along, not indices: under WASM each indexed address costs a shift and an add per step.
  for (const auto* const end = w[0] + size_t(X.steps) * K::kStep; w[0] != end;) {
    typename K::W wk[NP][kVecs];
    for (int q = 0; q < NP; ++q) {
      for (int v = 0; v < kVecs; ++v) wk[q][v] = K::weights(w[q], 0, v);
      w[q] += K::kStep;
    }
    for (int r = 0; r < MR; ++r) {
      const auto xr = K::splat_x(SideBySide ? side[r] : *x[r]++);
      for (int q = 0; q < NP; ++q)
        for (int v = 0; v < kVecs; ++v) acc[r][q][v] = K::mac(acc[r][q][v], wk[q][v], xr);
    }
    if (SideBySide) side += MR;
  }
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < NP; ++q)
      store_panel<K>(L, acc[r][q], p0 + q, X.scale_of(b0 + r), Y + size_t(b0 + r) * size_t(L.out), act);
}

// The same NP panels for one image from its nonzero input steps only: (step, value) pairs in increasing order,
// `steps` of them, then for the int8 kernel `merged` steps that each join two half-empty pairs (the step
// indices s, t of each at idx[steps..], their joint value after the others'). A zero input adds w * 0 = 0 to
// every sum, so skipping it gives the dense kernel's sums; after a ReLU, about half a layer's inputs are zero (and
// most of an MNIST image's pixels), so half the multiply-adds go.
template <class K, int NP>
void sparse_block(const typename K::Layer& L, int p0, const int32_t* idx, const typename K::X* val, int steps,
                  int merged, float x_scale, float* y, Act act) {
  decltype(K::panel(L, 0)) w[NP];
  typename K::Acc acc[NP][kVecs];
  for (int q = 0; q < NP; ++q) {
    w[q] = K::panel(L, p0 + q);
    for (int v = 0; v < kVecs; ++v) acc[q][v] = K::start(L, p0 + q, v);
  }
  for (int j = 0; j < steps; ++j) {
    const size_t step = size_t(idx[j]);
    const auto x = K::splat_x(val[j]);
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kVecs; ++v) acc[q][v] = K::mac(acc[q][v], K::weights(w[q], step, v), x);
  }
  if constexpr (K::kMerges)
    for (int j = 0; j < merged; ++j) {
      const size_t s = size_t(idx[steps + 2 * j]), t = size_t(idx[steps + 2 * j + 1]);
      const auto x = K::splat_x(val[steps + j]);
      for (int q = 0; q < NP; ++q)
        for (int v = 0; v < kVecs; ++v) acc[q][v] = K::mac(acc[q][v], K::merged(w[q], s, t, v), x);
    }
  for (int q = 0; q < NP; ++q) store_panel<K>(L, acc[q], p0 + q, x_scale, y, act);
}


// The nonzero steps of X, image after image, into nz's lists (idx and the values of K's type).
template <class K>
std::vector<typename K::X>& nonzero_values(DenseScratch& nz);
template <>
std::vector<float>& nonzero_values<FloatKernel>(DenseScratch& nz) { return nz.val; }
template <>
std::vector<int32_t>& nonzero_values<IntKernel>(DenseScratch& nz) { return nz.qval; }

template <class K>
size_t count_nonzero(const Input<K>& X, int B) {
  const size_t n = size_t(X.steps) * size_t(B);
  size_t nnz = 0;
  for (size_t i = 0; i < n; ++i) nnz += size_t(K::nonzero_inputs(X.x[i]));
  return nnz;
}

// One image's nonzero steps from x (n of them) into idx and val; returns how many, with merged = 0.
inline int nonzero_steps(const float* x, int n, int32_t* idx, float* val, int& merged, DenseScratch&) {
  int j = 0;
  for (int k = 0; k < n; ++k)
    if (x[k] != 0) {
      idx[j] = k;
      val[j++] = x[k];
    }
  merged = 0;
  return j;
}

// The int8 kernel's: a pair with both inputs nonzero is a step as it is. A pair with only its even input nonzero
// is merged with one that has only its odd input nonzero (K::merged): half the pairs after a ReLU have one zero,
// and merged, each pair of them costs one more load and one blend instead of a second multiply. The pairs left
// over go with the whole ones. Branch-free: every candidate is written, and the counts advance by the tests.
inline int nonzero_steps(const int32_t* x, int n, int32_t* idx, int32_t* val, int& merged, DenseScratch& nz) {
  if (nz.qhalf.size() < 4 * size_t(n)) nz.qhalf.resize(4 * size_t(n));
  int32_t *even = nz.qhalf.data(), *even_val = even + n, *odd = even + 2 * n, *odd_val = even + 3 * n;
  int j = 0, ne = 0, no = 0;
  for (int k = 0; k < n; ++k) {
    const uint32_t v = uint32_t(x[k]);
    const int lo = (v & 0xffffu) != 0, hi = (v >> 16) != 0;
    idx[j] = even[ne] = odd[no] = k;
    val[j] = even_val[ne] = odd_val[no] = x[k];
    j += lo & hi;
    ne += lo & !hi;
    no += hi & !lo;
  }
  merged = std::min(ne, no);
  for (int i = merged; i < ne; ++i, ++j) idx[j] = even[i], val[j] = even_val[i];
  for (int i = merged; i < no; ++i, ++j) idx[j] = odd[i], val[j] = odd_val[i];
  for (int i = 0; i < merged; ++i) {
    idx[j + 2 * i] = even[i];
    idx[j + 2 * i + 1] = odd[i];
    val[j + i] = int32_t((uint32_t(even_val[i]) & 0xffffu) | (uint32_t(odd_val[i]) & 0xffff0000u));
  }
  return j;
}

template <class K>
void sparse_forward(const typename K::Layer& L, const Input<K>& X, int B, float* Y, Act act, DenseScratch& nz) {
  std::vector<typename K::X>& val = nonzero_values<K>(nz);
  // Sized by what the call could need (steps * B), not by this input's nonzeros: a reused scratch then stops
  // growing once the largest batch has been seen, whatever the inputs. An image's lists begin at start[b]: its
  // steps (count[b] of them), then its merged steps' two indices each.
  const size_t n = size_t(X.steps) * size_t(B);
  if (nz.idx.size() < n) nz.idx.resize(n);
  if (val.size() < n) val.resize(n);
  nz.start.assign(size_t(B) + 1, 0);
  nz.count.assign(size_t(B), 0);
  size_t j = 0;
  for (int b = 0; b < B; ++b) {
    int merged = 0;
    const int steps = nonzero_steps(X.column(b), X.steps, nz.idx.data() + j, val.data() + j, merged, nz);
    nz.count[size_t(b)] = steps;
    j += size_t(steps) + 2 * size_t(merged);
    nz.start[size_t(b) + 1] = j;
  }
  const std::vector<int32_t>& idx = nz.idx;
  const std::vector<size_t>& start = nz.start;
  constexpr int NP = kAccumulators / kVecs;
  const int panels = L.panels();
  auto image = [&](auto np, int p, int b) {
    const size_t at = start[size_t(b)];
    const int steps = nz.count[size_t(b)], merged = int(start[size_t(b) + 1] - at - size_t(steps)) / 2;
    sparse_block<K, decltype(np)::value>(L, p, idx.data() + at, val.data() + at, steps, merged, X.scale_of(b),
                                         Y + size_t(b) * size_t(L.out), act);
  };
  // Panel groups outside, images inside: a group's weights stay in cache while every image passes over them.
  int p = 0;
  for (; p + NP <= panels; p += NP)
    for (int b = 0; b < B; ++b) image(std::integral_constant<int, NP>{}, p, b);
  for (; p < panels; ++p)
    for (int b = 0; b < B; ++b) image(std::integral_constant<int, 1>{}, p, b);
}

// All panels for images b0..b0+MR-1, NP panels at a time, the remainder one at a time.
template <class K, int MR, int NP>
void all_panels(const typename K::Layer& L, const Input<K>& X, int b0, float* Y, Act act) {
  const int panels = L.panels();
  int p = 0;
  for (; p + NP <= panels; p += NP) block<K, MR, NP>(L, p, X, b0, Y, act);
  for (; p < panels; ++p) block<K, MR, 1>(L, p, X, b0, Y, act);
}

// A whole call with n < kMR images: block<n, panels_for(n)> over all panels.
template <class K, int MR = 1>
void few_images(int n, const typename K::Layer& L, const Input<K>& X, float* Y, Act act) {
  if constexpr (MR < kMR) {
    if (n == MR) return all_panels<K, MR, panels_for(MR)>(L, X, 0, Y, act);
    few_images<K, MR + 1>(n, L, X, Y, act);
  }
}

// The last n < kMR images of a batch on panel p.
template <class K, int MR = 1>
void tail_block(int n, const typename K::Layer& L, int p, const Input<K>& X, int b0, float* Y, Act act) {
  if constexpr (MR < kMR) {
    if (n == MR) return block<K, MR, 1>(L, p, X, b0, Y, act);
    tail_block<K, MR + 1>(n, L, p, X, b0, Y, act);
  }
}

// The kernel's three paths for any K; returns the one taken.
template <class K>
DensePath paths(const typename K::Layer& L, const Input<K>& X, int B, float* Y, Act act, DenseScratch* scratch) {
  // Mostly zeros (a ReLU's output, an image's blank background): only the nonzero inputs are multiplied.
  if (B <= kSparseMaxBatch &&
      double(count_nonzero(X, B)) < K::kSparseBelow * double(size_t(K::kInputsPerStep) * size_t(X.steps) * size_t(B))) {
    DenseScratch local;
    sparse_forward(L, X, B, Y, act, scratch ? *scratch : local);
    return DensePath::Sparse;
  }
  if (B < kMR) {
    few_images(B, L, X, Y, act);
    return DensePath::FewImages;
  }
  // Panels outside, images inside: one panel's weights (in * kDensePanel floats) stay in L1 while every
  // image passes over them, so the weights are read from memory once per call. Under WASM each block of kMR
  // images is first laid side by side (block's SideBySide), in the sparse path's value list, which this path
  // leaves free.
  const int full = B / kMR * kMR;
  DenseScratch local;
  std::vector<typename K::X>& side = nonzero_values<K>(scratch ? *scratch : local);
  const size_t steps = size_t(X.steps);
  if (kSideBySide) {
    if (side.size() < steps * size_t(full)) side.resize(steps * size_t(full));
    for (int b0 = 0; b0 < full; b0 += kMR)
      for (int r = 0; r < kMR; ++r) {
        const typename K::X* x = X.column(b0 + r);
        typename K::X* to = side.data() + size_t(b0) * steps + size_t(r);
        for (size_t k = 0; k < steps; ++k) to[k * kMR] = x[k];
      }
  }
  for (int p = 0; p < L.panels(); ++p) {
    for (int b0 = 0; b0 < full; b0 += kMR)
      block<K, kMR, 1, kSideBySide>(L, p, X, b0, Y, act, kSideBySide ? side.data() + size_t(b0) * steps : nullptr);
    if (full < B) tail_block(B - full, L, p, X, full, Y, act);
  }
  return DensePath::Blocked;
}

// The sigmoid over the whole output after the sums, not in each block's store: there its constants were built
// anew for every vector (V8 makes a SIMD constant in three instructions). This pass, its constants read once, made
// the int8 grids 3 % faster; the constants passed to the store instead, read once per call, 2-4 % slower than
// this pass over the (cached) output.
template <class K>
DensePath forward(const typename K::Layer& L, const Input<K>& X, int B, float* Y, Act act, DenseScratch* scratch) {
  const DensePath path = paths(L, X, B, Y, act == Act::Sigmoid ? Act::Identity : act, scratch);
  if (act == Act::Sigmoid) dense_sigmoid(Y, size_t(L.out) * size_t(B));
  return path;
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

const char* dense_int8_isa() {
#if defined(__wasm_simd128__)
  return "i32x4.dot_i16x8_s";
#elif defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
  return "vpdpwssd (AVX-512 VNNI)";
#elif defined(__AVX512F__) && defined(__AVX512BW__)
  return "vpmaddwd (AVX-512BW)";
#elif !defined(__AVX512F__) && defined(__AVX__) && defined(__AVX2__)
  return "vpmaddwd (AVX2)";
#elif !defined(__AVX512F__) && !defined(__AVX__) && defined(__SSE2__)
  return "pmaddwd (SSE2)";
#else
  return "scalar";
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

const double kDenseSparseBelow = kFloatSparseBelow;
const double kDenseInt8SparseBelow = kInt8SparseBelow;
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
  return forward<FloatKernel>(L, Input<FloatKernel>{X, L.in, nullptr}, B, Y, act, scratch);
}

int dense_q8_input_cap(int in) {
  const long long cap = (std::numeric_limits<int32_t>::max)() / (127LL * std::max(in, 1));
  return int(std::min<long long>(cap, (std::numeric_limits<int16_t>::max)()));
}

void dense_pack_q8(const float* W, const float* scale, const float* b, int out, int in, DenseQ8& L) {
  L.in = in;
  L.out = out;
  const int panels = L.panels(), pairs = L.pairs();
  L.w.assign(size_t(panels) * size_t(pairs) * 2 * kDensePanel, 0);
  L.scale.assign(size_t(panels) * kDensePanel, 1.f);
  L.b.assign(size_t(panels) * kDensePanel, 0.f);
  std::vector<float> q(size_t(std::max(in, 0)));
  for (int o = 0; o < out; ++o) {
    const float* row = W + size_t(o) * size_t(in);
    float s;
    if (scale) {  // the file's scales: its whole numbers back (W = q s, so W / s rounds to q)
      s = scale[o];
      for (int k = 0; k < in; ++k) q[size_t(k)] = std::min(127.f, std::max(-127.f, std::nearbyint(row[k] / s)));
    } else {
      s = quant_row(row, in, q.data());
    }
    const int p = o / kDensePanel, j = o % kDensePanel;
    int16_t* panel = L.w.data() + size_t(p) * size_t(pairs) * 2 * kDensePanel;
    for (int k = 0; k < in; ++k) panel[(size_t(k / 2) * kDensePanel + size_t(j)) * 2 + size_t(k % 2)] = int16_t(q[size_t(k)]);
    L.scale[size_t(o)] = s;
    L.b[size_t(o)] = b[o];
  }
}

void dense_q8_dequantize(const DenseQ8& L, float* W) {
  for (int o = 0; o < L.out; ++o) {
    const int p = o / kDensePanel, j = o % kDensePanel;
    const int16_t* panel = L.w.data() + size_t(p) * size_t(L.pairs()) * 2 * kDensePanel;
    for (int k = 0; k < L.in; ++k)
      W[size_t(o) * size_t(L.in) + size_t(k)] =
          float(panel[(size_t(k / 2) * kDensePanel + size_t(j)) * 2 + size_t(k % 2)]) * L.scale[size_t(o)];
  }
}

void dense_q8_quantize_input(const float* X, int in, int B, int32_t* pairs, float* scale) {
  typedef int16_t VH __attribute__((vector_size(kDenseVecBytes / 2)));  // kLanes 16-bit values
  const int cap = dense_q8_input_cap(in), np = (in + 1) / 2;
  const int whole = in / kLanes * kLanes;
  for (int b = 0; b < B; ++b) {
    const float* x = X + size_t(b) * size_t(in);
    // The pairs as 16-bit values one after another: pair j is the 32 bits at value 2j, the even one low.
    char* xq = reinterpret_cast<char*>(pairs + size_t(b) * size_t(np));
    V vmax = {}, poison = {};  // poison: x * 0 summed, NaN if any input is a NaN or an infinity
    for (int k = 0; k < whole; k += kLanes) {
      const V v = load(x + k), a = v < splat(0.f) ? -v : v;
      vmax = a > vmax ? a : vmax;
      poison += v * 0.f;
    }
    float amax = 0, nonfinite = 0;
    float lanes[kLanes], tail[kLanes];
    store(lanes, vmax);
    for (float l : lanes) amax = std::max(amax, l);
    store(lanes, poison);
    for (float l : lanes) nonfinite += l;
    for (int k = whole; k < in; ++k) {
      amax = std::max(amax, std::fabs(x[k]));
      nonfinite += x[k] * 0.f;
    }
    if (nonfinite != 0.f || amax == 0.f) {
      // All zeros: sums of zero. A NaN or an infinity: no whole numbers stand for it, and a NaN step carries it
      // into every output of the image, as the float kernel's sums would.
      std::memset(xq, 0, size_t(np) * sizeof(int32_t));
      scale[b] = amax == 0.f && nonfinite == 0.f ? 0.f : std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    // Rounded half away from zero: |x * inv| <= cap, so no value passes the cap, and each one moves by at most
    // half a step.
    const float inv = float(cap) / amax;
    const auto round = [inv](V v) {
      const V t = v * inv;
      return __builtin_convertvector(__builtin_convertvector(t + (t >= splat(0.f) ? splat(0.5f) : splat(-0.5f)), VI), VH);
    };
    for (int k = 0; k < whole; k += kLanes) {
      const VH h = round(load(x + k));
      std::memcpy(xq + size_t(k) * 2, &h, sizeof h);
    }
    if (whole < in || in % 2) {  // the last values, and a zero to pair an odd last one with
      std::fill(tail, tail + kLanes, 0.f);
      std::copy(x + whole, x + in, tail);
      const VH h = round(load(tail));
      std::memcpy(xq + size_t(whole) * 2, &h, size_t(2 * np - whole) * 2);
    }
    scale[b] = amax / float(cap);
  }
}

DensePath dense_forward_q8(const DenseQ8& L, const float* X, int B, float* Y, Act act, DenseScratch* scratch) {
  if (B <= 0 || L.out <= 0) return DensePath::None;
  DenseScratch local;
  DenseScratch& s = scratch ? *scratch : local;
  const size_t n = size_t(L.pairs()) * size_t(B);
  if (s.qx.size() < n) s.qx.resize(n);
  if (s.qscale.size() < size_t(B)) s.qscale.resize(size_t(B));
  dense_q8_quantize_input(X, L.in, B, s.qx.data(), s.qscale.data());
  return forward<IntKernel>(L, Input<IntKernel>{s.qx.data(), L.pairs(), s.qscale.data()}, B, Y, act, &s);
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
  const ExpConstants c = ExpConstants::read();
  const auto sigmoid = [&c](V v) { return c.one / (c.one + vexp(-v, c)); };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(Y + i, sigmoid(load(Y + i)));
  if (i < n) {
    float tmp[kLanes] = {};
    std::copy(Y + i, Y + n, tmp);
    store(tmp, sigmoid(load(tmp)));
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

double dense_q8_peak_probe(long steps) {
  constexpr int kChains = 12;
  VI acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = VI{} + i;
  // Each step multiplies the sums themselves (as 16-bit pairs) by the weights w, so no step can be hoisted out of
  // the loop (a loop-invariant product would be, by V8 or GCC, and the probe would time additions only), as the
  // float probe's chains multiply their own sums. w is zero, which the compiler cannot know: the sums never change
  // and cannot overflow.
  volatile int32_t vw = 0;
  VS w;
  const VI wi = VI{} + int32_t(vw);
  std::memcpy(&w, &wi, sizeof w);
  for (long s = 0; s < steps; ++s)
    for (int i = 0; i < kChains; ++i) acc[i] = dot_add(acc[i], w, acc[i]);
  VI total = {};
  for (int i = 0; i < kChains; ++i) total = (VI)((VU)total + (VU)acc[i]);
  uint32_t lanes[kLanes];
  std::memcpy(lanes, &total, sizeof lanes);
  uint32_t sum = 0;
  for (uint32_t v : lanes) sum += v;
  volatile uint32_t sink = sum;
  (void)sink;
  return double(steps) * kChains * kLanes * 2 * 2;
}

}  // namespace vae
