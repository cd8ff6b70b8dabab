// safetensors reading (validate everything, then convert to float32) and writing (F32, F16, BF16 or I8, one dtype
// for the whole file or each tensor's own; atomic save).
// The header's JSON is read by nlohmann/json's SAX parser straight into the entries, without exceptions (the
// browser build has none) and without a tree. Not tolerant of damaged files: any inconsistency is reported, never
// repaired or skipped.
#include "vae/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

namespace vae {

// ---- binary16 <-> binary32 ----
// binary32: sign(1) exponent(8, bias 127) mantissa(23). binary16: sign(1) exponent(5, bias 15) mantissa(10).
// Half exponent e = float exponent - 112. Half subnormals are m * 2^-24 with m in [1, 1023].

namespace {

uint32_t float_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

float bits_float(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

}  // namespace

// Eigen's own binary16 (F16C instructions where the build has them, its bit-exact portable code elsewhere);
// tests/test_safetensors.cpp holds it to an independent reference on every half and a sweep of floats.
uint16_t f32_to_f16(float x) { return Eigen::numext::bit_cast<uint16_t>(Eigen::half(x)); }

float f16_to_f32(uint16_t h) { return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(h)); }

// bfloat16 is the top half of a binary32: widening is exact; Eigen::bfloat16 narrows to nearest, ties to even.
uint16_t f32_to_bf16(float x) { return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(x)); }

float bf16_to_f32(uint16_t h) { return bits_float(uint32_t(h) << 16); }

// ---- StFile ----

