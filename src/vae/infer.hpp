// Inference on the dense kernel (dense.hpp): a model's layers packed once, then encode, decode and the
// importance-weighted log p(x) for the studio and the benchmarks. Single-threaded; no training here (the
// trainer and the reference passes are model.hpp's, which the tests compare these against).
#pragma once
#include <vector>

#include "vae/dense.hpp"
#include "vae/model.hpp"

namespace vae {

struct VaeInfer {
  Arch arch;
  std::vector<DensePacked> enc;  // D -> H_0 -> ... -> H_{L-1}, ReLU
  DensePacked enc_head;          // H_{L-1} -> 2Z: outputs 0..Z-1 are mu, Z..2Z-1 logvar
  std::vector<DensePacked> dec;  // Z -> H_{L-1} -> ... -> H_0, ReLU
  DensePacked dec_out;           // H_0 -> D logits
};
// Packs m's current weights (repack after the weights change).
VaeInfer infer_make(const Vae& m);

// Activations between layers, grown on demand; reuse one across calls.
struct InferScratch {
  Buffer<float> a, b;
  DenseScratch dense;
};

// Grows s to what infer_decode needs for B codes, so that decoding any batch up to B (say, a grid in slices)
// then allocates nothing and s's size does not depend on how the batch was sliced.
void infer_reserve_decode(const VaeInfer& m, int B, InferScratch& s);
// X (D, B) -> mu, logvar (Z, B each), column-major.
void infer_encode(const VaeInfer& m, const float* X, int B, float* mu, float* logvar, InferScratch& s);
// codes (Z, B) -> out (D, B): Bernoulli means sigmoid(logits), or the logits themselves.
void infer_decode(const VaeInfer& m, const float* codes, int B, float* out, InferScratch& s, bool logits = false);
// vae_iwae (model.hpp) on the packed model: log p(x) per column of X with K importance samples.
void infer_iwae(const VaeInfer& m, const MatrixRef& X, int K, uint64_t seed, size_t first_index, InferScratch& s,
                std::vector<double>& out);

// Floating-point operations per image of infer_encode and infer_decode: 2 * in * out summed over the packed
// layers (enc_head included), the multiply-adds of the matrix products; biases and activations not counted.
double infer_encode_flops(const VaeInfer& m);
double infer_decode_flops(const VaeInfer& m);

}  // namespace vae
