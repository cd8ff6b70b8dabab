// Reader and writer of the safetensors format (huggingface/safetensors README, "Format"), F32, F16, BF16 and I8
// only (I8 for quantized weights, quant.hpp). Not a lazy or zero-copy loader: every tensor is checked, then
// converted to float32 in memory (an I8 tensor's values are its whole numbers -128..127 as floats).
//
// File layout:
//   bytes [0, 8)        N, unsigned 64-bit little-endian: the header length
//   bytes [8, 8+N)      UTF-8 JSON object, starting with '{', possibly padded at the end with spaces (0x20):
//                         {"__metadata__": {"key": "value", ...},                      (optional, strings only)
//                          "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
//   bytes [8+N, size)   the data buffer; [begin, end) are relative to its start. The tensors' ranges tile it
//                       exactly (no overlap, no holes). Elements little-endian, row-major (C order).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vae/status.hpp"

namespace vae {

enum class DType { F32, F16, BF16, I8 };

struct StTensor {
  std::string name;             // PyTorch-style, e.g. "encoder.fc1.weight"
  std::vector<int64_t> shape;   // row-major (C order), as in the file; {} is a scalar
  std::vector<float> data;      // values converted to float32; size == product of shape
  DType dtype = DType::F32;     // as stored in the file it was read from; what the per-tensor writer writes
};

struct StFile {
  std::vector<StTensor> tensors;                              // read: in file order of data offsets
  std::vector<std::pair<std::string, std::string>> metadata;  // __metadata__, in header order

  const StTensor* find(const std::string& name) const;        // nullptr if absent
  std::string meta(const std::string& key, const std::string& fallback = "") const;
  void set_meta(const std::string& key, const std::string& value);  // replace or append
};

// Largest header accepted (the reference implementation's limit).
constexpr uint64_t kStMaxHeader = 100u * 1000u * 1000u;

// Parses and checks a whole file held in memory. Everything (lengths, offsets, dtypes, shapes, tiling,
// finiteness of every value) is checked before any tensor is allocated or returned; one message per problem.
// out is replaced only on success.
Status st_parse(const uint8_t* bytes, size_t size, StFile& out);

// Reads path and st_parse-s it; errors are prefixed with the path.
Status st_load(const std::string& path, StFile& out);

// The file bytes: header with __metadata__ first (omitted if empty), then the tensors, packed contiguously; the
// header is space-padded so the data buffer starts at an offset that is a multiple of 8. Fails, writing nothing
// to out, on anything st_parse would reject: duplicate or non-UTF-8 names, a tensor named "__metadata__",
// negative dims, data.size() != product of shape, NaN/Inf values, for F16 and BF16 values whose rounding
// overflows to Inf (F16: |x| >= 65520), and for I8 a value that is not a whole number from -128 to 127.
//
// Every tensor in `dtype`, in the order of f.tensors.
Status st_serialize(const StFile& f, DType dtype, std::vector<uint8_t>& out);
// Each tensor in its own StTensor::dtype (a quantized file mixes I8 weights with float biases and scales). The
// data buffer holds the wider elements first (F32, then F16 and BF16, then I8; f.tensors' order within each), so
// every tensor starts at a multiple of its element size, as the reference writer lays it out for readers that
// map the file; st_parse returns the tensors in that order. With one dtype throughout it writes the same bytes as
// st_serialize(f, that dtype, out).
Status st_serialize(const StFile& f, std::vector<uint8_t>& out);

// Writes atomically: to "<path>.tmp", flush + close checked, then std::rename over path.
// Never leaves a partial file at path (the .tmp is removed on failure). Every tensor in dtype, or without it each
// in its own, as the two st_serialize.
Status st_save(const std::string& path, const StFile& f, DType dtype);
Status st_save(const std::string& path, const StFile& f);
// Writes bytes to path whole or not at all: to "<path>.tmp", flush and close checked, then std::rename over
// path; on any failure the temporary file is removed and path is untouched. Every file the project writes
// (models, checkpoints, PNGs) goes through this.
Status file_write_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

// IEEE 754 binary16 <-> binary32, by Eigen::half. f32_to_f16 rounds to nearest, ties to even; overflow gives
// +-Inf; NaN stays NaN (the writers refuse non-finite weights before converting); subnormal halves are exact.
uint16_t f32_to_f16(float x);
const char* dtype_name(DType d);  // "F32", "F16", "BF16", "I8"
// The float dtype of a file, for tensors added to it (a latent map, a PCA): the dtype its float tensors share,
// else F32. Quantized weights (quant.hpp) are set aside: I8 tensors, and a tensor "X_scale" beside an I8 "X".
DType st_file_dtype(const StFile& f);
float f16_to_f32(uint16_t h);
// bfloat16 (the top 16 bits of a binary32) <-> binary32: widening is exact, narrowing rounds to nearest even.
uint16_t f32_to_bf16(float x);
float bf16_to_f32(uint16_t h);

// ---- for the modules whose tensors ride along in a model's file (latent_map, pca) or make a file (digits) ----

// "(3, 784)", "(10,)": a shape as the messages write it.
std::string st_shape_str(const std::vector<int64_t>& shape);
// One tensor a reader expects, by name, and where to put it (null until found).
struct StSlot {
  const char* name;
  const StTensor** tensor;
};
// Finds the slots' tensors among those of f that `mine` accepts (all when null), each one checked: values as
// many as its shape says, every value finite. Another tensor that `mine` accepts is an error,
// unexpected(name) its message; so is a problem with one of the slots' tensors. Slots not in the file stay null.
Status st_pick(const StFile& f, bool (*mine)(const std::string&), const std::vector<StSlot>& slots,
               std::string (*unexpected)(const std::string&));

}  // namespace vae
