// gzip files (RFC 1952), one member after another, inflated by zlib into one buffer with a size cap. The browser
// build has no zlib and never reads IDX files: there every gzip file is refused with that reason.
#include "vae/gzip.hpp"

#include <algorithm>
#include <climits>
#include <string>

#ifdef VAE_HAVE_ZLIB
#include <zlib.h>
#endif

namespace vae {

bool gzip_is_gzip(const uint8_t* data, size_t size) {
  return data != nullptr && size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

#ifndef VAE_HAVE_ZLIB

Status gzip_inflate(const uint8_t* data, size_t size, std::vector<uint8_t>& out, size_t) {
  out.clear();
  if (!gzip_is_gzip(data, size)) return Status::error("gzip: not gzip data (no 1f 8b magic)");
  return Status::error("gzip: this build has no zlib (the browser build reads no .gz files); gunzip it first");
}

#else

namespace {

// zlib's inflate state, ended on every path out.
struct Inflater {
  z_stream zs{};
  bool ok = inflateInit2(&zs, 15 + 16) == Z_OK;  // 15: the largest window; +16: gzip wrapper only
  ~Inflater() {
    if (ok) inflateEnd(&zs);
  }
};

}  // namespace

Status gzip_inflate(const uint8_t* data, size_t size, std::vector<uint8_t>& out, size_t max_output) {
  out.clear();
  if (!gzip_is_gzip(data, size)) return Status::error("gzip: not gzip data (no 1f 8b magic)");
  if (size > UINT_MAX) return Status::error("gzip: " + std::to_string(size) + " bytes is more than zlib takes at once");
  Inflater in;
  if (!in.ok) return Status::error("gzip: zlib could not start (out of memory)");
  z_stream& zs = in.zs;
  zs.next_in = const_cast<Bytef*>(data);  // zlib's API is not const-correct; it only reads the input
  zs.avail_in = uInt(size);
  uint8_t chunk[1 << 16];
  for (int member = 1;; ++member) {
    const std::string where = "gzip member " + std::to_string(member) + ": ";
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      zs.next_out = chunk;
      zs.avail_out = sizeof chunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      const size_t got = sizeof chunk - zs.avail_out;
      if (got > max_output - out.size())
        return Status::error(where + "inflates to more than the " + std::to_string(max_output) + "-byte limit");
      if (got > out.capacity() - out.size())  // grow by doubling, never past the cap
        out.reserve(std::min(max_output, std::max(out.size() + got, 2 * out.capacity())));
      out.insert(out.end(), chunk, chunk + got);
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
        return Status::error(where + (zs.msg ? zs.msg : "damaged data") + " (zlib, near input byte " +
                             std::to_string(size - zs.avail_in) + ")");
      if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && got < sizeof chunk))
        return Status::error(where + "unexpected end of input (the file is cut short)");
    }
    // After a member: another member, or zero bytes (tape padding), or the end.
    const uint8_t* rest = zs.next_in;
    const size_t left = zs.avail_in;
    if (gzip_is_gzip(rest, left)) {
      if (inflateReset(&zs) != Z_OK) return Status::error(where + "zlib could not restart");
      continue;
    }
    if (std::any_of(rest, rest + left, [](uint8_t b) { return b != 0; }))
      return Status::error("gzip: " + std::to_string(left) + " bytes of trailing garbage after member " +
                           std::to_string(member));
    return Status::success();
  }
}

#endif

}  // namespace vae