const StTensor* StFile::find(const std::string& name) const {
  for (const StTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string StFile::meta(const std::string& key, const std::string& fallback) const {
  for (const auto& kv : metadata)
    if (kv.first == key) return kv.second;
  return fallback;
}

void StFile::set_meta(const std::string& key, const std::string& value) {
  for (auto& kv : metadata)
    if (kv.first == key) {
      kv.second = value;
      return;
    }
  metadata.emplace_back(key, value);
}

namespace {

// Explicit little-endian loads and stores: correct on any host byte order, no alignment assumed.
uint64_t load_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t load_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
uint16_t load_u16_le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
void store_u64_le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void store_u32_le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void store_u16_le(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

size_t dtype_size(DType d) { return d == DType::F32 ? 4 : d == DType::I8 ? 1 : 2; }

// The 16-bit pattern of x in a 16-bit dtype (F16 or BF16).
uint16_t to_16(DType d, float x) { return d == DType::F16 ? f32_to_f16(x) : f32_to_bf16(x); }
float from_16(DType d, uint16_t h) { return d == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h); }
// Exponent bits and mantissa bits of a 16-bit dtype: all exponent bits set is Inf (mantissa 0) or NaN.
uint16_t exponent_16(DType d) { return d == DType::F16 ? 0x7C00u : 0x7F80u; }
uint16_t mantissa_16(DType d) { return d == DType::F16 ? 0x03FFu : 0x007Fu; }

// Every dtype name the format defines; only F32, F16, BF16 and I8 are read.
bool dtype_known(const std::string& s) {
  static const char* const names[] = {"BOOL", "U8",      "I8",      "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3",
                                      "F6_E3M2", "F4",   "I16",     "U16",     "F16",     "BF16",    "I32",
                                      "U32",  "F32",     "F64",     "C64",     "I64",     "U64"};
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

// s as a JSON string literal. Never aborts: bytes that are not UTF-8 (refused before anything is written, but
// possible in a name shown in a message) become U+FFFD.
std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A name for messages: JSON-quoted, cut to 120 bytes at a UTF-8 boundary.
std::string shown(const std::string& s) {
  if (s.size() <= 120) return quoted(s);
  size_t cut = 120;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0u) == 0x80u) --cut;
  return quoted(s.substr(0, cut)) + "...";
}

// True if s is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), which
// the writer checks before quoting: nlohmann/json would otherwise replace the bytes or, without exceptions, abort.
bool utf8_valid(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    unsigned cp = len == 1 ? c : c & (0xFFu >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0u) != 0x80u) return false;
      cp = cp << 6 | (p[i + k] & 0x3Fu);
    }
    static const unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Product of non-negative dims, false on 64-bit overflow. Any zero dim gives 0 whatever the others are.
bool element_count(const std::vector<int64_t>& shape, uint64_t& count) {
  count = 1;
  for (int64_t d : shape)
    if (d == 0) {
      count = 0;
      return true;
    }
  for (int64_t d : shape) {
    const uint64_t u = static_cast<uint64_t>(d);
    if (count > UINT64_MAX / u) return false;
    count *= u;
  }
  return true;
}

const char* nonfinite_name(bool nan, bool negative) { return nan ? "NaN" : (negative ? "-Inf" : "+Inf"); }

// One tensor's header entry: the fields as read, then (check_entry) its dtype, element count and byte range.
struct Entry {
  std::string name;
  bool has_dtype = false, has_shape = false, has_offsets = false;
  std::string dtype_text;
  std::vector<int64_t> shape;
  std::vector<uint64_t> offsets;
  DType dtype = DType::F32;
  uint64_t count = 0;
  uint64_t begin = 0, end = 0;  // relative to the data buffer
  size_t order = 0;             // position in the header
};

// The header's grammar, enforced event by event as nlohmann/json's SAX parser reads it: one object whose members
// are "__metadata__" (an object of strings) and tensors (objects of exactly "dtype", a string; "shape", an array
// of non-negative integers; "data_offsets", two of them). Nothing may nest deeper than that, so the grammar is
// also the depth limit; a name used twice in one object is refused. The first violation stops the parse.
class HeaderReader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<Entry> entries;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string error;  // why the parse stopped

  bool null() override { return value(Kind::Other); }
  bool boolean(bool) override { return value(Kind::Other); }
  bool number_integer(number_integer_t v) override {
    if (v >= 0) return number_unsigned(static_cast<number_unsigned_t>(v));
    negative_ = v;
    return value(Kind::Negative);
  }
  bool number_unsigned(number_unsigned_t v) override {
    count_ = v;
    return value(Kind::Count);
  }
  bool number_float(number_float_t, const string_t&) override { return value(Kind::Other); }
  bool string(string_t& s) override {
    text_ = std::move(s);
    return value(Kind::String);
  }
  bool binary(binary_t&) override { return value(Kind::Other); }  // not produced by JSON text
  bool start_object(std::size_t) override { return value(Kind::Object); }
  bool start_array(std::size_t) override { return value(Kind::Array); }

  bool key(string_t& k) override {
    if (at_ == At::Root) {
      if (!root_names_.insert(k).second) return fail("header JSON: duplicate key " + shown(k));
    } else if (at_ == At::Meta) {
      if (!meta_keys_.insert(k).second) return fail("__metadata__: duplicate key " + shown(k));
    } else {  // At::Entry
      Entry& e = entries.back();
      bool* seen = k == "dtype" ? &e.has_dtype : k == "shape" ? &e.has_shape : k == "data_offsets" ? &e.has_offsets : nullptr;
      if (!seen) return fail(who() + "unknown key " + shown(k) + " (expected dtype, shape, data_offsets)");
      if (*seen) return fail(who() + "duplicate key " + shown(k));
      *seen = true;
    }
    key_ = std::move(k);
    return true;
  }

  bool end_object() override {
    if (at_ == At::Entry) {
      const Entry& e = entries.back();
      if (!e.has_dtype) return fail(who() + "missing \"dtype\"");
      if (!e.has_shape) return fail(who() + "missing \"shape\"");
      if (!e.has_offsets) return fail(who() + "missing \"data_offsets\"");
    }
    at_ = at_ == At::Root ? At::Done : At::Root;
    return true;
  }

  bool end_array() override {
    if (at_ == At::Offsets && entries.back().offsets.size() != 2) return fail(who() + "data_offsets is not an array [begin, end]");
    at_ = At::Entry;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    // nlohmann/json says "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error while
    // parsing object key - unexpected end of input; expected string literal"; we keep the reason and where.
    const std::string what = ex.what(), syntax = "syntax error while parsing ";
    const size_t at = what.find(syntax), dash = what.find(" - ", at);
    const std::string byte = "byte " + std::to_string(position == 0 ? 0 : position - 1);
    if (at == std::string::npos || dash == std::string::npos) return fail("header JSON: " + what + " (" + byte + ")");
    const size_t from = at + syntax.size();
    return fail("header JSON: " + what.substr(dash + 3) + " (in " + what.substr(from, dash - from) + ", " + byte + ")");
  }

 private:
  enum class At { Start, Root, Meta, Entry, Shape, Offsets, Done };
  enum class Kind { Object, Array, String, Count, Negative, Other };  // Count: an integer >= 0

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
  std::string who() const { return "tensor " + shown(entries.back().name) + ": "; }

  // A value (or the start of a container) arrives where the grammar is at_.
  bool value(Kind k) {
    switch (at_) {
      case At::Start:
        if (k != Kind::Object) return fail("header is not a JSON object");
        at_ = At::Root;
        return true;
      case At::Root:
        if (key_ == "__metadata__") {
          if (k != Kind::Object) return fail("__metadata__ is not an object");
          at_ = At::Meta;
          return true;
        }
        entries.emplace_back();
        entries.back().name = key_;
        entries.back().order = entries.size() - 1;
        if (k != Kind::Object) return fail(who() + "entry is not an object");
        at_ = At::Entry;
        return true;
      case At::Meta:
        if (k != Kind::String) return fail("__metadata__ value for " + shown(key_) + " is not a string");
        metadata.emplace_back(key_, std::move(text_));
        return true;
      case At::Entry:
        if (key_ == "dtype") {
          if (k != Kind::String) return fail(who() + "dtype is not a string");
          entries.back().dtype_text = std::move(text_);
          return true;
        }
        if (k != Kind::Array)
          return fail(who() + (key_ == "shape" ? "shape is not an array" : "data_offsets is not an array [begin, end]"));
        at_ = key_ == "shape" ? At::Shape : At::Offsets;
        return true;
      case At::Shape: {
        std::vector<int64_t>& shape = entries.back().shape;
        const std::string i = "shape entry " + std::to_string(shape.size());
        if (k == Kind::Negative) return fail(who() + i + " is negative (" + std::to_string(negative_) + ")");
        if (k != Kind::Count) return fail(who() + i + " is not an integer");
        if (count_ > uint64_t(INT64_MAX)) return fail(who() + i + " is too large (" + std::to_string(count_) + ")");
        shape.push_back(int64_t(count_));
        return true;
      }
      case At::Offsets:
        if (k != Kind::Count) return fail(who() + "data_offsets entries are not non-negative integers");
        if (entries.back().offsets.size() == 2) return fail(who() + "data_offsets is not an array [begin, end]");
        entries.back().offsets.push_back(count_);
        return true;
      case At::Done:
        break;
    }
    return fail("header JSON: a value after the end");  // unreachable: a strict parse stops at the end
  }

  At at_ = At::Start;
  std::string key_, text_;
  uint64_t count_ = 0;
  int64_t negative_ = 0;
  std::unordered_set<std::string> root_names_, meta_keys_;
};

