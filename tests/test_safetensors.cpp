// The header's JSON, binary16 conversion, and safetensors: round trips, our header's shape, and malformed files
// rejected with a message that names the problem. Files are built byte by byte in memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hostile_files.hpp"
#include "vae/model_io.hpp"
#include "vae/safetensors.hpp"

using namespace vae;

namespace {

// 8-byte little-endian length, then the header text, then the data bytes.
std::vector<uint8_t> assemble(const std::string& header, const std::vector<uint8_t>& data, uint64_t length) {
  std::vector<uint8_t> b;
  b.reserve(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(length >> (8 * i)));
  for (char c : header) b.push_back(static_cast<uint8_t>(c));
  for (uint8_t c : data) b.push_back(c);
  return b;
}
std::vector<uint8_t> assemble(const std::string& header, const std::vector<uint8_t>& data = {}) {
  return assemble(header, data, header.size());
}

std::vector<uint8_t> le_f32(const std::vector<float>& v) {
  std::vector<uint8_t> b;
  for (float x : v) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(u >> (8 * i)));
  }
  return b;
}

std::vector<uint8_t> le_f16(const std::vector<uint16_t>& v) {
  std::vector<uint8_t> b;
  for (uint16_t h : v) {
    b.push_back(static_cast<uint8_t>(h));
    b.push_back(static_cast<uint8_t>(h >> 8));
  }
  return b;
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

// Parses bytes (copied to an exact-size buffer so a sanitizer sees any overrun); returns the message or "ok".
std::string parse_message(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> exact(bytes);
  StFile f;
  const Status s = st_parse(exact.data(), exact.size(), f);
  return s.ok() ? "ok" : s.message();
}

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

StFile sample_file() {
  StFile f;
  f.tensors.push_back({"encoder.fc1.weight", {3, 4}, {}});
  for (int i = 0; i < 12; ++i) f.tensors[0].data.push_back(0.25f * static_cast<float>(i) - 1.3f);
  f.tensors.push_back({"encoder.fc1.bias", {3}, {1e-30f, -0.0f, 12345.678f}});
  f.tensors.push_back({"scalar", {}, {3.5f}});
  f.tensors.push_back({"empty", {0, 5}, {}});
  f.tensors.push_back({"decoder.fc2.weight", {2, 1, 2}, {1.f / 3.f, -2.f, 7e-41f /* subnormal */, -60000.f}});
  f.set_meta("format", "pt");
  f.set_meta("arch", "vae 784-400-20");
  return f;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

}  // namespace

// ---------------------------------------------------------------- the header's JSON (nlohmann/json, SAX)

TEST_CASE("header JSON: syntax errors name nlohmann/json's reason and the byte") {
  const std::string m = parse_message(assemble(R"({"x":{"dtype":"F32",,}})"));
  CHECK(m.rfind("header JSON: ", 0) == 0);
  CHECK(m == "header JSON: unexpected ','; expected string literal (in object key, byte 20)");
  CHECK(m.find("json.exception") == std::string::npos);  // the library's tag is not shown
  CHECK(parse_message(assemble("{\"a\" 1}")).find("header JSON: ") == 0);
  CHECK(parse_message(assemble("{a:1}")).find("header JSON: ") == 0);
  CHECK(parse_message(assemble("{\"__metadata__\":{\"a\":\"b\",}}")).find("header JSON: ") == 0);
  for (const char* number : {"01", "-", "1e", "0x10", "NaN", "Infinity", "1.5.2"})
    CHECK_THAT(parse_message(assemble(std::string(R"({"x":{"dtype":"F32","shape":[)") + number +
                                      R"(],"data_offsets":[0,4]}})", zeros(4))),
               Catch::StartsWith("header JSON: ") || Catch::Contains("is not an integer"));
}

TEST_CASE("header JSON: duplicate names are refused at every level, also when spelled with escapes") {
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  CHECK(parse_message(assemble("{\"w\":" + entry + ",\"\\u0077\":" + entry + "}", zeros(4))) ==
        "header JSON: duplicate key \"w\"");
  CHECK(parse_message(assemble(R"({"__metadata__":{"a":"1","a":"2"}})")) == "__metadata__: duplicate key \"a\"");
  CHECK(parse_message(assemble(R"({"__metadata__":{},"__metadata__":{}})")) ==
        "header JSON: duplicate key \"__metadata__\"");
  CHECK(parse_message(assemble(R"({"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                               zeros(4))) == "tensor \"w\": duplicate key \"dtype\"");
  CHECK(parse_message(assemble(R"({"__metadata__":{"x":"1"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                               zeros(4))) == "ok");  // one name in two objects is fine
}

TEST_CASE("header JSON: nesting deeper than the format stops at the first level too many, wherever it is") {
  // The format nests three deep at most (header, entry, shape); a 100000-deep header is refused at once, and
  // nlohmann/json's parser keeps its own stack on the heap, so no depth reaches the C++ stack.
  const std::string deep(100000, '[');
  CHECK(parse_message(assemble("{\"a\":" + deep)) == "tensor \"a\": entry is not an object");
  CHECK(parse_message(assemble("{\"__metadata__\":{\"k\":" + deep)) ==
        "__metadata__ value for \"k\" is not a string");
  CHECK(parse_message(assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":" + deep)) ==
        "tensor \"a\": shape entry 0 is not an integer");
  CHECK(parse_message(assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":" + deep))
            .find("data_offsets entries are not non-negative integers") != std::string::npos);
  CHECK(parse_message(assemble(std::string(100000, '{'))).find("header JSON: ") == 0);
}

TEST_CASE("header JSON: strings are UTF-8 with escapes decoded; names are shown JSON-quoted") {
  // \u00e9 and the raw bytes C3 A9 are the same name.
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  StFile f;
  const std::vector<uint8_t> b = assemble("{\"caf\\u00e9\":" + entry + ",\"\\ud83d\\ude00\":" +
                                          R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8));
  REQUIRE(st_parse(b.data(), b.size(), f).ok());
  CHECK(f.tensors[0].name == "caf\xC3\xA9");
  CHECK(f.tensors[1].name == "\xF0\x9F\x98\x80");  // U+1F600 from a surrogate pair
  CHECK(parse_message(assemble("{\"\\ud83d\":" + entry + "}", zeros(4))).find("header JSON: ") == 0);
  CHECK(parse_message(assemble("{\"a\xC0\x80\":" + entry + "}", zeros(4))).find("UTF-8") != std::string::npos);
  CHECK(parse_message(assemble("{\"a\xED\xA0\x80\":" + entry + "}", zeros(4))).find("UTF-8") != std::string::npos);
  CHECK(parse_message(assemble(std::string("{\"a\tb\":") + entry + "}", zeros(4))).find("header JSON: ") == 0);
  CHECK(parse_message(assemble(R"({"x\n\"y":1})")) == "tensor \"x\\n\\\"y\": entry is not an object");
}

// ---------------------------------------------------------------- binary16

namespace {

// An independent binary16 rounding, written from IEEE 754's definition: the reference Eigen::half is held to.
uint32_t ref_shift_round_even(uint32_t v, uint32_t shift) {
  const uint32_t kept = v >> shift, rest = v & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  return kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
}
uint16_t ref_f32_to_f16(uint32_t b) {
  const uint32_t sign = (b >> 16) & 0x8000u, exp = (b >> 23) & 0xFFu, mant = b & 0x7FFFFFu;
  if (exp == 0xFF) return uint16_t(sign | (mant ? 0x7E00u : 0x7C00u));
  const int e = int(exp) - 112;
  if (e >= 31) return uint16_t(sign | 0x7C00u);
  if (e <= 0) return uint16_t(e < -10 ? sign : sign | ref_shift_round_even(mant | 0x800000u, uint32_t(14 - e)));
  return uint16_t(sign | ((uint32_t(e) << 10) + ref_shift_round_even(mant, 13)));
}
double ref_f16_value(uint16_t h) {
  const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  const double v = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return (h & 0x8000) ? -v : v;
}

}  // namespace

TEST_CASE("Eigen::half converts exactly as IEEE 754 rounding does: every half, and a sweep of floats") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    const int exp = (h >> 10) & 0x1F;
    INFO("half 0x" << std::hex << h);
    if (exp == 31 && (h & 0x3FF)) {
      CHECK(std::isnan(f));
      continue;
    }
    if (exp == 31) CHECK(f == ((h & 0x8000) ? -1 : 1) * std::numeric_limits<float>::infinity());
    else CHECK(double(f) == ref_f16_value(uint16_t(h)));
    CHECK(f32_to_f16(f) == h);  // and back
  }
  // Every 509th float bit pattern (all signs and exponents, 8.4 million values) plus the halfway points
  // between neighbouring halves, where ties to even decide.
  size_t checked = 0, mismatches = 0;
  auto one = [&](uint32_t b) {
    float x;
    std::memcpy(&x, &b, 4);
    const uint16_t got = f32_to_f16(x), want = ref_f32_to_f16(b);
    const bool nan = std::isnan(x);
    if (nan ? (got & 0x7C00u) != 0x7C00u || !(got & 0x3FFu) : got != want) {
      if (++mismatches < 5) FAIL_CHECK("float bits 0x" << std::hex << b << ": 0x" << got << ", expected 0x" << want);
    }
    ++checked;
  };
  for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 509) one(uint32_t(b));
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const double mid = (ref_f16_value(uint16_t(h)) + ref_f16_value(uint16_t(h + 1))) / 2;
    const float m = float(mid);  // exact: a half's neighbours differ in 11 bits
    uint32_t b;
    std::memcpy(&b, &m, 4);
    one(b);
    one(b | 0x80000000u);
  }
  CHECK(mismatches == 0);
  CHECK(checked > 8000000);
}

