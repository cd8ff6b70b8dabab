// Inference on the dense kernel (dense.hpp): a model's layers packed once, then encode, decode and the
// importance-weighted log p(x) for the studio and the benchmarks. Single-threaded; no training here (the
// trainer and the reference passes are model.hpp's, which the tests compare these against).
#pragma once
#include <vector>

#include "vae/cvae.hpp"
#include "vae/dense.hpp"
#include "vae/model.hpp"

namespace vae {

// One packed layer: float weights for the float kernel, or int8 ones for the int8 kernel (dense.hpp).
struct InferLayer {
  bool int8 = false;
  DensePacked f;  // when !int8
  DenseQ8 q;      // when int8
  int in() const { return int8 ? q.in : f.in; }
  int out() const { return int8 ? q.out : f.out; }
};
// Y (out, B) = act(W X + b) on the layer's kernel; returns the path it took.
DensePath infer_layer_forward(const InferLayer& L, const float* X, int B, float* Y, Act act, DenseScratch* s);

struct VaeInfer {
  Arch arch;
  std::vector<InferLayer> enc;  // D -> H_0 -> ... -> H_{L-1}, ReLU
  InferLayer enc_head;          // H_{L-1} -> 2Z: outputs 0..Z-1 are mu, Z..2Z-1 logvar
  std::vector<InferLayer> dec;  // Z -> H_{L-1} -> ... -> H_0, ReLU
  InferLayer dec_out;           // H_0 -> D logits
  int int8_layers() const;      // how many of them run in integers
};
// Which kernel each layer gets. AsStored: the int8 kernel for the weights a quantized file held as int8 (with
// the file's scales, m.row_scales), the float kernel for the rest. Float: the float kernel throughout (a quantized
// model's dequantized weights). Int8: the layers `vae quantize` makes int8 (quant_layer_is_int8), quantized here
// by its rule; for benchmarks and tests of float models.
enum class InferWeights { AsStored, Float, Int8 };
// Packs m's current weights (repack after the weights change).
VaeInfer infer_make(const Vae& m, InferWeights weights = InferWeights::AsStored);

// Activations between layers, grown on demand; reuse one across calls.
struct InferScratch {
  Buffer<float> a, b;
  Buffer<float> cat;  // a label-conditioned pass's input with the label appended, [x; y] or [z; y]
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

// A label-conditioned model (cvae.hpp) packed: its encoder reads [x; y] and its decoder [z; y], where y is a
// column of C label weights, one-hot for one label or a mix (the first layers are linear in y, so a mix of two
// labels decodes between them, as the morph does). And its classifier q(y|x).
struct CvaeInfer {
  VaeInfer net;  // net.arch is the plain model's (D, Z); net.enc's first layer has D + C inputs, net.dec's Z + C
  int C = 0;
  std::vector<InferLayer> cls;  // D -> the classifier's hidden layers, ReLU
  InferLayer cls_out;           // -> C logits
  int int8_layers() const;      // how many of its layers (the classifier's too) run in integers
};
CvaeInfer infer_make_conditional(const Cvae& m, InferWeights weights = InferWeights::AsStored);
// X (D, B) -> q(y|x) (C, B): softmax of the classifier's logits.
void infer_classify(const CvaeInfer& m, const float* X, int B, float* probs, InferScratch& s);
// X (D, B) and labels Y (C, B) -> mu, logvar (Z, B each).
void infer_encode_conditional(const CvaeInfer& m, const float* X, const float* Y, int B, float* mu, float* logvar,
                              InferScratch& s);
// codes (Z, B) and labels Y (C, B) -> Bernoulli means (D, B).
void infer_decode_conditional(const CvaeInfer& m, const float* codes, const float* Y, int B, float* out,
                              InferScratch& s);
// Analogies (Kingma et al. 2014, Fig. 1): each image of X (D, B) read with its label y[b] (its style code, the
// posterior mean), then drawn as every label: out (B, C, D), image b as label t at (b * C + t) * D.
void infer_analogies(const CvaeInfer& m, const float* X, const int* y, int B, float* out, InferScratch& s);
// One-hot labels (C, count) for label y, count times.
std::vector<float> onehot_labels(int C, int y, int count);

// Floating-point operations per image of infer_encode and infer_decode: 2 * in * out summed over the packed
// layers (enc_head included), the multiply-adds of the matrix products; biases and activations not counted.
double infer_encode_flops(const VaeInfer& m);
double infer_decode_flops(const VaeInfer& m);

}  // namespace vae