// The entry's dtype, byte range and element count, checked against each other and the data buffer's size.
Status check_entry(uint64_t data_size, Entry& e) {
  const std::string who = "tensor " + shown(e.name) + ": ";
  if (e.dtype_text == "F32") e.dtype = DType::F32;
  else if (e.dtype_text == "F16") e.dtype = DType::F16;
  else if (e.dtype_text == "BF16") e.dtype = DType::BF16;
  else if (e.dtype_text == "I8") e.dtype = DType::I8;
  else if (dtype_known(e.dtype_text))
    return Status::error(who + "dtype " + e.dtype_text + " not supported (F32, F16, BF16, I8)");
  else return Status::error(who + "unknown dtype " + shown(e.dtype_text));

  e.begin = e.offsets[0];
  e.end = e.offsets[1];
  if (e.begin > e.end)
    return Status::error(who + "data_offsets begin " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
  if (e.end > data_size)
    return Status::error(who + "data_offsets end " + std::to_string(e.end) + " is past the end of the data buffer (" +
                         std::to_string(data_size) + " bytes)");

  const uint64_t size = dtype_size(e.dtype);
  if (!element_count(e.shape, e.count) || e.count > UINT64_MAX / size)
    return Status::error(who + "shape " + shape_str(e.shape) + " has an element count that overflows 64 bits");
  if (e.count * size != e.end - e.begin)
    return Status::error(who + "shape " + shape_str(e.shape) + " of " + dtype_name(e.dtype) + " needs " +
                         std::to_string(e.count * size) + " bytes but data_offsets span " +
                         std::to_string(e.end - e.begin));
  return Status::success();
}

// First non-finite element of a checked entry (exponent bits all ones), or count if none (always, for I8).
uint64_t first_nonfinite(const Entry& e, const uint8_t* data, bool& nan, bool& negative) {
  if (e.dtype == DType::I8) return e.count;
  const uint8_t* p = data + e.begin;
  for (uint64_t i = 0; i < e.count; ++i) {
    if (e.dtype == DType::F32) {
      const uint32_t b = load_u32_le(p + 4 * i);
      if ((b & 0x7F800000u) == 0x7F800000u) {
        nan = (b & 0x7FFFFFu) != 0, negative = (b >> 31) != 0;
        return i;
      }
    } else {
      const uint16_t h = load_u16_le(p + 2 * i), ex = exponent_16(e.dtype);
      if ((h & ex) == ex) {
        nan = (h & mantissa_16(e.dtype)) != 0, negative = (h >> 15) != 0;
        return i;
      }
    }
  }
  return e.count;
}

}  // namespace