TEST_CASE("f32_to_f16 gives the known bit patterns") {
  CHECK(f32_to_f16(1.0f) == 0x3C00);
  CHECK(f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(f32_to_f16(-2.0f) == 0xC000);
  CHECK(f32_to_f16(1.0f / 3.0f) == 0x3555);
  CHECK(f32_to_f16(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(f32_to_f16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(f32_to_f16(65520.0f) == 0x7C00);   // halfway between 65504 and 65536: ties to even = Inf
  CHECK(f32_to_f16(65519.0f) == 0x7BFF);
  CHECK(f32_to_f16(1e10f) == 0x7C00);
  CHECK(f32_to_f16(-1e10f) == 0xFC00);
  CHECK(f32_to_f16(0.0f) == 0x0000);
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  CHECK(f32_to_f16(0.5f) == 0x3800);
  CHECK(f32_to_f16(std::ldexp(1.0f, -14)) == 0x0400);   // smallest normal
  CHECK(f32_to_f16(std::ldexp(1023.0f, -24)) == 0x03FF);  // largest subnormal
}

TEST_CASE("f32_to_f16 rounds to nearest with ties to even, in normals and subnormals") {
  const float ulp1 = std::ldexp(1.0f, -10);  // half spacing at 1.0
  CHECK(f32_to_f16(1.0f + ulp1 / 2) == 0x3C00);          // tie, 0x3C00 even
  CHECK(f32_to_f16(1.0f + 3 * ulp1 / 2) == 0x3C02);      // tie, rounds up to even
  CHECK(f32_to_f16(1.0f + ulp1 / 2 + ulp1 / 64) == 0x3C01);  // just above the tie
  CHECK(f32_to_f16(2.0f - ulp1 / 4) == 0x4000);          // carry into the exponent
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);    // tie between 0 and 2^-24: to even (0)
  CHECK(f32_to_f16(std::ldexp(1.01f, -25)) == 0x0001);
  CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);    // 1.5 * 2^-24: tie, to even (2)
  CHECK(f32_to_f16(std::ldexp(5.0f, -25)) == 0x0002);    // 2.5 * 2^-24: tie, to even (2)
  CHECK(f32_to_f16(std::ldexp(1.0f, -26)) == 0x0000);
  CHECK(f32_to_f16(-std::ldexp(1.0f, -30)) == 0x8000);
  CHECK(f32_to_f16(std::ldexp(2047.0f, -25)) == 0x0400);  // largest subnormal + half ulp rounds to min normal
  CHECK(f32_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
}

TEST_CASE("NaN stays NaN through f16 and back") {
  const uint16_t h = f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  CHECK((h & 0x7C00) == 0x7C00);
  CHECK((h & 0x03FF) != 0);
  CHECK(std::isnan(f16_to_f32(0x7E00)));
  CHECK(std::isnan(f16_to_f32(0x7C01)));
  CHECK(std::isinf(f16_to_f32(0x7C00)));
  CHECK(f16_to_f32(0xFC00) < 0);
}

TEST_CASE("f16_to_f32 decodes known values and every half survives f16 -> f32 -> f16 exactly") {
  CHECK(f16_to_f32(0x3C00) == 1.0f);
  CHECK(f16_to_f32(0x7BFF) == 65504.0f);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_f32(0x3555) == 0.333251953125f);
  CHECK(f16_to_f32(0xC000) == -2.0f);
  CHECK(bits(f16_to_f32(0x8000)) == 0x80000000u);
  int mismatches = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) continue;  // NaNs
    mismatches += f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))) != h;
  }
  CHECK(mismatches == 0);
}

