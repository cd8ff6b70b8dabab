// Hostile model files, one per problem a reader must survive (issue 5, item 3): each is the bytes of a file and
// the words its one-line error must contain. Shared by the engine's test (model_load names the file) and the
// studio's (a refused file leaves the current model in place).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/quant.hpp"
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

// The valid model file, quantized (quant.hpp) unless `quantize` is false, then changed by `edit`, so that only that
// change is wrong; each tensor written in its own dtype.
inline std::vector<uint8_t> quantized_file(const std::function<void(vae::StFile&)>& edit = nullptr, bool quantize = true) {
  vae::Arch a;
  a.hidden = {16};
  vae::StFile f = vae::model_to_st(vae::vae_make(a, 3), {{"dataset", "mnist"}});
  if (quantize) vae::quant_file(f);
  if (edit) edit(f);
  std::vector<uint8_t> bytes;
  vae::st_serialize(f, bytes);
  return bytes;
}
inline vae::StTensor& tensor(vae::StFile& f, const std::string& name) {
  for (vae::StTensor& t : f.tensors)
    if (t.name == name) return t;
  throw std::logic_error("hostile::tensor: no tensor " + name);  // a case naming a tensor the file does not have
}

inline void drop(vae::StFile& f, const std::string& name) {
  f.tensors.erase(std::remove_if(f.tensors.begin(), f.tensors.end(), [&name](const vae::StTensor& t) { return t.name == name; }),
                  f.tensors.end());
}

// bytes with the 32-bit value at element `index` of tensor `name` replaced by `bits` (a value the writer refuses).
inline std::vector<uint8_t> with_value(std::vector<uint8_t> b, const std::string& name, size_t index, uint32_t bits) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[size_t(i)];
  const nlohmann::json h = nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + std::ptrdiff_t(n), nullptr, false);
  const size_t at = 8 + size_t(n) + h[name]["data_offsets"][0].get<size_t>() + 4 * index;
  for (int k = 0; k < 4; ++k) b[at + size_t(k)] = static_cast<uint8_t>(bits >> (8 * k));
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
      // Quantized weights (quant.hpp): I8 with per-row scales, and nothing else I8.
      {"quantized: a weight's scales missing",
       quantized_file([](vae::StFile& f) { drop(f, "encoder.fc1.weight_scale"); }),
       "tensor \"encoder.fc1.weight\" is I8 but its per-row scales \"encoder.fc1.weight_scale\" are missing"},
      {"quantized: scales of the wrong shape",
       quantized_file([](vae::StFile& f) {
         tensor(f, "encoder.fc1.weight_scale").shape = {15};
         tensor(f, "encoder.fc1.weight_scale").data.resize(15);
       }),
       "tensor \"encoder.fc1.weight_scale\" has shape (15,), its weight \"encoder.fc1.weight\" (16, 784) needs (16,)"},
      {"quantized: a zero scale", quantized_file([](vae::StFile& f) { tensor(f, "decoder.out.weight_scale").data[3] = 0.f; }),
       "tensor \"decoder.out.weight_scale\": the scale of row 3 is 0; a scale must be positive and finite"},
      {"quantized: a negative scale",
       quantized_file([](vae::StFile& f) { tensor(f, "decoder.out.weight_scale").data[1] = -0.5f; }),
       "tensor \"decoder.out.weight_scale\": the scale of row 1 is -0.5; a scale must be positive and finite"},
      {"quantized: a NaN scale", with_value(quantized_file(), "encoder.fc1.weight_scale", 2, 0x7FC00000u),
       "tensor \"encoder.fc1.weight_scale\": element 2 is NaN"},
      {"quantized: an infinite scale", with_value(quantized_file(), "decoder.out.weight_scale", 0, 0x7F800000u),
       "tensor \"decoder.out.weight_scale\": element 0 is +Inf"},
      {"quantized: scales stored as I8", quantized_file([](vae::StFile& f) {
         vae::StTensor& s = tensor(f, "decoder.out.weight_scale");
         s = {s.name, s.shape, std::vector<float>(s.data.size(), 1.f), vae::DType::I8};
       }),
       "tensor \"decoder.out.weight_scale\" is I8; a scale must be a float (F32, F16 or BF16)"},
      {"quantized: an I8 bias", quantized_file([](vae::StFile& f) { tensor(f, "encoder.fc1.bias").dtype = vae::DType::I8; }),
       "tensor \"encoder.fc1.bias\" is I8; only a layer's weight may be quantized, a bias stays a float"},
      {"quantized: an I8 map tensor",
       quantized_file([](vae::StFile& f) { f.tensors.push_back({"map.points", {3, 2}, {1, 2, 3, 4, 5, 6}, vae::DType::I8}); }),
       "tensor \"map.points\" is I8; only a layer's weight may be quantized, map.* tensors stay floats"},
      {"quantized: an I8 PCA tensor",
       quantized_file([](vae::StFile& f) { f.tensors.push_back({"pca.mean", {784}, std::vector<float>(784, 0.f), vae::DType::I8}); }),
       "tensor \"pca.mean\" is I8; only a layer's weight may be quantized, pca.* tensors stay floats"},
      {"a scale beside a float weight",
       quantized_file([](vae::StFile& f) { f.tensors.push_back({"encoder.fc1.weight_scale", {16}, std::vector<float>(16, 1.f)}); },
                      false),
       "tensor \"encoder.fc1.weight_scale\" scales a weight that is not quantized (\"encoder.fc1.weight\" is F32, not I8)"},
      {"a scale with no weight",
       quantized_file([](vae::StFile& f) { f.tensors.push_back({"encoder.fc9.weight_scale", {2}, {1.f, 1.f}}); }),
       "tensor \"encoder.fc9.weight_scale\" is a scale with no weight \"encoder.fc9.weight\" in architecture "
       "784-16-[2]-16-784"},
      {"quant.method of another kind", quantized_file([](vae::StFile& f) { f.set_meta("quant.method", "gptq-int4"); }),
       "metadata quant.method \"gptq-int4\" is not supported (int8-symmetric-per-row)"},
      {"quant.method on float weights",
       quantized_file([](vae::StFile& f) { f.set_meta("quant.method", "int8-symmetric-per-row"); }, false),
       "metadata quant.method says int8-symmetric-per-row but no weight is I8"},
  };
}

}  // namespace hostile
