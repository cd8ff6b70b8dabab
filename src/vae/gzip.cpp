// gzip member parsing (RFC 1952) and a DEFLATE decoder (RFC 1951): canonical Huffman codes decoded with a 10-bit
// lookup table and a bit-at-a-time walk for longer codes. Not zlib: no streaming, no encoder, no zlib/raw wrappers.
#include "vae/gzip.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace vae {
namespace {

std::string hex(uint32_t v, int digits) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%0*X", digits, unsigned(v));
  return s;
}

// CRC-32 of RFC 1952 §8: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.
// Slicing-by-4 (four table lookups per 4 input bytes); t[0] alone is the classic byte-wise table.
struct Crc32Tables {
  uint32_t t[4][256];
  constexpr Crc32Tables() : t() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; ++n)
      for (int k = 1; k < 4; ++k) t[k][n] = t[0][t[k - 1][n] & 0xFF] ^ (t[k - 1][n] >> 8);
  }
};
constexpr Crc32Tables kCrc;

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (; n >= 4; n -= 4, p += 4) {
    c ^= uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    c = kCrc.t[3][c & 0xFF] ^ kCrc.t[2][(c >> 8) & 0xFF] ^ kCrc.t[1][(c >> 16) & 0xFF] ^ kCrc.t[0][c >> 24];
  }
  for (; n > 0; --n, ++p) c = kCrc.t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t le32(const uint8_t* p) { return le16(p) | le16(p + 2) << 16; }

constexpr unsigned kMaxBits = 15;   // longest code (RFC 1951 §3.2.7)
constexpr unsigned kFastBits = 10;  // codes up to this long decode with one table lookup
constexpr int kMaxSymbols = 288;    // fixed literal/length alphabet, the largest

// Base lengths and distances with their extra bits (RFC 1951 §3.2.5), indexed by symbol - 257 and distance code.
constexpr uint16_t kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                   31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Order in which a dynamic block sends the code length code's lengths (RFC 1951 §3.2.7).
constexpr uint8_t kClOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// A canonical Huffman code (RFC 1951 §3.2.2). Codes are sent most significant bit first, so the fast table is
// indexed by the next kFastBits input bits, bit-reversed code: entry = (length << 9) | symbol, 0 = not there.
struct Huffman {
  const char* name = "";
  uint16_t fast[1u << kFastBits];
  uint16_t count[kMaxBits + 1];  // number of codes of each length
  uint16_t symbol[kMaxSymbols];  // symbols in canonical order: by length, then by value
};

// Builds h from n code lengths (0 = unused). Over-subscribed sets are always wrong; an incomplete set is allowed
// only where zlib allows it: no codes at all, or a single code of length 1, and never for the code length code.
std::string huffman_build(Huffman& h, const char* name, const uint8_t* lengths, int n, bool must_be_complete) {
  h.name = name;
  for (uint16_t& c : h.count) c = 0;
  for (int s = 0; s < n; ++s) h.count[lengths[s]]++;
  const int used = n - h.count[0];
  int left = 1;  // codes still free at the current length
  for (unsigned len = 1; len <= kMaxBits; ++len) {
    left = 2 * left - h.count[len];
    if (left < 0) return std::string("over-subscribed ") + name + " code lengths";
  }
  if (left > 0 && (must_be_complete || used > 1 || (used == 1 && h.count[1] != 1)))
    return std::string("incomplete ") + name + " code lengths";

  uint16_t offset[kMaxBits + 2] = {0, 0};
  for (unsigned len = 1; len <= kMaxBits; ++len) offset[len + 1] = uint16_t(offset[len] + h.count[len]);
  for (int s = 0; s < n; ++s)
    if (lengths[s]) h.symbol[offset[lengths[s]]++] = uint16_t(s);

  for (uint16_t& e : h.fast) e = 0;
  unsigned code = 0, index = 0;
  for (unsigned len = 1; len <= kFastBits; ++len, code <<= 1) {
    for (unsigned k = 0; k < h.count[len]; ++k, ++code) {
      unsigned rev = 0;
      for (unsigned b = 0; b < len; ++b) rev |= ((code >> b) & 1u) << (len - 1 - b);
      const uint16_t entry = uint16_t(len << 9 | h.symbol[index++]);
      for (unsigned i = rev; i < (1u << kFastBits); i += 1u << len) h.fast[i] = entry;
    }
  }
  return {};
}