// ---------------------------------------------------------------- safetensors round trips

TEST_CASE("F32 round trip is bit-exact, keeps order, shapes and metadata") {
  const StFile f = sample_file();
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  StFile g;
  const Status s = st_parse(bytes.data(), bytes.size(), g);
  REQUIRE(s.ok());
  REQUIRE(g.tensors.size() == f.tensors.size());
  for (size_t k = 0; k < f.tensors.size(); ++k) {
    CHECK(g.tensors[k].name == f.tensors[k].name);
    CHECK(g.tensors[k].shape == f.tensors[k].shape);
    REQUIRE(g.tensors[k].data.size() == f.tensors[k].data.size());
    for (size_t i = 0; i < f.tensors[k].data.size(); ++i) CHECK(bits(g.tensors[k].data[i]) == bits(f.tensors[k].data[i]));
  }
  CHECK(g.metadata == f.metadata);

  StFile x;
  x.tensors.push_back({"extremes", {5},
                       {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                        std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(), -3.0e38f}});
  REQUIRE(st_serialize(x, DType::F32, bytes).ok());
  StFile y;
  REQUIRE(st_parse(bytes.data(), bytes.size(), y).ok());
  for (size_t i = 0; i < 5; ++i) CHECK(bits(y.tensors[0].data[i]) == bits(x.tensors[0].data[i]));
  REQUIRE(g.find("scalar"));
  CHECK(g.find("scalar")->data == std::vector<float>{3.5f});
  CHECK(g.find("nope") == nullptr);
}