// ---- reading ----

Status st_parse(const uint8_t* bytes, size_t size, StFile& out) {
  if (bytes == nullptr) size = 0;
  if (size < 8)
    return Status::error("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  const uint64_t n = load_u64_le(bytes);
  if (n > kStMaxHeader)
    return Status::error("header length " + std::to_string(n) + " is over the limit of " +
                         std::to_string(kStMaxHeader) + " bytes (100 MB)");
  if (n > size - 8)
    return Status::error("header length " + std::to_string(n) + " is past the end of the file (" +
                         std::to_string(size - 8) + " bytes follow the length)");

  const char* header = reinterpret_cast<const char*>(bytes + 8);
  HeaderReader reader;
  if (!nlohmann::json::sax_parse(header, header + n, &reader)) return Status::error(reader.error);
  if (header[0] != '{') return Status::error("header does not begin with '{'");

  const uint8_t* data = bytes + 8 + n;
  const uint64_t data_size = size - 8 - n;

  StFile f;
  f.metadata = std::move(reader.metadata);
  std::vector<Entry>& entries = reader.entries;
  for (Entry& e : entries) {
    const Status s = check_entry(data_size, e);
    if (!s) return s;
  }

  // Sorted by offset, the ranges must tile [0, data_size): each begins where the previous ended.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.order < b.order;
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      return Status::error("tensors " + shown(prev->name) + " [" + std::to_string(prev->begin) + ", " +
                           std::to_string(prev->end) + ") and " + shown(e.name) + " [" + std::to_string(e.begin) +
                           ", " + std::to_string(e.end) + ") overlap");
    if (e.begin > covered)
      return Status::error("data bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                           ") are not covered by any tensor (a hole)");
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    return Status::error("data bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                         ") are not covered by any tensor (trailing bytes)");

  for (const Entry& e : entries) {
    bool nan = false, negative = false;
    const uint64_t i = first_nonfinite(e, data, nan, negative);
    if (i != e.count)
      return Status::error("tensor " + shown(e.name) + ": element " + std::to_string(i) + " is " +
                           nonfinite_name(nan, negative));
  }

  // All checked: count * dtype size <= data_size <= size, so every count fits in size_t.
  f.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    StTensor t;
    t.name = std::move(e.name);
    t.shape = std::move(e.shape);
    t.dtype = e.dtype;
    t.data.resize(static_cast<size_t>(e.count));
    const uint8_t* p = data + e.begin;
    if (e.dtype == DType::F32)
      for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = bits_float(load_u32_le(p + 4 * i));
    else if (e.dtype == DType::I8)
      for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = float(static_cast<int8_t>(p[i]));
    else
      for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = from_16(e.dtype, load_u16_le(p + 2 * i));
    f.tensors.push_back(std::move(t));
  }
  out = std::move(f);
  return Status::success();
}

const char* dtype_name(DType d) {
  return d == DType::F32 ? "F32" : d == DType::F16 ? "F16" : d == DType::BF16 ? "BF16" : "I8";
}

DType st_file_dtype(const StFile& f) {
  // A quantized tensor and its scales ("X" I8 and "X_scale" beside it, quant.hpp) say nothing of the file's floats.
  auto quantized = [&f](const StTensor& t) {
    const size_t n = t.name.size();
    if (t.dtype == DType::I8) return true;
    if (n < 6 || t.name.compare(n - 6, 6, "_scale") != 0) return false;
    const StTensor* of = f.find(t.name.substr(0, n - 6));
    return of && of->dtype == DType::I8;
  };
  const StTensor* first = nullptr;
  for (const StTensor& t : f.tensors) {
    if (quantized(t)) continue;
    if (!first) first = &t;
    if (t.dtype != first->dtype) return DType::F32;
  }
  return first ? first->dtype : DType::F32;
}

