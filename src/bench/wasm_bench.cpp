// The engine side of the browser benchmark (web/bench): a model with random weights and the studio's real
// inference passes (vae/infer.hpp), exported to JavaScript. The page copies the weights into TensorFlow.js
// and times both on the same inputs. Built only with Emscripten; not part of the product page.
#include <emscripten/emscripten.h>

#include <string>

#include <nlohmann/json.hpp>

#include "vae/infer.hpp"

namespace {

struct BenchModel {
  vae::Vae model;
  vae::VaeInfer infer;
  vae::InferScratch scratch;
  vae::Matrix mu, logvar;  // (Z, B)
  std::string layout;      // JSON: the tensors' names, shapes and offsets in params
};

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
  nlohmann::json layout = nlohmann::json::array();
  for (const vae::TensorSlot& s : b->model.layout.slots)
    layout.push_back({{"name", s.name}, {"rows", s.rows}, {"cols", s.cols}, {"offset", s.offset}});
  b->layout = layout.dump();
  return b;
}

EMSCRIPTEN_KEEPALIVE void bench_free(BenchModel* b) { delete b; }
EMSCRIPTEN_KEEPALIVE const float* bench_params(BenchModel* b) { return b->model.params.data(); }
EMSCRIPTEN_KEEPALIVE const char* bench_layout(BenchModel* b) { return b->layout.c_str(); }
EMSCRIPTEN_KEEPALIVE const char* bench_isa() { return vae::dense_isa(); }
// The kernel's multiply-add probe (vae/dense.hpp): the page times it for this browser's arithmetic ceiling.
EMSCRIPTEN_KEEPALIVE double bench_peak_probe(int steps) { return vae::dense_peak_probe(steps); }

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