TEST_CASE("F16 round trip is within half precision: rounding, subnormals and large values") {
  StFile f;
  std::vector<float> v = {0.1f, -0.7f, 1.0f / 3.0f, 1.0f + 1.0f / 4096.0f, 60000.0f, -65504.0f, 65519.0f,
                          std::ldexp(1.0f, -24), std::ldexp(3.0f, -25), 1e-5f, -3e-7f, 1e-9f, 0.0f, -0.0f, 1234.567f};
  f.tensors.push_back({"w", {static_cast<int64_t>(v.size())}, v});
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F16, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  const std::vector<float>& r = g.tensors.at(0).data;
  REQUIRE(r.size() == v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    CHECK(r[i] == f16_to_f32(f32_to_f16(v[i])));
    // Normals: relative error <= 2^-11; subnormals: absolute error <= 2^-25.
    CHECK(std::fabs(r[i] - v[i]) <= std::max(std::fabs(v[i]) * std::ldexp(1.0f, -11), std::ldexp(1.0f, -25)));
  }
  CHECK(r[2] == 0.333251953125f);
  CHECK(r[6] == 65504.0f);
  CHECK(r[7] == std::ldexp(1.0f, -24));
  CHECK(r[8] == std::ldexp(2.0f, -24));
  CHECK(r[11] == 0.0f);
  CHECK(std::signbit(r[13]));
  // Two bytes per element after the header.
  const uint64_t n = bytes[0] | (uint64_t{bytes[1]} << 8);
  CHECK(bytes.size() == 8 + n + 2 * v.size());
}

TEST_CASE("I8 round trip with mixed dtypes in one file: each tensor keeps its dtype, values and alignment") {
  StFile f;
  f.set_meta("quant.method", "int8-symmetric-per-row");
  // f.tensors' order puts narrow tensors before wide ones, and an I8 tensor of odd length before an F32 one.
  f.tensors.push_back({"a.weight", {3, 3}, {-128.f, 127.f, 0.f, -1.f, 1.f, 5.f, -0.f, 64.f, -77.f}, DType::I8});
  f.tensors.push_back({"a.weight_scale", {3}, {0.1f, 1e-30f, 3.5f}, DType::F32});
  f.tensors.push_back({"a.bias", {3}, {0.1f, -0.7f, 1.f / 3.f}, DType::F16});
  f.tensors.push_back({"b.weight", {1, 1}, {-3.f}, DType::I8});
  f.tensors.push_back({"b.bias", {2}, {0.3f, -1e5f}, DType::BF16});
  f.tensors.push_back({"c", {2}, {std::ldexp(1.f, -24), -2.f}, DType::F16});
  f.tensors.push_back({"d", {}, {1.f / 3.f}, DType::F32});
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.metadata == f.metadata);
  REQUIRE(g.tensors.size() == f.tensors.size());
  for (const StTensor& t : f.tensors) {
    INFO(t.name);
    const StTensor* r = g.find(t.name);
    REQUIRE(r);
    CHECK(r->dtype == t.dtype);
    CHECK(r->shape == t.shape);
    REQUIRE(r->data.size() == t.data.size());
    for (size_t i = 0; i < t.data.size(); ++i) {
      const float want = t.dtype == DType::F16    ? f16_to_f32(f32_to_f16(t.data[i]))
                         : t.dtype == DType::BF16 ? bf16_to_f32(f32_to_bf16(t.data[i]))
                                                  : t.data[i];
      if (t.dtype == DType::I8) CHECK(r->data[i] == want);  // -0 is the byte 0, read as +0
      else CHECK(bits(r->data[i]) == bits(want));
    }
  }
  // The data buffer holds the wider elements first (f.tensors' order within a size), so every tensor starts at a
  // multiple of its element size: F32, then F16 and BF16, then I8.
  const std::vector<std::string> order = {"a.weight_scale", "d", "a.bias", "b.bias", "c", "a.weight", "b.weight"};
  for (size_t k = 0; k < order.size(); ++k) CHECK(g.tensors[k].name == order[k]);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  const nlohmann::json h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n), nullptr, false);
  REQUIRE(h.is_object());
  CHECK(h.at("a.weight").at("dtype") == "I8");
  CHECK(h.at("a.weight").at("data_offsets")[1].get<uint64_t>() - h.at("a.weight").at("data_offsets")[0].get<uint64_t>() == 9);
  for (const StTensor& t : f.tensors) {
    const uint64_t begin = h.at(t.name).at("data_offsets")[0].get<uint64_t>();
    CHECK(begin % (t.dtype == DType::F32 ? 4 : t.dtype == DType::I8 ? 1 : 2) == 0);
  }
  // Written back, the same bytes; st_file_dtype, the dtype for tensors added to the file, is F32 here (F16 and
  // BF16 mixed), and the float dtype when only I8 tensors and their scales differ from it.
  std::vector<uint8_t> again;
  REQUIRE(st_serialize(g, again).ok());
  CHECK(again == bytes);
  CHECK(st_file_dtype(g) == DType::F32);
  StFile q;
  q.tensors = {{"w", {1}, {3.f}, DType::I8}, {"b", {1}, {1.f}, DType::F16}, {"w_scale", {1}, {0.5f}, DType::F32}};
  CHECK(st_file_dtype(q) == DType::F16);
  q.tensors.push_back({"v_scale", {1}, {0.5f}, DType::F32});  // no I8 "v" beside it: one of the file's floats
  CHECK(st_file_dtype(q) == DType::F32);
  q.tensors.erase(q.tensors.begin() + 1, q.tensors.end());
  CHECK(st_file_dtype(q) == DType::F32);
}

