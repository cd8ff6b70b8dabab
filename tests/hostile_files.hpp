// Hostile model files, one per problem a reader must survive (issue 5, item 3): each is the bytes of a file and
// the words its one-line error must contain. Shared by the engine's test (model_load names the file) and the
// studio's (a refused file leaves the current model in place).
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/safetensors.hpp"

namespace hostile {

struct File {
  std::string what;            // the fault, for the test's report
  std::vector<uint8_t> bytes;  // the whole file
  std::string problem;         // a phrase the error message must contain
};

// 8-byte little-endian length, then the header text, then the data bytes.
inline std::vector<uint8_t> assemble(const std::string& header, const std::vector<uint8_t>& data, uint64_t length) {
  std::vector<uint8_t> b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(length >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
inline std::vector<uint8_t> assemble(const std::string& header, const std::vector<uint8_t>& data = {}) {
  return assemble(header, data, header.size());
}

// A valid model file (784-16-[2]-16-784, F32), optionally with one architecture key changed or a tensor
// dropped or added, so that only the mismatch with the declared architecture is wrong.
inline std::vector<uint8_t> model_file(const std::string& meta_key = "", const std::string& meta_value = "",
                                       bool drop_last = false, bool add_extra = false) {
  vae::Arch a;
  a.hidden = {16};
  vae::StFile f = vae::model_to_st(vae::vae_make(a, 3), {{"dataset", "mnist"}});
  if (!meta_key.empty()) f.set_meta(meta_key, meta_value);
  if (drop_last) f.tensors.pop_back();
  if (add_extra) f.tensors.push_back({"encoder.fc9.weight", {2}, {0.5f, 0.25f}});
  std::vector<uint8_t> bytes;
  vae::st_serialize(f, vae::DType::F32, bytes);
  return bytes;
}

// The valid model file with the 32-bit value at element `index` of the data buffer replaced by `bits`.
inline std::vector<uint8_t> model_file_with_value(size_t index, uint32_t bits) {
  std::vector<uint8_t> b = model_file();
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[size_t(i)];
  for (int k = 0; k < 4; ++k) b[8 + size_t(n) + 4 * index + size_t(k)] = static_cast<uint8_t>(bits >> (8 * k));
  return b;
}

inline std::vector<File> files() {
  const std::string f32x2 = R"({"dtype":"F32","shape":[2],"data_offsets":)";
  const std::vector<uint8_t> zeros16(16, 0);
  std::vector<uint8_t> truncated = model_file();
  truncated.resize(truncated.size() / 2);
  std::string deep = "{\"a\":";
  for (int i = 0; i < 100000; ++i) deep += '[';
  return {
      {"empty file", {}, "file is 0 bytes, shorter than the 8-byte header length"},
      {"header length larger than the file", assemble("{}", zeros16, 4096),
       "header length 4096 is past the end of the file (18 bytes follow the length)"},
      {"header length above 2^32", assemble("{}", zeros16, (uint64_t{1} << 32) + 8),
       "header length 4294967304 is over the limit of 100000000 bytes"},
      {"header length 2^64 - 1", assemble("{}", zeros16, ~uint64_t{0}), "is over the limit"},
      {"header JSON malformed", assemble(R"({"x":{"dtype":"F32",)"), "header JSON: "},
      {"header JSON nested 100000 deep", assemble(deep), "tensor \"a\": entry is not an object"},
      {"duplicate tensor names", assemble("{\"w\":" + f32x2 + "[0,8]},\"w\":" + f32x2 + "[8,16]}}", zeros16),
       "duplicate key \"w\""},
      {"tensor offsets past the data", assemble("{\"w\":" + f32x2 + "[8,24]}}", zeros16),
       "data_offsets end 24 is past the end of the data buffer (16 bytes)"},
      {"tensor offsets overlapping",
       assemble("{\"a\":" + f32x2 + "[0,8]},\"b\":" + f32x2 + "[4,12]},\"c\":" + f32x2 + "[8,16]}}", zeros16),
       "overlap"},
      {"tensor offsets leaving a hole", assemble("{\"a\":" + f32x2 + "[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
                                                 "\"data_offsets\":[12,16]}}", zeros16),
       "data bytes [8, 12) are not covered by any tensor (a hole)"},
      {"shape whose element count overflows 64 bits",
       assemble(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})", zeros16),
       "has an element count that overflows 64 bits"},
      // 2^40 elements (4 TiB): an allocation before the size check would throw or abort, not return an error.
      {"shape larger than the bytes present",
       assemble(R"({"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}})", zeros16),
       "data_offsets end 4398046511104 is past the end of the data buffer (16 bytes)"},
      {"shape disagreeing with its byte range",
       assemble(R"({"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,16]}})", zeros16),
       "shape [1048576, 1048576] of F32 needs 4398046511104 bytes but data_offsets span 16"},
      {"unknown dtype", assemble(R"({"w":{"dtype":"Q4_K","shape":[4],"data_offsets":[0,16]}})", zeros16),
       "unknown dtype \"Q4_K\""},
      {"unsupported dtype", assemble(R"({"w":{"dtype":"I16","shape":[8],"data_offsets":[0,16]}})", zeros16),
       "dtype I16 not supported (F32, F16, BF16, I8)"},
      {"NaN weight", model_file_with_value(5, 0x7FC00000u), "element 5 is NaN"},
      {"+Inf weight", model_file_with_value(7, 0x7F800000u), "element 7 is +Inf"},
      {"-Inf weight", model_file_with_value(0, 0xFF800000u), "element 0 is -Inf"},
      {"file cut in half", truncated, "is past the end of the data buffer"},
      {"not a VAE Studio model", assemble("{\"w\":" + f32x2 + "[0,8]}}", std::vector<uint8_t>(8, 0)),
       "not a VAE Studio model: no \"format\" in __metadata__, and no encoder.fc1.weight"},
      {"tensors for another latent size", model_file("vae.latent", "3"),
       "has shape (2, 16), architecture 784-16-[3]-16-784 needs (3, 16)"},
      {"tensors for other hidden sizes", model_file("vae.hidden", "16,8"), "architecture 784-16-8-[2]-8-16-784"},
      {"a tensor missing", model_file("", "", true), "missing for architecture 784-16-[2]-16-784"},
      {"an extra tensor", model_file("", "", false, true),
       "unexpected tensor \"encoder.fc9.weight\" for architecture 784-16-[2]-16-784"},
      {"architecture metadata malformed", model_file("vae.hidden", "16,x"), "metadata vae.hidden \"16,x\""},
  };
}

}  // namespace hostile