Status st_load(const std::string& path, StFile& out) {
  std::FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) return Status::error(path + ": cannot open: " + std::strerror(errno));
  // No size hint from fseek/ftell: it is meaningless for pipes and directories (ext4 reports a huge one).
  std::vector<uint8_t> bytes;
  const size_t chunk = size_t{1} << 20;
  for (;;) {
    const size_t have = bytes.size();
    bytes.resize(have + chunk);
    const size_t got = std::fread(bytes.data() + have, 1, chunk, fp);
    bytes.resize(have + got);
    if (got < chunk) break;
  }
  const int err = errno;
  const bool failed = std::ferror(fp) != 0;
  std::fclose(fp);
  if (failed) return Status::error(path + ": read error: " + std::strerror(err));
  return st_parse(bytes.data(), bytes.size(), out).with_context(path);
}

// ---- writing ----

namespace {

// Both writers: every tensor in *all, or (all null) each in its own dtype, the wider elements first.
Status serialize(const StFile& f, const DType* all, std::vector<uint8_t>& out) {
  std::unordered_set<std::string> seen;
  for (const auto& kv : f.metadata) {
    if (!utf8_valid(kv.first) || !utf8_valid(kv.second))
      return Status::error("__metadata__ entry " + shown(kv.first) + " is not valid UTF-8");
    if (!seen.insert(kv.first).second) return Status::error("__metadata__ has duplicate key " + shown(kv.first));
  }
  seen.clear();
  auto dtype_of = [all](const StTensor& t) { return all ? *all : t.dtype; };
  std::vector<uint64_t> nbytes;
  nbytes.reserve(f.tensors.size());
  uint64_t total = 0;
  for (const StTensor& t : f.tensors) {
    const std::string who = "tensor " + shown(t.name) + ": ";
    const DType dtype = dtype_of(t);
    const uint64_t esize = dtype_size(dtype);
    if (!utf8_valid(t.name)) return Status::error(who + "name is not valid UTF-8");
    if (t.name == "__metadata__") return Status::error(who + "name is reserved for the metadata");
    if (!seen.insert(t.name).second) return Status::error(who + "duplicate tensor name");
    for (size_t i = 0; i < t.shape.size(); ++i)
      if (t.shape[i] < 0) return Status::error(who + "shape entry " + std::to_string(i) + " is negative");
    uint64_t count = 0;
    if (!element_count(t.shape, count) || count > UINT64_MAX / esize || count * esize > UINT64_MAX - total)
      return Status::error(who + "shape " + shape_str(t.shape) + " is too large");
    if (count != t.data.size())
      return Status::error(who + "has " + std::to_string(t.data.size()) + " values but shape " + shape_str(t.shape) +
                           " needs " + std::to_string(count));
    for (size_t i = 0; i < t.data.size(); ++i) {
      const uint32_t b = float_bits(t.data[i]);
      if ((b & 0x7F800000u) == 0x7F800000u)
        return Status::error(who + "element " + std::to_string(i) + " is " +
                             nonfinite_name((b & 0x7FFFFFu) != 0, (b >> 31) != 0) + "; not written");
      if (dtype == DType::I8 && !(t.data[i] >= -128.f && t.data[i] <= 127.f && t.data[i] == std::trunc(t.data[i]))) {
        char v[32];
        std::snprintf(v, sizeof v, "%.9g", double(t.data[i]));
        return Status::error(who + "element " + std::to_string(i) + " is " + v +
                             ", not a whole number from -128 to 127 (I8); not written");
      }
      if ((dtype == DType::F16 || dtype == DType::BF16) && (to_16(dtype, t.data[i]) & 0x7FFFu) == exponent_16(dtype))
        return Status::error(who + "element " + std::to_string(i) + " overflows " + dtype_name(dtype) +
                             (dtype == DType::F16 ? " (|x| >= 65520)" : ""));
    }
    nbytes.push_back(count * esize);
    total += count * esize;
  }

  // The data buffer's order: f.tensors' with one dtype; else the wider elements first, so that every tensor's
  // offset is a multiple of its element size (the sizes before it are multiples of it: 4s, then 2s, then 1s).
  std::vector<size_t> order(f.tensors.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dtype_size(dtype_of(f.tensors[a])) > dtype_size(dtype_of(f.tensors[b]));
  });