TEST_CASE("with one dtype throughout, each tensor's own dtype writes what one dtype for all writes") {
  StFile f = sample_file();
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    for (StTensor& t : f.tensors) t.dtype = dt;
    std::vector<uint8_t> all, own;
    REQUIRE(st_serialize(f, dt, all).ok());
    REQUIRE(st_serialize(f, own).ok());
    CHECK(own == all);
  }
  // One dtype for all overrides the tensors' own: an I8 tensor written as F32 is its whole numbers as floats.
  f.tensors[0].dtype = DType::I8;
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(st_file_dtype(g) == DType::F32);
}

TEST_CASE("I8 is read as the signed bytes' values, and its byte count is checked as every dtype's") {
  const std::string h = R"({"q":{"dtype":"I8","shape":[2,3],"data_offsets":[0,6]}})";
  const std::vector<uint8_t> data = {0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF};
  StFile g;
  const std::vector<uint8_t> bytes = assemble(h, data);
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.tensors[0].dtype == DType::I8);
  CHECK(g.tensors[0].data == std::vector<float>{0.f, 1.f, 127.f, -128.f, -127.f, -1.f});
  CHECK(parse_message(assemble(R"({"q":{"dtype":"I8","shape":[5],"data_offsets":[0,6]}})", data)) ==
        "tensor \"q\": shape [5] of I8 needs 5 bytes but data_offsets span 6");
  CHECK(parse_message(assemble(R"({"q":{"dtype":"I8","shape":[7],"data_offsets":[0,7]}})", data)) ==
        "tensor \"q\": data_offsets end 7 is past the end of the data buffer (6 bytes)");
  // Every byte is a value: no I8 pattern is refused as non-finite.
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[size_t(i)] = uint8_t(i);
  CHECK(parse_message(assemble(R"({"q":{"dtype":"I8","shape":[16,16],"data_offsets":[0,256]}})", all)) == "ok");
}

TEST_CASE("writing I8 refuses a value that is not a whole number from -128 to 127") {
  auto msg = [](float x) {
    StFile f;
    f.tensors.push_back({"q", {3}, {1.f, 2.f, x}, DType::I8});
    std::vector<uint8_t> b;
    const Status s = st_serialize(f, b);
    return s.ok() ? std::string("ok") : s.message();
  };
  CHECK(msg(-128.f) == "ok");
  CHECK(msg(127.f) == "ok");
  CHECK(msg(-0.f) == "ok");
  CHECK(msg(0.5f) == "tensor \"q\": element 2 is 0.5, not a whole number from -128 to 127 (I8); not written");
  CHECK(msg(128.f) == "tensor \"q\": element 2 is 128, not a whole number from -128 to 127 (I8); not written");
  CHECK(msg(-129.f) == "tensor \"q\": element 2 is -129, not a whole number from -128 to 127 (I8); not written");
  CHECK(msg(1e30f) == "tensor \"q\": element 2 is 1.00000002e+30, not a whole number from -128 to 127 (I8); not written");
  CHECK(msg(std::nanf("")) == "tensor \"q\": element 2 is NaN; not written");
  // The same check with one dtype for all.
  StFile f;
  f.tensors.push_back({"w", {2}, {1.f, 2.25f}});
  std::vector<uint8_t> b;
  const Status s = st_serialize(f, DType::I8, b);
  CHECK(s.message() == "tensor \"w\": element 1 is 2.25, not a whole number from -128 to 127 (I8); not written");
}

TEST_CASE("our header is JSON with __metadata__ first, dtype/shape/data_offsets, contiguous data, 8-aligned") {
  const StFile f = sample_file();
  for (DType dt : {DType::F32, DType::F16}) {
    std::vector<uint8_t> bytes;
    REQUIRE(st_serialize(f, dt, bytes).ok());
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    CHECK((8 + n) % 8 == 0);
    const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, n);
    CHECK(header.front() == '{');
    CHECK(header.find_last_not_of(' ') == header.find_last_of('}'));
    // Read back by nlohmann/json's ordered_json, which keeps the members in file order.
    const nlohmann::ordered_json v = nlohmann::ordered_json::parse(header, nullptr, false);
    REQUIRE(v.is_object());
    REQUIRE(v.size() == f.tensors.size() + 1);
    auto it = v.begin();
    CHECK(it.key() == "__metadata__");
    CHECK(it.value().at("format") == "pt");
    const int64_t esize = dt == DType::F32 ? 4 : 2;
    int64_t offset = 0;
    for (size_t k = 0; k < f.tensors.size(); ++k) {
      ++it;
      const nlohmann::ordered_json& m = it.value();
      CHECK(it.key() == f.tensors[k].name);
      REQUIRE(m.size() == 3);
      CHECK(m.at("dtype") == (dt == DType::F32 ? "F32" : "F16"));
      const nlohmann::ordered_json& shape = m.at("shape");
      REQUIRE(shape.size() == f.tensors[k].shape.size());
      for (size_t i = 0; i < shape.size(); ++i) CHECK(shape[i].get<int64_t>() == f.tensors[k].shape[i]);
      const nlohmann::ordered_json& off = m.at("data_offsets");
      REQUIRE(off.size() == 2);
      CHECK(off[0].get<int64_t>() == offset);
      offset += esize * static_cast<int64_t>(f.tensors[k].data.size());
      CHECK(off[1].get<int64_t>() == offset);
    }
    CHECK(bytes.size() == 8 + n + static_cast<uint64_t>(offset));
  }
}

