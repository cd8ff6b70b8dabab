// A small labelled sample of a data set as safetensors (digits.hpp): picked with the project PRNG, written and
// read back with strict checks. Not a data-set loader (idx.hpp is).
#include "vae/digits.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "vae/prng.hpp"

namespace vae {

namespace {

constexpr const char* kFormat = "vae-studio-digits/1";
constexpr const char* kImages = "images";
constexpr const char* kLabels = "labels";
constexpr const char* kIndices = "indices";
constexpr int kIndexBase = 256;  // indices stored as (index / 256, index % 256): both exact in F16

std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", double(v));
  return buf;
}

bool byte_value(float v) { return v >= 0.f && v <= 255.f && v == std::floor(v); }

}  // namespace

Status digits_pick(const Dataset& ds, int count, uint64_t seed, DigitSample& out) {
  if (count < 1 || count > ds.count)
    return Status::error(ds.name + " has " + std::to_string(ds.count) + " images: cannot pick " +
                         std::to_string(count));
  if (ds.count > kIndexBase * kIndexBase)
    return Status::error(ds.name + " has " + std::to_string(ds.count) + " images, more than the file's indices hold (" +
                         std::to_string(kIndexBase * kIndexBase) + ")");
  if (ds.labels.size() < size_t(ds.count)) return Status::error(ds.name + ": fewer labels than images");
  // The first `count` places of a Fisher-Yates shuffle of 0..N-1 (Pcg32::below: no modulo bias), then sorted.
  std::vector<int> order(size_t(ds.count));
  std::iota(order.begin(), order.end(), 0);
  Pcg32 rng(seed);
  for (int i = 0; i < count; ++i) {
    const int j = i + int(rng.below(uint32_t(ds.count - i)));
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  order.resize(size_t(count));
  std::sort(order.begin(), order.end());

  DigitSample s;
  s.count = count;
  s.rows = ds.rows;
  s.cols = ds.cols;
  s.indices = order;
  s.source = ds.name + ", " + std::to_string(count) + " images, seed " + std::to_string(seed);
  s.images.reserve(size_t(count) * size_t(ds.pixels()));
  for (int i : order) {
    s.images.insert(s.images.end(), ds.image(i), ds.image(i) + ds.pixels());
    s.labels.push_back(ds.labels[size_t(i)]);
  }
  out = std::move(s);
  return Status::success();
}

StFile digits_to_st(const DigitSample& s) {
  StFile f;
  f.set_meta("format", kFormat);
  f.set_meta("source", s.source);
  const int64_t n = s.count;
  f.tensors.push_back({kImages, {n, s.rows, s.cols}, s.images});
  f.tensors.push_back({kLabels, {n}, std::vector<float>(s.labels.begin(), s.labels.end())});
  std::vector<float> idx;
  for (int i : s.indices) {
    idx.push_back(float(i / kIndexBase));
    idx.push_back(float(i % kIndexBase));
  }
  f.tensors.push_back({kIndices, {n, 2}, idx});
  return f;
}

Status digits_from_st(const StFile& f, DigitSample& out) {
  const std::string fmt = f.meta("format");
  if (fmt != kFormat)
    return Status::error(fmt.empty() ? std::string("not a digits file (no \"format\" in __metadata__)")
                                     : "unknown digits format \"" + fmt + "\" (expected " + kFormat + ")");
  const StTensor *images = nullptr, *labels = nullptr, *indices = nullptr;
  const Status picked = st_pick(f, nullptr, {{kImages, &images}, {kLabels, &labels}, {kIndices, &indices}},
                                [](const std::string& name) { return "unexpected tensor \"" + name + "\" in a digits file"; });
  if (!picked) return picked;
  for (const auto& [t, name] : {std::pair{images, kImages}, {labels, kLabels}, {indices, kIndices}})
    if (!t) return Status::error(std::string(name) + " missing from the digits file");
  const std::vector<int64_t>& sh = images->shape;
  if (sh.size() != 3 || sh[0] < 1 || sh[1] < 1 || sh[2] < 1 || sh[1] > 4096 || sh[2] > 4096)
    return Status::error(std::string(kImages) + " has shape " + st_shape_str(sh) +
                         ", needs (N, rows, cols) with N >= 1 and 1 to 4096 rows and columns");
  const int64_t n = sh[0];
  if (labels->shape != std::vector<int64_t>{n})
    return Status::error(std::string(kLabels) + " has shape " + st_shape_str(labels->shape) + ", " + kImages + " " +
                         st_shape_str(sh) + " needs " + st_shape_str({n}));
  if (indices->shape != std::vector<int64_t>{n, 2})
    return Status::error(std::string(kIndices) + " has shape " + st_shape_str(indices->shape) + ", " + kImages + " " +
                         st_shape_str(sh) + " needs " + st_shape_str({n, 2}));
  for (size_t i = 0; i < images->data.size(); ++i) {
    const float v = images->data[i];
    if (!(v >= 0.f && v <= 1.f))
      return Status::error(std::string(kImages) + ": pixel " + std::to_string(i % size_t(sh[1] * sh[2])) +
                           " of image " + std::to_string(i / size_t(sh[1] * sh[2])) + " is " + num(v) +
                           ", not in [0, 1]");
  }
  for (size_t i = 0; i < labels->data.size(); ++i)
    if (!byte_value(labels->data[i]))
      return Status::error(std::string(kLabels) + "[" + std::to_string(i) + "] = " + num(labels->data[i]) +
                           " is not a whole number from 0 to 255");
  for (size_t i = 0; i < indices->data.size(); ++i)
    if (!byte_value(indices->data[i]))
      return Status::error(std::string(kIndices) + "[" + std::to_string(i / 2) + ", " + std::to_string(i % 2) +
                           "] = " + num(indices->data[i]) + " is not a whole number from 0 to 255");

  DigitSample s;
  s.count = int(n);
  s.rows = int(sh[1]);
  s.cols = int(sh[2]);
  s.images = images->data;
  s.labels.assign(labels->data.begin(), labels->data.end());
  for (int64_t i = 0; i < n; ++i)
    s.indices.push_back(int(indices->data[size_t(2 * i)]) * kIndexBase + int(indices->data[size_t(2 * i + 1)]));
  s.source = f.meta("source");
  out = std::move(s);
  return Status::success();
}

Status digits_parse(const uint8_t* bytes, size_t size, DigitSample& out) {
  StFile f;
  const Status s = st_parse(bytes, size, f);
  if (!s) return s;
  return digits_from_st(f, out);
}

}  // namespace vae
