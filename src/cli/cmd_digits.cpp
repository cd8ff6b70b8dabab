// `vae digits`: a small labelled sample of a data set written as safetensors (digits.hpp), the page's test
// digits (assets/mnist-test-100.safetensors). The pick and the format are the engine's.
#include <cstdio>
#include <filesystem>

#include "common.hpp"
#include "vae/digits.hpp"

namespace cli {

namespace {

int run_digits(Args& a) {
  const std::string out = out_path("digits", a, "out", {});
  const std::string split = a.choice("split", {"train", "test"});
  const int n = int(a.integer("n", 1, 65536));
  const uint64_t seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  const vae::DType dtype = a.choice("dtype", {"f16", "f32"}) == "f16" ? vae::DType::F16 : vae::DType::F32;
  const vae::Dataset ds = load_data("digits", a, split);
  vae::DigitSample s;
  Status st = vae::digits_pick(ds, n, seed, s);
  if (!st) die("digits", st);
  if (!(st = vae::st_save(out, vae::digits_to_st(s), dtype))) die("digits", st);
  int per_label[256] = {};
  for (uint8_t l : s.labels) ++per_label[l];
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(out, ec);
  std::printf("wrote %s (%s, %s bytes): %s\nimages per label:", out.c_str(), vae::dtype_name(dtype),
              ec ? "?" : thousands(double(bytes)).c_str(), s.source.c_str());
  for (int l = 0; l < 256; ++l)
    if (per_label[l]) std::printf(" %d:%d", l, per_label[l]);
  std::printf("\n");
  return 0;
}

}  // namespace

Command command_digits() {
  return {"digits", "A small labelled sample of a data set as safetensors (the page's test digits).",
          {{"out", "PATH", nullptr, "file to write (required), e.g. assets/mnist-test-100.safetensors"},
           kData, {"split", "NAME", "test", "train or test"}, {"n", "N", "100", "images to pick"},
           {"seed", "N", "0", "random seed of the pick"}, {"dtype", "NAME", "f16", "f16 or f32"}, kDataDir, kRoot},
          run_digits};
}

}  // namespace cli