// One DEFLATE stream read from in[pos, size), appended to out. Every read is bounds-checked: the bit buffer only
// ever holds real input bits (zeros above them), and a code that needs more bits than remain is an error.
class Inflater {
 public:
  // out.size() is the output so far; size_hint (<= max_output) is how much to allocate up front.
  Inflater(const uint8_t* in, size_t size, size_t pos, std::vector<uint8_t>& out, size_t max_output, size_t size_hint)
      : in_(in), size_(size), pos_(pos), out_(out), max_(max_output), start_(out.size()), n_(out.size()) {
    if (size_hint > n_) grow_to(size_hint);
  }
  ~Inflater() { out_.resize(n_); }

  std::string error;

  bool inflate() {
    uint32_t last = 0, type = 0;
    do {
      if (!get(1, last) || !get(2, type)) return false;
      const bool ok = type == 0 ? stored() : type == 1 ? fixed() : type == 2 ? dynamic() : fail("invalid block type 3");
      if (!ok) return false;
    } while (!last);
    align();
    return true;
  }

  // Input position: the byte after the stream once inflate() returned true, roughly where it failed otherwise.
  size_t position() const { return pos_ - cnt_ / 8; }

 private:
  bool fail(std::string m) {
    error = std::move(m);
    return false;
  }

  void refill() {
    while (cnt_ <= 56 && pos_ < size_) {
      buf_ |= uint64_t(in_[pos_++]) << cnt_;
      cnt_ += 8;
    }
  }

  bool get(unsigned n, uint32_t& v) {  // n <= 16, least significant bit first (RFC 1951 §3.1.1)
    if (cnt_ < n) {
      refill();
      if (cnt_ < n) return fail("unexpected end of input");
    }
    v = uint32_t(buf_ & ((uint64_t(1) << n) - 1));
    buf_ >>= n;
    cnt_ -= n;
    return true;
  }

  // Drops the bits up to the next byte boundary and gives back the whole bytes still in the buffer.
  void align() {
    pos_ -= cnt_ / 8;
    buf_ = 0;
    cnt_ = 0;
  }

  // Returns the next symbol of h, or -1 with error set.
  int decode(const Huffman& h) {
    if (cnt_ < kMaxBits) refill();
    const unsigned e = h.fast[buf_ & ((1u << kFastBits) - 1)];
    if (e != 0) {
      const unsigned len = e >> 9;
      if (len > cnt_) {
        fail("unexpected end of input");
        return -1;
      }
      buf_ >>= len;
      cnt_ -= len;
      return int(e & 511);
    }
    // Longer (or invalid) code: extend it one bit at a time; first is the first code of length len.
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= kMaxBits; ++len) {
      if (len > cnt_) {
        fail("unexpected end of input");
        return -1;
      }
      code |= int((buf_ >> (len - 1)) & 1);
      const int count = h.count[len];
      if (code - first < count) {
        buf_ >>= len;
        cnt_ -= len;
        return h.symbol[index + code - first];
      }
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    fail(std::string("invalid ") + h.name + " code");
    return -1;
  }

  // Makes space for n more output bytes: out_ is the buffer, n_ the bytes written; it grows by doubling, capped.
  bool room(size_t n) {
    if (n > max_ - n_) return fail("output would exceed the limit of " + std::to_string(max_) + " bytes");
    if (n > out_.size() - n_) {
      const size_t grown = out_.size() < max_ / 2 ? 2 * out_.size() : max_;
      grow_to(std::max({n_ + n, grown, std::min<size_t>(max_, 1 << 16)}));
    }
    return true;
  }

  void grow_to(size_t size) {  // reserve first: resize alone may round the capacity up past max_
    out_.reserve(size);
    out_.resize(size);
  }

  // Stored block (RFC 1951 §3.2.4): LEN, NLEN = ~LEN, then LEN raw bytes from the next byte boundary.
  bool stored() {
    align();
    if (size_ - pos_ < 4) return fail("unexpected end of input in a stored block header");
    const uint32_t len = le16(in_ + pos_), nlen = le16(in_ + pos_ + 2);
    if (len != (~nlen & 0xFFFF))
      return fail("stored block length " + hex(len, 4) + " does not match its complement " + hex(nlen, 4));
    pos_ += 4;
    if (size_ - pos_ < len) return fail("stored block of " + std::to_string(len) + " bytes runs past the end of input");
    if (!room(len)) return false;
    std::copy(in_ + pos_, in_ + pos_ + len, out_.begin() + ptrdiff_t(n_));
    pos_ += len;
    n_ += len;
    return true;
  }