TEST_CASE("an empty file and a file without metadata round-trip") {
  StFile f;
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  CHECK(bytes.size() == 16);
  CHECK(std::string(bytes.begin() + 8, bytes.end()) == "{}      ");
  StFile g;
  g.tensors.push_back({"stale", {}, {1.f}});
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.tensors.empty());
  CHECK(g.metadata.empty());
  f.tensors.push_back({"a", {2}, {1.f, 2.f}});
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.tensors.size() == 1);
  CHECK(g.metadata.empty());
}

TEST_CASE("metadata round-trips strings with quotes, newlines and UTF-8, and set_meta replaces") {
  StFile f;
  f.set_meta("k", "old");
  f.set_meta("quote\"d", "line1\nline2 \"q\" \\ \xC3\xA9 \xF0\x9F\x98\x80");
  f.set_meta("k", "new");
  f.set_meta("empty", "");
  REQUIRE(f.metadata.size() == 3);
  CHECK(f.meta("k") == "new");
  CHECK(f.meta("absent", "dflt") == "dflt");
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.metadata == f.metadata);
}

TEST_CASE("tensors are returned in data-offset order, not header order") {
  const std::string h = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  StFile g;
  const std::vector<uint8_t> bytes = assemble(h, le_f32({1.f, 2.f}));
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  REQUIRE(g.tensors.size() == 2);
  CHECK(g.tensors[0].name == "a");
  CHECK(g.tensors[0].data[0] == 1.f);
  CHECK(g.tensors[1].name == "b");
  CHECK(g.tensors[1].data[0] == 2.f);
}

TEST_CASE("a header without padding and F16 data at an odd offset are read") {
  const std::string h = R"({"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";  // data at 8 + 55
  const std::vector<uint8_t> bytes = assemble(h, le_f16({0x3C00, 0xC000}));
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  CHECK(g.tensors[0].data == std::vector<float>{1.f, -2.f});
}

