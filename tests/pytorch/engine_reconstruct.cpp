// pytorch_engine_reconstruct: our engine's numbers for the PyTorch interop test (tests/pytorch/test_interop.py
// reconstruct): a model's posterior means and log-variances of a digits file's images and the decoder's means at
// the posterior means, written as F32 safetensors. Not a CLI command; a test fixture.
//
// The path is the studio's and the CLI's inference path, the packed dense kernel (infer.hpp: infer_make,
// infer_encode, infer_decode), not model.hpp's reference passes.
//
// Out: "images" (N, D) as read, "mu" (N, Z), "logvar" (N, Z), "probs" (N, D) = sigmoid(decoder(mu)), all
// row-major, one image per row (the kernel's (features, N) column-major is the same memory).
#include <cstdio>
#include <string>
#include <vector>

#include "vae/digits.hpp"
#include "vae/infer.hpp"
#include "vae/model_io.hpp"
#include "vae/safetensors.hpp"

namespace {

int fail(const vae::Status& s) {
  std::fprintf(stderr, "pytorch_engine_reconstruct: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pytorch_engine_reconstruct MODEL.safetensors DIGITS.safetensors OUT.safetensors\n");
    return 2;
  }
  vae::Vae m;
  vae::Status s = vae::model_load(argv[1], m, nullptr);
  if (!s) return fail(s);
  vae::StFile df;
  vae::DigitSample digits;
  if (!(s = vae::st_load(argv[2], df))) return fail(s);
  if (!(s = vae::digits_from_st(df, digits))) return fail(s.with_context(argv[2]));
  if (digits.pixels() != m.arch.D)
    return fail(vae::Status::error(std::string(argv[2]) + ": images of " + std::to_string(digits.pixels()) +
                                   " pixels, the model takes " + std::to_string(m.arch.D)));

  const int N = digits.count, D = m.arch.D, Z = m.arch.Z;
  const vae::VaeInfer packed = vae::infer_make(m);
  vae::InferScratch scratch;
  std::vector<float> mu(size_t(Z) * N), logvar(size_t(Z) * N), probs(size_t(D) * N);  // (Z, N), (D, N)
  vae::infer_encode(packed, digits.images.data(), N, mu.data(), logvar.data(), scratch);
  vae::infer_decode(packed, mu.data(), N, probs.data(), scratch);

  vae::StFile out;
  out.set_meta("source", std::string(argv[1]) + " on " + argv[2] + ", infer.hpp's packed kernel");
  const int64_t n = N;
  out.tensors.push_back({"images", {n, D}, digits.images});
  out.tensors.push_back({"mu", {n, Z}, mu});
  out.tensors.push_back({"logvar", {n, Z}, logvar});
  out.tensors.push_back({"probs", {n, D}, probs});
  if (!(s = vae::st_save(argv[3], out, vae::DType::F32))) return fail(s);
  return 0;
}
