// Int8 weights with one symmetric scale per output row, as a model file holds them: a layer's weight X.weight
// (out, in) is stored as I8 with its scales X.weight_scale, F32 (out) (the compressed-tensors / vLLM naming), and
// W[r][c] = q[r][c] * scale[r]. The quantizer, and the check-and-dequantize step the loaders (model_io.cpp) run on
// such a file. The loaders keep the scales (Vae::row_scales), and the packed inference (infer.hpp) runs those
// layers on the int8 kernel (dense.hpp); the reference passes and the trainer see the dequantized floats.
#pragma once
#include <string>

#include "vae/model.hpp"
#include "vae/safetensors.hpp"
#include "vae/status.hpp"

namespace vae {

// Metadata of a file quant_file wrote: the method, and (set by whoever wrote the file) the float file it came from.
constexpr const char* kMetaQuantMethod = "quant.method";
constexpr const char* kQuantMethod = "int8-symmetric-per-row";
constexpr const char* kMetaQuantSource = "quant.source";
constexpr const char* kMetaQuantRounding = "quant.rounding";  // how the whole numbers were chosen

// "X.weight_scale" for "X.weight".
std::string quant_scale_name(const std::string& weight);
// True for "X.weight_scale".
bool quant_is_scale(const std::string& name);

// The layers quant_file makes int8: every layer's weight but the bottleneck's (the encoder's mu and logvar heads,
// and the decoder's first layer, which reads the code). They hold few weights (2 Z H and (Z + C) H of about a
// million), and the NLL is most sensitive to them: on mnist-z2, int8 heads alone cost 2.2 nats.
bool quant_layer_is_int8(const Layout& lay, const Linear& L);

// One row's scale and its whole numbers (as floats) into q, which may be w itself: the rule below, quant_file's.
float quant_row(const float* w, int cols, float* q);

// Calibration images for quant_file: `count` images of `dims` pixels, column-major (dims, count), from the
// training split (never the test set the figures come from).
struct QuantCalibration {
  const float* images = nullptr;
  int dims = 0, count = 0;
};

// Quantizes a model's file in place: every layer's weight that quant_layer_is_int8 names (the encoder's, the
// decoder's and a label-conditioned model's classifier's, but the bottleneck's; the file must load as a plain or a
// conditional model) becomes I8 with its F32 scales after it; quant.method and quant.rounding are set. Refuses a
// file that is already quantized. Per row r of W (out, in) the scale is
//   s_r = max_c |W[r][c]| / 127 (rounded up to the next float if rounding made it smaller),
// so every whole number q is in [-127, 127], and a row of zeros gets s = 1 and q = 0 (the reader refuses a zero
// scale: it would make every weight of the row zero whatever q says, which no quantizer writes on purpose).
// - Without calibration images (and for a conditional model): round to nearest, q = round(W / s_r). Everything
//   else (biases, the float layers, map.*, pca.*, the other metadata) is kept bit for bit, and
//   |W[r][c] - q[r][c] s_r| <= s_r / 2 for every weight (the float product q s_r, as the loader computes it, adds at
//   most half an ulp of it), so in a layer y = W x + b output r moves by at most (s_r / 2) ||x||_1.
// - With them (a plain model): cross-layer equalisation across each ReLU into an int8 layer, then GPTQ rounding on
//   the calibration images' activations (quant.cpp). The function of the float model is kept up to float rounding
//   (the equalised biases and float weights are stored in their own dtype again), and each layer's output error
//   on the data is what is minimised, not each weight's: mnist-z2 loses 0.09 nats of NLL instead of 1.1.
Status quant_file(StFile& f, const QuantCalibration& calib = {});

// For the loaders: the values of a weight tensor w of f (rows, cols), row-major, into out. A float w is copied,
// and must have no scale beside it; an I8 w is dequantized, W = q * scale[row], its scale tensor checked (present,
// a float dtype, shape (rows,), every scale positive and finite). Errors name the tensor.
Status quant_weight_values(const StFile& f, const StTensor& w, int rows, int cols, float* out);

// The file's quantization metadata against its weights: quant.method, when present, must be ours and at least one
// weight (of the given ones, the architecture's) must be I8; a file that says it is quantized is never read as a
// float one, nor one quantized another way as ours.
Status quant_check_meta(const StFile& f, bool any_weight_i8);

}  // namespace vae