TEST_CASE("st_save writes atomically and st_load reads it back, and errors carry the path") {
  const std::string path = temp_path("vae_test_st_roundtrip.safetensors");
  std::remove(path.c_str());
  const StFile f = sample_file();
  REQUIRE(st_save(path, f, DType::F32).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  StFile g;
  REQUIRE(st_load(path, g).ok());
  CHECK(g.tensors.size() == f.tensors.size());
  CHECK(g.find("encoder.fc1.weight")->data == f.tensors[0].data);

  // A failing save (NaN) leaves the previous file intact.
  StFile bad = f;
  bad.tensors[0].data[5] = std::nanf("");
  const Status s = st_save(path, bad, DType::F32);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find(path) == 0);
  CHECK(s.message().find("element 5 is NaN") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  REQUIRE(st_load(path, g).ok());
  CHECK(g.find("encoder.fc1.weight")->data == f.tensors[0].data);

  // A malformed file: message is "<path>: <problem>".
  {
    const std::vector<uint8_t> junk = {1, 2, 3};
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    REQUIRE(fp);
    std::fwrite(junk.data(), 1, junk.size(), fp);
    std::fclose(fp);
  }
  const Status l = st_load(path, g);
  CHECK(l.message() == path + ": file is 3 bytes, shorter than the 8-byte header length");
  std::remove(path.c_str());

  const Status missing = st_load(path, g);
  CHECK(missing.message().find(path + ": cannot open") == 0);
  const std::string dir = std::filesystem::temp_directory_path().string();
  CHECK_FALSE(st_load(dir, g).ok());
  const std::string nodir = temp_path("vae_no_such_dir_xyz/m.safetensors");
  CHECK_FALSE(st_save(nodir, f, DType::F32).ok());
  CHECK_FALSE(std::filesystem::exists(nodir));
}

TEST_CASE("the writer refuses what the reader would reject") {
  auto msg = [](const StFile& f, DType dt) {
    std::vector<uint8_t> b;
    const Status s = st_serialize(f, dt, b);
    return s.ok() ? std::string("ok") : s.message();
  };
  StFile f;
  f.tensors.push_back({"w", {2}, {1.f, std::numeric_limits<float>::infinity()}});
  CHECK(msg(f, DType::F32) == "tensor \"w\": element 1 is +Inf; not written");
  f.tensors[0].data[1] = 70000.f;
  CHECK(msg(f, DType::F32) == "ok");
  CHECK(msg(f, DType::F16).find("element 1 overflows F16") != std::string::npos);
  f.tensors[0].data[1] = 65504.f;
  CHECK(msg(f, DType::F16) == "ok");
  f.tensors[0].shape = {3};
  CHECK(msg(f, DType::F32).find("has 2 values but shape [3] needs 3") != std::string::npos);
  f.tensors[0].shape = {-1, -2};
  CHECK(msg(f, DType::F32).find("negative") != std::string::npos);
  f.tensors[0].shape = {2};
  f.tensors.push_back(f.tensors[0]);
  CHECK(msg(f, DType::F32).find("duplicate tensor name") != std::string::npos);
  f.tensors[1].name = "__metadata__";
  CHECK(msg(f, DType::F32).find("reserved") != std::string::npos);
  f.tensors[1].name = "bad\xFF";
  CHECK(msg(f, DType::F32).find("UTF-8") != std::string::npos);
  f.tensors.pop_back();
  f.metadata.push_back({"a", "1"});
  f.metadata.push_back({"a", "2"});
  CHECK(msg(f, DType::F32).find("duplicate key") != std::string::npos);
}

// ---------------------------------------------------------------- malformed files

TEST_CASE("malformed: lengths of the file and the header") {
  CHECK(parse_message({}) == "file is 0 bytes, shorter than the 8-byte header length");
  CHECK(parse_message({1, 0, 0, 0, 0, 0, 0}).find("shorter") != std::string::npos);
  CHECK(parse_message(assemble("{}", {}, 3)).find("past the end of the file") != std::string::npos);
  CHECK(parse_message(assemble("{}", {}, ~uint64_t{0})).find("limit") != std::string::npos);
  CHECK(parse_message(assemble("{}", {}, 100000001)).find("over the limit") != std::string::npos);
  CHECK(parse_message(assemble("", {}, 0)).find("unexpected end of input") != std::string::npos);
}

TEST_CASE("malformed: the header is not UTF-8, not JSON, or not an object") {
  CHECK(parse_message(assemble("{\"a\xFF\":1}")).find("UTF-8") != std::string::npos);
  CHECK(parse_message(assemble("{\"a\":")).find("header JSON") != std::string::npos);
  CHECK(parse_message(assemble("{}x")).find("expected end of input") != std::string::npos);
  CHECK(parse_message(assemble("[]")) == "header is not a JSON object");
  CHECK(parse_message(assemble("\"{}\"")) == "header is not a JSON object");
  CHECK(parse_message(assemble(" {}")) == "header does not begin with '{'");
  CHECK(parse_message(assemble("{}    ")) == "ok");  // trailing space padding is allowed
  CHECK(parse_message(assemble(std::string(1000, '['))) == "header is not a JSON object");
}

TEST_CASE("malformed: tensor entries with a wrong structure") {
  CHECK(parse_message(assemble(R"({"x":1})")) == "tensor \"x\": entry is not an object");
  CHECK(parse_message(assemble(R"({"x":{"shape":[],"data_offsets":[0,4]}})")) == "tensor \"x\": missing \"dtype\"");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})")) == "tensor \"x\": missing \"shape\"");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[]}})")) == "tensor \"x\": missing \"data_offsets\"");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1}})"))
            .find("tensor \"x\": unknown key \"extra\"") == 0);
  CHECK(parse_message(assemble(R"({"x":{"dtype":5,"shape":[],"data_offsets":[0,4]}})")) ==
        "tensor \"x\": dtype is not a string");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":{},"data_offsets":[0,4]}})")) ==
        "tensor \"x\": shape is not an array");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4,8]}})", zeros(4)))
            .find("data_offsets is not an array") != std::string::npos);
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,-4]}})"))
            .find("data_offsets entries are not non-negative integers") != std::string::npos);
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4.0]}})"))
            .find("data_offsets entries") != std::string::npos);
}

TEST_CASE("malformed: unsupported and unknown dtypes are named") {
  CHECK(parse_message(assemble(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", zeros(2))) ==
        "tensor \"x\": dtype U8 not supported (F32, F16, BF16, I8)");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", zeros(8)))
            .find("dtype F64 not supported") != std::string::npos);
  CHECK(parse_message(assemble(R"({"x":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}})", zeros(4))) ==
        "tensor \"x\": unknown dtype \"Q4_K\"");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", zeros(4)))
            .find("unknown dtype") != std::string::npos);
}

TEST_CASE("malformed: shapes that are negative, not integers, or too large") {
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,4]}})", zeros(4))) ==
        "tensor \"x\": shape entry 1 is negative (-3)");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", zeros(4))) ==
        "tensor \"x\": shape entry 0 is not an integer");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":["2"],"data_offsets":[0,4]}})", zeros(4)))
            .find("not an integer") != std::string::npos);
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
                               zeros(4)))
            .find("overflows 64 bits") != std::string::npos);
  // 2^62 elements fit in 64 bits but 2^62 * 4 bytes do not.
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})",
                               zeros(4)))
            .find("overflows 64 bits") != std::string::npos);
  // A zero dimension makes the tensor empty even if the other dimensions multiply past 2^64.
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})")) ==
        "ok");
}

TEST_CASE("malformed: byte ranges that disagree with the shape or leave the data buffer") {
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", zeros(20))) ==
        "tensor \"x\": shape [2, 3] of F32 needs 24 bytes but data_offsets span 20");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", zeros(8)))
            .find("needs 4 bytes") != std::string::npos);
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", zeros(8))) ==
        "tensor \"x\": data_offsets begin 8 > end 4");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", zeros(4))) ==
        "tensor \"x\": data_offsets end 8 is past the end of the data buffer (4 bytes)");
  CHECK(parse_message(assemble(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}})",
                               zeros(4)))
            .find("past the end of the data buffer") != std::string::npos);
}