  // Fixed codes (RFC 1951 §3.2.6). All 32 distance codes get length 5 so the set is complete; 30 and 31 never
  // occur in valid data and are rejected when decoded, as are literal/length symbols 286 and 287.
  bool fixed() {
    uint8_t lengths[kMaxSymbols];
    for (int s = 0; s < kMaxSymbols; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    Huffman lit, dist;
    huffman_build(lit, "literal/length", lengths, kMaxSymbols, true);
    for (int s = 0; s < 32; ++s) lengths[s] = 5;
    huffman_build(dist, "distance", lengths, 32, true);
    return codes(lit, dist);
  }

  // Dynamic codes (RFC 1951 §3.2.7): counts, the code length code, then the run-length coded code lengths.
  bool dynamic() {
    uint32_t hlit = 0, hdist = 0, hclen = 0;
    if (!get(5, hlit) || !get(5, hdist) || !get(4, hclen)) return false;
    const int nlen = int(hlit) + 257, ndist = int(hdist) + 1, ncl = int(hclen) + 4;
    if (nlen > 286) return fail("dynamic block declares " + std::to_string(nlen) + " literal/length codes, at most 286");
    if (ndist > 30) return fail("dynamic block declares " + std::to_string(ndist) + " distance codes, at most 30");

    uint8_t lengths[286 + 30] = {};
    for (int i = 0; i < ncl; ++i) {
      uint32_t v = 0;
      if (!get(3, v)) return false;
      lengths[kClOrder[i]] = uint8_t(v);
    }
    Huffman cl, lit, dist;
    std::string e = huffman_build(cl, "code length", lengths, 19, true);
    if (!e.empty()) return fail(e);

    for (int i = 0; i < nlen + ndist;) {
      const int sym = decode(cl);
      if (sym < 0) return false;
      if (sym < 16) {
        lengths[i++] = uint8_t(sym);
        continue;
      }
      uint8_t value = 0;
      uint32_t repeat = 0;
      if (sym == 16) {
        if (i == 0) return fail("code length repeat (16) with no previous length");
        value = lengths[i - 1];
        if (!get(2, repeat)) return false;
        repeat += 3;
      } else if (sym == 17) {
        if (!get(3, repeat)) return false;
        repeat += 3;
      } else {
        if (!get(7, repeat)) return false;
        repeat += 11;
      }
      if (int(repeat) > nlen + ndist - i)
        return fail("code length repeat runs past the " + std::to_string(nlen + ndist) + " declared lengths");
      while (repeat--) lengths[i++] = value;
    }
    if (lengths[256] == 0) return fail("dynamic block has no end-of-block code");

    if (!(e = huffman_build(lit, "literal/length", lengths, nlen, false)).empty()) return fail(e);
    if (!(e = huffman_build(dist, "distance", lengths + nlen, ndist, false)).empty()) return fail(e);
    return codes(lit, dist);
  }

  // Literals and <length, distance> back-references until end-of-block (RFC 1951 §3.2.5).
  bool codes(const Huffman& lit, const Huffman& dist) {
    for (;;) {
      int sym = decode(lit);
      if (sym < 0) return false;
      if (sym < 256) {
        if (n_ == out_.size() && !room(1)) return false;
        out_[n_++] = uint8_t(sym);
        continue;
      }
      if (sym == 256) return true;
      sym -= 257;
      if (sym >= 29) return fail("invalid literal/length symbol " + std::to_string(sym + 257));
      uint32_t extra = 0;
      if (!get(kLenExtra[sym], extra)) return false;
      const size_t len = kLenBase[sym] + extra;

      const int d = decode(dist);
      if (d < 0) return false;
      if (d >= 30) return fail("invalid distance symbol " + std::to_string(d));
      if (!get(kDistExtra[d], extra)) return false;
      const size_t distance = kDistBase[d] + extra;
      const size_t written = n_ - start_;
      if (distance > written)
        return fail("distance " + std::to_string(distance) + " too far back, only " + std::to_string(written) +
                    " bytes written");
      if (!room(len)) return false;

      uint8_t* to = out_.data() + n_;
      const uint8_t* from = to - distance;
      for (size_t i = 0; i < len; ++i) to[i] = from[i];  // byte by byte: source and copy may overlap
      n_ += len;
    }
  }

  const uint8_t* in_;
  size_t size_, pos_;
  std::vector<uint8_t>& out_;
  size_t max_, start_;  // start_: where this stream's output begins; distances may not reach before it
  size_t n_;            // output bytes written; out_ may be longer (allocated ahead)
  uint64_t buf_ = 0;    // bit buffer, next bit in bit 0
  unsigned cnt_ = 0;    // valid bits in buf_
};

// Skips a zero-terminated header field (FNAME, FCOMMENT) at pos.
bool skip_zstring(const uint8_t* data, size_t size, size_t& pos) {
  while (pos < size)
    if (data[pos++] == 0) return true;
  return false;
}

}  // namespace

