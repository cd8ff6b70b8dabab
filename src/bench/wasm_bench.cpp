// The engine side of the browser benchmark (web/bench): a model with random weights and the studio's real
// inference passes (vae/infer.hpp), exported to JavaScript. The page copies the weights into TensorFlow.js
// and times both on the same inputs. Built only with Emscripten; not part of the product page.
#include <emscripten/emscripten.h>

#include <string>

#include <nlohmann/json.hpp>

#include "vae/infer.hpp"
#include "vae/model_io.hpp"

namespace {

struct BenchModel {
  vae::Vae model;
  vae::VaeInfer infer;
  std::string error;  // why bench_load failed
  vae::InferScratch scratch;
  vae::Matrix mu, logvar;  // (Z, B)
  std::string layout;      // JSON: the tensors' names, shapes and offsets in params
};

// The tensors' names, shapes and offsets in params, for the page's copy of the weights.
void describe_layout(BenchModel* b) {
  nlohmann::json layout = nlohmann::json::array();
  for (const vae::TensorSlot& s : b->model.layout.slots)
    layout.push_back({{"name", s.name}, {"rows", s.rows}, {"cols", s.cols}, {"offset", s.offset}});
  b->layout = layout.dump();
}

}  // namespace

extern "C" {

// The 784-512-256-[Z] model with Glorot weights and small random biases (so the bias path is exercised).
EMSCRIPTEN_KEEPALIVE BenchModel* bench_make(int Z, unsigned seed) {
  auto* b = new BenchModel;
  vae::Arch arch;
  arch.hidden = {512, 256};
  arch.Z = Z;
  b->model = vae::vae_make(arch, seed);
  vae::Pcg32 rng(seed, 99);
  for (const vae::TensorSlot& s : b->model.layout.slots)
    if (s.cols == 0)
      for (size_t i = 0; i < s.size(); ++i) b->model.params[s.offset + i] = 0.1f * (rng.uniform() - 0.5f);
  b->infer = vae::infer_make(b->model);
  describe_layout(b);
  return b;
}

// A model file's bytes (safetensors, float or int8): its weights as the studio reads them. Returns null with the
// reason in bench_error on a file that does not load. A quantized file runs its int8 layers in integers.
EMSCRIPTEN_KEEPALIVE BenchModel* bench_load(const uint8_t* bytes, int size) {
  auto* b = new BenchModel;
  const vae::Status s = vae::model_parse(bytes, size_t(size), b->model, nullptr);
  if (!s) {
    b->error = s.message();
    return b;
  }
  b->infer = vae::infer_make(b->model);
  describe_layout(b);
  return b;
}
EMSCRIPTEN_KEEPALIVE const char* bench_error(BenchModel* b) { return b->error.c_str(); }

// Which kernel runs the model: 0 the float kernel throughout (a quantized file's dequantized weights); 1 the
// int8 kernel for the layers `vae quantize` makes int8, quantized here (a float model) or as stored (a quantized
// file). Returns how many layers run in integers.
EMSCRIPTEN_KEEPALIVE int bench_set_int8(BenchModel* b, int int8) {
  const bool stored = !b->model.row_scales.empty();
  b->infer = vae::infer_make(b->model, !int8 ? vae::InferWeights::Float
                                              : stored ? vae::InferWeights::AsStored : vae::InferWeights::Int8);
  return b->infer.int8_layers();
}

EMSCRIPTEN_KEEPALIVE void bench_free(BenchModel* b) { delete b; }
EMSCRIPTEN_KEEPALIVE const float* bench_params(BenchModel* b) { return b->model.params.data(); }
EMSCRIPTEN_KEEPALIVE const char* bench_layout(BenchModel* b) { return b->layout.c_str(); }
EMSCRIPTEN_KEEPALIVE const char* bench_isa() { return vae::dense_isa(); }
// The kernel's multiply-add probe (vae/dense.hpp): the page times it for this browser's arithmetic ceiling.
EMSCRIPTEN_KEEPALIVE double bench_peak_probe(int steps) { return vae::dense_peak_probe(steps); }
// The int8 kernel's instruction and its probe: 16-bit pairwise multiply-accumulates (i32x4.dot_i16x8_s), counted
// as 2 operations each, so that its rate and the float probe's compare.
EMSCRIPTEN_KEEPALIVE const char* bench_int8_isa() { return vae::dense_int8_isa(); }
EMSCRIPTEN_KEEPALIVE double bench_int8_peak_probe(int steps) { return vae::dense_q8_peak_probe(steps); }

// codes (Z, B) -> Bernoulli means (784, B), both column-major = row-major (B, Z) and (B, 784).
EMSCRIPTEN_KEEPALIVE void bench_decode(BenchModel* b, const float* codes, int B, float* out) {
  vae::infer_decode(b->infer, codes, B, out, b->scratch);
}

// x (784, B) -> encode -> decode the posterior means -> (784, B): the studio's live reconstruction.
EMSCRIPTEN_KEEPALIVE void bench_reconstruct(BenchModel* b, const float* x, int B, float* out) {
  const int Z = b->model.arch.Z;
  b->mu.resize(Z, B);
  b->logvar.resize(Z, B);
  vae::infer_encode(b->infer, x, B, b->mu.data(), b->logvar.data(), b->scratch);
  vae::infer_decode(b->infer, b->mu.data(), B, out, b->scratch);
}
}