  std::string h = "{";
  if (!f.metadata.empty()) {
    h += "\"__metadata__\":{";
    for (size_t i = 0; i < f.metadata.size(); ++i)
      h += (i ? "," : "") + quoted(f.metadata[i].first) + ":" + quoted(f.metadata[i].second);
    h += "}";
  }
  uint64_t offset = 0;
  for (size_t k : order) {
    const StTensor& t = f.tensors[k];
    if (h.size() > 1) h += ",";
    h += quoted(t.name) + ":{\"dtype\":\"" + dtype_name(dtype_of(t)) + "\",\"shape\":" + shape_str(t.shape) +
         ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes[k]) + "]}";
    offset += nbytes[k];
  }
  h += "}";
  while (h.size() % 8 != 0) h += ' ';  // data buffer starts at 8 + h.size(), a multiple of 8

  if (total > SIZE_MAX - 8 - h.size()) return Status::error("tensors too large for memory");
  std::vector<uint8_t> bytes(8 + h.size() + static_cast<size_t>(total));
  store_u64_le(bytes.data(), h.size());
  std::memcpy(bytes.data() + 8, h.data(), h.size());
  uint8_t* p = bytes.data() + 8 + h.size();
  for (size_t k : order) {
    const DType dtype = dtype_of(f.tensors[k]);
    for (float x : f.tensors[k].data) {
      if (dtype == DType::F32) {
        store_u32_le(p, float_bits(x));
        p += 4;
      } else if (dtype == DType::I8) {
        *p++ = static_cast<uint8_t>(static_cast<int8_t>(x));  // checked above: a whole number in [-128, 127]
      } else {
        store_u16_le(p, to_16(dtype, x));
        p += 2;
      }
    }
  }
  out = std::move(bytes);
  return Status::success();
}

}  // namespace

Status st_serialize(const StFile& f, DType dtype, std::vector<uint8_t>& out) { return serialize(f, &dtype, out); }

Status st_serialize(const StFile& f, std::vector<uint8_t>& out) { return serialize(f, nullptr, out); }

Status file_write_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  std::FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) return Status::error(tmp + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), fp) == bytes.size();
  ok = std::fflush(fp) == 0 && ok;
  int err = errno;
  ok = std::fclose(fp) == 0 && ok;
  if (!ok) {
    if (err == 0) err = errno;
    std::remove(tmp.c_str());
    return Status::error(tmp + ": write failed: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    return Status::error(path + ": cannot rename " + tmp + " over it: " + std::strerror(err));
  }
  return Status::success();
}

namespace {

Status save(const std::string& path, const StFile& f, const DType* all) {
  std::vector<uint8_t> bytes;
  const Status s = serialize(f, all, bytes);
  if (!s) return s.with_context(path);
  return file_write_atomic(path, bytes);
}

}  // namespace

Status st_save(const std::string& path, const StFile& f, DType dtype) { return save(path, f, &dtype); }

Status st_save(const std::string& path, const StFile& f) { return save(path, f, nullptr); }

std::string st_shape_str(const std::vector<int64_t>& shape) {
  std::string r = "(";
  for (size_t i = 0; i < shape.size(); ++i) r += (i ? ", " : "") + std::to_string(shape[i]);
  return r + (shape.size() == 1 ? ",)" : ")");
}

Status st_pick(const StFile& f, bool (*mine)(const std::string&), const std::vector<StSlot>& slots,
               std::string (*unexpected)(const std::string&)) {
  for (const StTensor& t : f.tensors) {
    if (mine && !mine(t.name)) continue;
    const auto slot = std::find_if(slots.begin(), slots.end(), [&t](const StSlot& s) { return t.name == s.name; });
    if (slot == slots.end()) return Status::error(unexpected(t.name));
    *slot->tensor = &t;
    size_t size = 1;
    for (int64_t d : t.shape) size *= d < 0 ? 0 : size_t(d);
    if (t.data.size() != size)
      return Status::error(t.name + " holds " + std::to_string(t.data.size()) + " values, its shape " +
                           st_shape_str(t.shape) + " needs " + std::to_string(size));
    for (size_t i = 0; i < t.data.size(); ++i)
      if (!std::isfinite(t.data[i])) return Status::error(t.name + "[" + std::to_string(i) + "] is not finite");
  }
  return Status::success();
}

}  // namespace vae
