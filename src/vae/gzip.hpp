// gzip (RFC 1952) decoding by zlib, natively; the browser build has no zlib and refuses gzip data.
// Decompression only, whole buffer in memory; not a streaming API and not an encoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vae/status.hpp"

namespace vae {

// True when the data starts with the gzip magic bytes 1f 8b.
bool gzip_is_gzip(const uint8_t* data, size_t size);

// Decodes every gzip member of data into out (replacing its contents). zlib checks the header flags
// (FEXTRA, FNAME, FCOMMENT, FHCRC, reserved bits), each member's CRC-32 and ISIZE; zero bytes after the last
// member are allowed (tape padding), anything else is an error. The output never grows past max_output bytes:
// a stream that would is an error at that point. On error out holds a partial result.
Status gzip_inflate(const uint8_t* data, size_t size, std::vector<uint8_t>& out, size_t max_output);

}  // namespace vae
