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

enum class Act { Identity, Relu, Sigmoid };

struct DensePacked {
  int in = 0, out = 0;
  Buffer<float> w;  // (panels, in, kDensePanel), zero past `out`
  Buffer<float> b;  // (panels * kDensePanel), zero past `out`
  int panels() const { return (out + kDensePanel - 1) / kDensePanel; }
};

// The sparse path's lists of nonzero inputs, grown on demand; reuse one across calls.
struct DenseScratch {
  std::vector<int32_t> idx;   // input index of each nonzero, image after image (at least in * B long)
  std::vector<float> val;     // its value
  std::vector<size_t> start;  // (B + 1) where each image's nonzeros begin
};

// Which loop a dense_forward call ran, so that tests can hold each path to the reference and see it taken.
enum class DensePath {
  None,       // nothing to do (B or out is 0)
  Sparse,     // only the nonzero inputs multiplied (under kDenseSparseBelow nonzero, batch <= kDenseSparseMaxBatch)
  FewImages,  // dense, a batch smaller than one register block
  Blocked,    // dense, register blocks of images over each weight panel
};
const char* dense_path_name(DensePath p);
// The sparse path's switch: a share of nonzero inputs below this, in a batch of at most kDenseSparseMaxBatch
// images (every batch under WASM SIMD128; natively only batches the blocked loop cannot beat, see dense.cpp).
extern const double kDenseSparseBelow;
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
// Y = 1 / (1 + exp(-Y)) in place over n values, with the kernel's vector exp.
void dense_sigmoid(float* Y, size_t n);
// The arithmetic ceiling of one core for this build: `steps` rounds of independent vector multiply-adds
// (fused where the target has FMA), nothing loaded or stored. Returns the floating-point operations done;
// time it to get the peak FLOP/s that the benchmarks report their share of.
double dense_peak_probe(long steps);

}  // namespace vae
