// The inference kernel: a dense layer Y = act(W X + b) for float, written once with GCC/clang vector types so
// that it compiles to AVX-512/AVX/SSE natively and to WASM SIMD128 (-msimd128) in the browser. Not used for
// training (the trainer's Eigen path has the backward pass and bit-exact determinism); tests hold the two equal.
//
// Layout: X (in, B) and Y (out, B) column-major, one image per column, as everywhere in the engine. The weights
// are repacked once: W^T cut into panels of kDensePanel outputs, panel p being (in, kDensePanel) row-major, so
// the inner loop reads kDensePanel consecutive weights per input and broadcasts one input value per image.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vae/model.hpp"

namespace vae {

// Bytes in one SIMD vector of this build, and the panel width (two vectors of floats).
#if defined(__AVX512F__)
constexpr int kDenseVecBytes = 64;
#elif defined(__AVX__)
constexpr int kDenseVecBytes = 32;
#else
constexpr int kDenseVecBytes = 16;  // SSE natively; WASM SIMD128 under Emscripten with -msimd128
#endif
constexpr int kDensePanel = 2 * kDenseVecBytes / int(sizeof(float));

// The instruction set the kernel was compiled for: "avx512", "avx", "sse", "wasm-simd128" or "generic".
const char* dense_isa();
// The int8 kernel's instruction: "i32x4.dot_i16x8_s", "vpdpwssd (AVX-512 VNNI)", "vpmaddwd (AVX-512BW)",
// "vpmaddwd (AVX2)", "pmaddwd (SSE2)" or "scalar".
const char* dense_int8_isa();

enum class Act { Identity, Relu, Sigmoid };

struct DensePacked {
  int in = 0, out = 0;
  Buffer<float> w;  // (panels, in, kDensePanel), zero past `out`
  Buffer<float> b;  // (panels * kDensePanel), zero past `out`
  int panels() const { return (out + kDensePanel - 1) / kDensePanel; }
};

// The int8 kernel's layer: W (out, in) as whole numbers q in [-127, 127] with one scale per output row,
// W[o][k] = q[o][k] * scale[o]. Packed in panels of kDensePanel outputs as the float layer is, with the inputs
// taken in pairs: for pair j and output lane l the panel holds q[l][2j], q[l][2j + 1] as 16-bit values, the layout
// that i32x4.dot_i16x8_s (SIMD128), pmaddwd and vpdpwssd (AVX-512 VNNI) multiply against a broadcast pair.
struct DenseQ8 {
  int in = 0, out = 0;
  Buffer<int16_t> w;    // (panels, pairs, kDensePanel, 2), zero past `out` and past `in`
  Buffer<float> scale;  // (panels * kDensePanel), 1 past `out`
  Buffer<float> b;      // (panels * kDensePanel), zero past `out`
  int pairs() const { return (in + 1) / 2; }
  int panels() const { return (out + kDensePanel - 1) / kDensePanel; }
};

// The sparse path's lists of nonzero inputs, grown on demand; reuse one across calls.
struct DenseScratch {
  std::vector<int32_t> idx;   // input index of each nonzero, image after image (at least in * B long)
  std::vector<float> val;     // its value
  std::vector<size_t> start;  // (B + 1) where each image's nonzeros begin
  // The int8 kernel's inputs as whole numbers, two 16-bit values per int32 (pairs, B), their nonzero pairs for
  // the sparse path, and each image's input step. (Under WASM the blocked path lays its inputs side by side in
  // val or qval, which it leaves free.)
  std::vector<int32_t> qx, qval;
  std::vector<float> qscale;
  std::vector<int32_t> count;  // (B) each image's steps taken as they are (after them in idx: its merged pairs)
  std::vector<int32_t> qhalf;  // (4 * pairs) one image's half-empty pairs, even and odd, while it is listed
};

// Which loop a dense_forward call ran, so that tests can hold each path to the reference and see it taken.
enum class DensePath {
  None,       // nothing to do (B or out is 0)
  Sparse,     // only the nonzero inputs multiplied (under kDenseSparseBelow nonzero, or kDenseInt8SparseBelow for
              // the int8 kernel, in a batch of at most kDenseSparseMaxBatch)
  FewImages,  // dense, a batch smaller than one register block
  Blocked,    // dense, register blocks of images over each weight panel
};
const char* dense_path_name(DensePath p);
// The sparse path's switch: a share of nonzero inputs below this, in a batch of at most kDenseSparseMaxBatch
// images (every batch under WASM SIMD128; natively only batches the blocked loop cannot beat, see dense.cpp).
extern const double kDenseSparseBelow;
extern const double kDenseInt8SparseBelow;  // a share of nonzero inputs, counted one by one (not in pairs)
extern const int kDenseSparseMaxBatch;

// Packs W (out, in) row-major and b (out) into L.
void dense_pack(const float* W, const float* b, int out, int in, DensePacked& L);
// Y (L.out, B) = act(W X + b) for X (L.in, B). X and Y must not overlap. Without `scratch`, the sparse path
// (mostly zero inputs) allocates its lists for the call. Returns the path it took.
DensePath dense_forward(const DensePacked& L, const float* X, int B, float* Y, Act act,
                        DenseScratch* scratch = nullptr);
// The same with plain loops on the unpacked weights: the reference the tests compare against.
void dense_forward_reference(const float* W, const float* b, int out, int in, const float* X, int B, float* Y,
                             Act act);
// The int8 kernel. Each image's inputs become whole numbers on the fly, x[k] ~= xq[k] * sx with one step sx per
// image: sx = max_k |x[k]| / cap, |xq| <= cap = dense_q8_input_cap(in). The sums of q * xq are exact in int32:
// in * 127 * cap <= 2^31 - 1 by the choice of cap, and each instruction's pairwise sum (2 * 127 * 32767) fits. The
// store scales them, y[o] = act(sum * scale[o] * sx + b[o]), so against the float layer with the dequantized
// weights (dense_q8_dequantize) each output differs by at most sum_k |q[o][k]| scale[o] * sx / 2, plus float
// rounding of the store. With cap = 32767 for in <= 516 and 21568 for 784 inputs, that is one part in 40,000 of
// the largest input; the weights' own rounding (scale / 2 per weight) is what the quantized model pays.
int dense_q8_input_cap(int in);
// Packs W (out, in) row-major with its per-row scales (a quantized file's: q = round(W / scale)), or with
// scale == nullptr quantized here as the file quantizer does (quant_row), and b (out).
void dense_pack_q8(const float* W, const float* scale, const float* b, int out, int in, DenseQ8& L);
// The packed weights as floats, q * scale, into W (out, in) row-major: what the int8 layer multiplies by.
void dense_q8_dequantize(const DenseQ8& L, float* W);
// X (in, B) -> each image's input pairs (pairs, B) and its step (B), as dense_forward_q8 makes them. An image
// of zeros gets step 0; one holding a NaN or an infinity gets a NaN step, so its outputs are NaN.
void dense_q8_quantize_input(const float* X, int in, int B, int32_t* pairs, float* scale);
// Y (L.out, B) = act(W X + b) in integers, with the float kernel's paths. The sparse one takes the pairs with both
// inputs nonzero as they are, and two pairs with one nonzero input each (an even one and an odd one) as one.
DensePath dense_forward_q8(const DenseQ8& L, const float* X, int B, float* Y, Act act, DenseScratch* scratch = nullptr);

// Y = 1 / (1 + exp(-Y)) in place over n values, with the kernel's vector exp.
void dense_sigmoid(float* Y, size_t n);
// The arithmetic ceiling of one core for this build: `steps` rounds of independent vector multiply-adds
// (fused where the target has FMA), nothing loaded or stored. Returns the floating-point operations done;
// time it to get the peak FLOP/s that the benchmarks report their share of.
double dense_peak_probe(long steps);
// The same for the int8 kernel's instruction (dot_add in dense.cpp): `steps` rounds of independent 16-bit
// pairwise multiply-accumulates. Returns the multiply-accumulates done, counted as 2 operations each.
double dense_q8_peak_probe(long steps);

}  // namespace vae
