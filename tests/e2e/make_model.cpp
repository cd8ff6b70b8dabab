// e2e_make_model: writes an untrained VAE (MNIST's architecture, Z = 2, Glorot weights) to the given path, so the
// end-to-end tests run a real model file through the app before any trained model exists. Not a trainer.
#include <cstdio>
#include <filesystem>
#include <string>

#include "vae/model.hpp"
#include "vae/model_io.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: e2e_make_model OUT.safetensors\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::error_code ec;
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path(), ec);
  vae::Arch arch;  // 784-512-256-[2]
  vae::Vae m = vae::vae_make(arch, 1);
  vae::Metadata meta;
  vae::meta_set(meta, "dataset", "none (untrained, for the end-to-end tests)");
  vae::Status s = vae::model_save(out.string(), m, meta, vae::DType::F16);
  if (!s) {
    std::fprintf(stderr, "e2e_make_model: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
