// A small labelled sample of a data set stored as safetensors, for the page (which never reads IDX files): the
// Repair panel's test digits, assets/mnist-test-100.safetensors. Not a data-set loader (idx.hpp is).
//
// In the file: "images" (N, rows, cols) in [0, 1] (F16 or F32), "labels" (N,) whole numbers 0..255 as floats,
// "indices" (N, 2) each image's index in the set it came from as (index / 256, index % 256), whole numbers 0..255,
// because a file has one dtype and F16 holds whole numbers exactly only up to 2048 (9999 would read back as
// 10000); __metadata__ "format" "vae-studio-digits/1", "source" (e.g. "mnist-test, 100 images, seed 0").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vae/idx.hpp"
#include "vae/safetensors.hpp"
#include "vae/status.hpp"

namespace vae {

struct DigitSample {
  int count = 0, rows = 0, cols = 0;
  std::vector<float> images;    // (count, rows * cols) row-major
  std::vector<uint8_t> labels;  // (count)
  std::vector<int> indices;     // (count) index in the source set
  std::string source;
  int pixels() const { return rows * cols; }
  const float* image(int i) const { return images.data() + size_t(i) * size_t(pixels()); }
};

// count distinct images of ds drawn with the project PRNG from `seed` (the first count places of a Fisher-Yates
// shuffle by Pcg32(seed).below, then sorted by index), 1 <= count <= ds.count, ds.count <= 65536.
Status digits_pick(const Dataset& ds, int count, uint64_t seed, DigitSample& out);
StFile digits_to_st(const DigitSample& s);
// Checks the format key, no other tensor, shapes, finite values in [0, 1], labels and index parts whole numbers
// 0..255; one line per problem. out is replaced only on success.
Status digits_from_st(const StFile& f, DigitSample& out);
Status digits_parse(const uint8_t* bytes, size_t size, DigitSample& out);

}  // namespace vae