TEST_CASE("malformed: ranges that overlap, leave holes, or leave trailing bytes") {
  const std::string t1 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK(parse_message(assemble("{" + t1 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", zeros(12))) ==
        "tensors \"a\" [0, 8) and \"b\" [4, 12) overlap");
  CHECK(parse_message(assemble("{" + t1 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", zeros(8)))
            .find("overlap") != std::string::npos);
  CHECK(parse_message(assemble("{" + t1 + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", zeros(16))) ==
        "data bytes [8, 12) are not covered by any tensor (a hole)");
  CHECK(parse_message(assemble("{" + t1 + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8)))
            .find("overlap") != std::string::npos);
  CHECK(parse_message(assemble("{" + t1 + "}", zeros(10))) ==
        "data bytes [8, 10) are not covered by any tensor (trailing bytes)");
  CHECK(parse_message(assemble("{}", zeros(1))).find("not covered") != std::string::npos);
  // Empty tensors may sit at any boundary.
  CHECK(parse_message(assemble("{" + t1 + R"(,"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})", zeros(8))) ==
        "ok");
}

TEST_CASE("malformed: duplicate tensor names and bad __metadata__") {
  const std::string t = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  CHECK(parse_message(assemble("{\"x\":" + t + ",\"x\":" + t + "}", zeros(4))).find("duplicate key \"x\"") !=
        std::string::npos);
  CHECK(parse_message(assemble(R"({"__metadata__":[]})")) == "__metadata__ is not an object");
  CHECK(parse_message(assemble(R"({"__metadata__":{"a":"1","n":2}})")) ==
        "__metadata__ value for \"n\" is not a string");
  CHECK(parse_message(assemble(R"({"__metadata__":{"a":"1","a":"2"}})")).find("duplicate key") != std::string::npos);
  CHECK(parse_message(assemble(R"({"__metadata__":{}})")) == "ok");
}

TEST_CASE("malformed: NaN and infinities in the data are reported with their element index") {
  std::vector<float> v(16, 0.5f);
  v[12] = std::nanf("");
  const std::string h = R"({"x":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}})";
  CHECK(parse_message(assemble(h, le_f32(v))) == "tensor \"x\": element 12 is NaN");
  v[12] = 0.f;
  v[3] = -std::numeric_limits<float>::infinity();
  CHECK(parse_message(assemble(h, le_f32(v))) == "tensor \"x\": element 3 is -Inf");
  const std::string h16 = R"({"y":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}})";
  CHECK(parse_message(assemble(h16, le_f16({0x3C00, 0x0001, 0x7C00}))) == "tensor \"y\": element 2 is +Inf");
  CHECK(parse_message(assemble(h16, le_f16({0x7E00, 0, 0}))) == "tensor \"y\": element 0 is NaN");
}

TEST_CASE("a failed parse leaves the output untouched") {
  StFile g;
  g.set_meta("keep", "me");
  CHECK_FALSE(st_parse(nullptr, 0, g).ok());
  const std::vector<uint8_t> bad = assemble(R"({"x":1})");
  CHECK_FALSE(st_parse(bad.data(), bad.size(), g).ok());
  CHECK(g.meta("keep") == "me");
}

TEST_CASE("every truncation and single-bit flip of a valid file is handled without reading out of bounds") {
  StFile f = sample_file();
  std::vector<uint8_t> good;
  REQUIRE(st_serialize(f, DType::F16, good).ok());
  size_t accepted = 0;
  for (size_t len = 0; len < good.size(); ++len) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK(parse_message(cut) != "ok");
  }
  for (size_t i = 0; i < good.size(); ++i)
    for (int b = 0; b < 8; ++b) {
      std::vector<uint8_t> flipped = good;
      flipped[i] ^= static_cast<uint8_t>(1u << b);
      accepted += parse_message(flipped) == "ok";  // flips inside data or padding may still be valid
    }
  CHECK(accepted > 0);
}

TEST_CASE("hostile files: model_load refuses each with one line naming the file and the problem") {
  const std::string path = temp_path("vae_test_hostile.safetensors");
  {  // the file the model cases are cut from loads: each case differs from it only by its fault
    const std::vector<uint8_t> good = hostile::model_file();
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    REQUIRE(fp);
    std::fwrite(good.data(), 1, good.size(), fp);
    std::fclose(fp);
    Vae m;
    REQUIRE(model_load(path, m, nullptr).ok());
  }
  for (const hostile::File& h : hostile::files()) {
    INFO(h.what);
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    REQUIRE(fp);
    if (!h.bytes.empty()) std::fwrite(h.bytes.data(), 1, h.bytes.size(), fp);
    std::fclose(fp);
    Vae m;
    Metadata meta{{"keep", "me"}};
    Status s = Status::success();
    CHECK_NOTHROW(s = model_load(path, m, &meta));  // no allocation is tried for sizes the file cannot hold
    CHECK_FALSE(s.ok());
    CHECK(s.message().rfind(path + ": ", 0) == 0);
    CHECK_THAT(s.message(), Catch::Contains(h.problem));
    CHECK(s.message().find('\n') == std::string::npos);
    CHECK(meta.size() == 1);
  }
  std::remove(path.c_str());
}
