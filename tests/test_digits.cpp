// The shipped test digits (vae/digits.hpp): the pick, the file round trip in F32 and F16 (indices past F16's
// 2048 included), malformed files refused with their messages, and assets/mnist-test-100.safetensors itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "vae/digits.hpp"

using namespace vae;

namespace {

// 5000 images of 2 x 3 pixels, pixel values k / 255 as the IDX loader gives, label i % 10.
Dataset toy_set() {
  Dataset ds;
  ds.name = "toy-test";
  ds.count = 5000;
  ds.rows = 2;
  ds.cols = 3;
  for (int i = 0; i < ds.count; ++i) {
    for (int j = 0; j < 6; ++j) ds.images.push_back(float((i * 7 + j * 31) % 256) / 255.f);
    ds.labels.push_back(uint8_t(i % 10));
  }
  return ds;
}

StTensor* find_mut(StFile& f, const std::string& name) {
  for (StTensor& t : f.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string refusal(const StFile& f) {
  DigitSample s;
  s.source = "untouched";
  const Status st = digits_from_st(f, s);
  CHECK_FALSE(st.ok());
  CHECK(s.source == "untouched");
  CHECK(st.message().find('\n') == std::string::npos);
  return st.message();
}

}  // namespace

TEST_CASE("digits: the pick is count distinct images sorted by index, the same for the same seed", "[digits]") {
  const Dataset ds = toy_set();
  DigitSample s;
  REQUIRE(digits_pick(ds, 100, 0, s).ok());
  CHECK(s.count == 100);
  CHECK(s.rows == 2);
  CHECK(s.cols == 3);
  CHECK(s.source == "toy-test, 100 images, seed 0");
  REQUIRE(s.indices.size() == 100);
  CHECK(std::set<int>(s.indices.begin(), s.indices.end()).size() == 100);
  CHECK(std::is_sorted(s.indices.begin(), s.indices.end()));
  for (int i = 0; i < s.count; ++i) {
    const int k = s.indices[size_t(i)];
    CHECK(s.labels[size_t(i)] == ds.labels[size_t(k)]);
    CHECK(std::vector<float>(s.image(i), s.image(i) + 6) == std::vector<float>(ds.image(k), ds.image(k) + 6));
  }
  DigitSample again, other;
  REQUIRE(digits_pick(ds, 100, 0, again).ok());
  REQUIRE(digits_pick(ds, 100, 1, other).ok());
  CHECK(again.indices == s.indices);
  CHECK(other.indices != s.indices);
  // All of them: a permutation, sorted, is every index.
  DigitSample all;
  REQUIRE(digits_pick(ds, ds.count, 3, all).ok());
  for (int i = 0; i < ds.count; ++i) CHECK(all.indices[size_t(i)] == i);
  CHECK(digits_pick(ds, 0, 0, s).message() == "toy-test has 5000 images: cannot pick 0");
  CHECK(digits_pick(ds, 5001, 0, s).message() == "toy-test has 5000 images: cannot pick 5001");
}

TEST_CASE("digits: a sample survives F32 and F16 files, indices past 2048 exactly", "[digits]") {
  const Dataset ds = toy_set();
  DigitSample s;
  REQUIRE(digits_pick(ds, 200, 5, s).ok());
  REQUIRE(s.indices.back() > 2048);
  for (DType dt : {DType::F32, DType::F16}) {
    std::vector<uint8_t> bytes;
    REQUIRE(st_serialize(digits_to_st(s), dt, bytes).ok());
    DigitSample r;
    const Status st = digits_parse(bytes.data(), bytes.size(), r);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(r.count == 200);
    CHECK(r.rows == 2);
    CHECK(r.cols == 3);
    CHECK(r.labels == s.labels);
    CHECK(r.indices == s.indices);
    CHECK(r.source == s.source);
    REQUIRE(r.images.size() == s.images.size());
    for (size_t i = 0; i < s.images.size(); ++i) {
      const float want = dt == DType::F16 ? f16_to_f32(f32_to_f16(s.images[i])) : s.images[i];
      CHECK(r.images[i] == want);
      // F16 keeps each grey level: round(v * 255) is the byte it came from.
      CHECK(std::lround(r.images[i] * 255.f) == std::lround(s.images[i] * 255.f));
    }
  }
}

TEST_CASE("digits: malformed digits files are refused with their messages", "[digits]") {
  const Dataset ds = toy_set();
  DigitSample s;
  REQUIRE(digits_pick(ds, 4, 0, s).ok());
  const StFile good = digits_to_st(s);
  {
    DigitSample r;
    REQUIRE(digits_from_st(good, r).ok());
  }
  auto with = [&good](const std::function<void(StFile&)>& change) {
    StFile f = good;
    change(f);
    return refusal(f);
  };
  auto drop = [](StFile& f, const std::string& name) {
    f.tensors.erase(f.tensors.begin() + (find_mut(f, name) - f.tensors.data()));
  };
  CHECK(with([](StFile& f) { f.metadata.clear(); }) == "not a digits file (no \"format\" in __metadata__)");
  CHECK(with([](StFile& f) { f.set_meta("format", "vae-studio/1"); }) ==
        "unknown digits format \"vae-studio/1\" (expected vae-studio-digits/1)");
  CHECK(with([](StFile& f) { f.tensors.push_back({"extra", {1}, {0.f}}); }) ==
        "unexpected tensor \"extra\" in a digits file");
  CHECK(with([&](StFile& f) { drop(f, "images"); }) == "images missing from the digits file");
  CHECK(with([&](StFile& f) { drop(f, "labels"); }) == "labels missing from the digits file");
  CHECK(with([&](StFile& f) { drop(f, "indices"); }) == "indices missing from the digits file");
  CHECK(with([](StFile& f) { find_mut(f, "images")->data.pop_back(); }) ==
        "images holds 23 values, its shape (4, 2, 3) needs 24");
  CHECK(with([](StFile& f) { find_mut(f, "images")->data[7] = NAN; }) == "images[7] is not finite");
  CHECK(with([](StFile& f) { find_mut(f, "images")->shape = {4, 6}; }) ==
        "images has shape (4, 6), needs (N, rows, cols) with N >= 1 and 1 to 4096 rows and columns");
  CHECK(with([](StFile& f) {
          StTensor* t = find_mut(f, "images");
          t->shape = {0, 2, 3};
          t->data.clear();
        }) == "images has shape (0, 2, 3), needs (N, rows, cols) with N >= 1 and 1 to 4096 rows and columns");
  CHECK(with([](StFile& f) { find_mut(f, "images")->shape = {2, 4, 3}; }) ==
        "labels has shape (4,), images (2, 4, 3) needs (2,)");
  CHECK(with([](StFile& f) {
          StTensor* t = find_mut(f, "indices");
          t->shape = {4};
          t->data.resize(4);
        }) == "indices has shape (4,), images (4, 2, 3) needs (4, 2)");
  CHECK(with([](StFile& f) { find_mut(f, "images")->data[8] = 1.5f; }) ==
        "images: pixel 2 of image 1 is 1.5, not in [0, 1]");
  CHECK(with([](StFile& f) { find_mut(f, "images")->data[0] = -0.25f; }) ==
        "images: pixel 0 of image 0 is -0.25, not in [0, 1]");
  CHECK(with([](StFile& f) { find_mut(f, "labels")->data[2] = 3.5f; }) ==
        "labels[2] = 3.5 is not a whole number from 0 to 255");
  CHECK(with([](StFile& f) { find_mut(f, "labels")->data[3] = 256.f; }) ==
        "labels[3] = 256 is not a whole number from 0 to 255");
  CHECK(with([](StFile& f) { find_mut(f, "indices")->data[5] = -1.f; }) ==
        "indices[2, 1] = -1 is not a whole number from 0 to 255");
  // Bytes that are not a safetensors file at all: st_parse's message.
  DigitSample r;
  const uint8_t junk[4] = {1, 2, 3, 4};
  CHECK_THAT(digits_parse(junk, 4, r).message(), Catch::Contains("shorter than the 8-byte header length"));
}

TEST_CASE("digits: the shipped assets/mnist-test-100.safetensors holds 100 MNIST test digits covering 0-9",
          "[digits]") {
  const std::string path = std::string(VAE_SOURCE_DIR) + "/assets/mnist-test-100.safetensors";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  DigitSample s;
  const Status st = digits_parse(bytes.data(), bytes.size(), s);
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.count == 100);
  CHECK(s.rows == 28);
  CHECK(s.cols == 28);
  CHECK(s.source == "mnist-test, 100 images, seed 0");
  CHECK(std::set<uint8_t>(s.labels.begin(), s.labels.end()) == std::set<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(std::set<int>(s.indices.begin(), s.indices.end()).size() == 100);
  CHECK(std::is_sorted(s.indices.begin(), s.indices.end()));
  CHECK(s.indices.front() >= 0);
  CHECK(s.indices.back() < 10000);
  // Each image is the test set's own, to F16's rounding of its grey levels.
  Dataset ds;
  REQUIRE(dataset_open("mnist", "test", "", VAE_SOURCE_DIR, ds).ok());
  for (int i = 0; i < s.count; ++i) {
    const int k = s.indices[size_t(i)];
    CHECK(s.labels[size_t(i)] == ds.labels[size_t(k)]);
    int differ = 0;
    for (int j = 0; j < 784; ++j) differ += std::lround(s.image(i)[j] * 255.f) != std::lround(ds.image(k)[j] * 255.f);
    CHECK(differ == 0);
  }
}