bool gzip_is_gzip(const uint8_t* data, size_t size) {
  return size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

Status gzip_inflate(const uint8_t* data, size_t size, std::vector<uint8_t>& out, size_t max_output) {
  out.clear();
  if (!gzip_is_gzip(data, size)) return Status::error("gzip: not gzip data (no 1f 8b magic)");
  // The last member's ISIZE is a good first allocation for a single-member file; it is only a hint, believed only
  // within max_output and DEFLATE's largest expansion (258 bytes from 2 bits, i.e. 1032:1).
  const uint32_t isize = size >= 18 ? le32(data + size - 4) : 0;
  size_t hint = isize <= max_output && isize / 1032 <= size ? isize : 0;
  size_t pos = 0;
  for (int member = 1;; ++member) {
    // Member header (RFC 1952 §2.3): ID1 ID2 CM FLG MTIME(4) XFL OS [XLEN extra] [name\0] [comment\0] [CRC16].
    const std::string where = member == 1 ? "gzip: " : "gzip member " + std::to_string(member) + ": ";
    const size_t head = pos;
    if (size - pos < 10) return Status::error(where + "truncated header");
    if (data[pos + 2] != 8)
      return Status::error(where + "compression method " + std::to_string(data[pos + 2]) + ", expected 8 (deflate)");
    const uint8_t flags = data[pos + 3];
    if (flags & 0xE0) return Status::error(where + "reserved header flag bits set (FLG " + hex(flags, 2) + ")");
    pos += 10;
    if (flags & 0x04) {  // FEXTRA
      if (size - pos < 2) return Status::error(where + "truncated header (extra field length)");
      const size_t xlen = le16(data + pos);
      pos += 2;
      if (size - pos < xlen) return Status::error(where + "truncated header (extra field of " + std::to_string(xlen) + " bytes)");
      pos += xlen;
    }
    if ((flags & 0x08) && !skip_zstring(data, size, pos)) return Status::error(where + "truncated header (file name)");
    if ((flags & 0x10) && !skip_zstring(data, size, pos)) return Status::error(where + "truncated header (comment)");
    if (flags & 0x02) {  // FHCRC: low 16 bits of the CRC-32 of the header bytes before it
      if (size - pos < 2) return Status::error(where + "truncated header (header CRC)");
      const uint32_t want = le16(data + pos), got = crc32(data + head, pos - head) & 0xFFFF;
      if (want != got) return Status::error(where + "header CRC mismatch: header says " + hex(want, 4) + ", header bytes give " + hex(got, 4));
      pos += 2;
    }

    const size_t out_start = out.size();
    {
      Inflater inflater(data, size, pos, out, max_output, hint);
      const bool ok = inflater.inflate();
      pos = inflater.position();
      if (!ok) return Status::error(where + inflater.error + " (near input byte " + std::to_string(pos) + ")");
    }
    hint = 0;

    // Trailer (RFC 1952 §2.3.1): CRC-32 of the uncompressed data, then its size mod 2^32, both little-endian.
    if (size - pos < 8) return Status::error(where + "truncated trailer: CRC-32 and size missing");
    const size_t n = out.size() - out_start;
    const uint32_t want_crc = le32(data + pos), got_crc = crc32(out.data() + out_start, n);
    if (want_crc != got_crc)
      return Status::error(where + "CRC-32 mismatch: trailer says " + hex(want_crc, 8) + ", data gives " + hex(got_crc, 8));
    const uint32_t want_size = le32(data + pos + 4);
    if (want_size != uint32_t(n))
      return Status::error(where + "size mismatch: trailer says " + std::to_string(want_size) + " bytes (mod 2^32), data has " + std::to_string(n));
    pos += 8;

    if (pos == size) return Status::success();
    if (gzip_is_gzip(data + pos, size - pos)) continue;
    for (size_t i = pos; i < size; ++i)
      if (data[i] != 0)
        return Status::error("gzip: " + std::to_string(size - pos) + " bytes of trailing garbage after member " + std::to_string(member));
    return Status::success();
  }
}

}  // namespace vae
