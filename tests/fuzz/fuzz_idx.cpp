// libFuzzer target: bytes as an IDX file, plain or gzip (so it drives our DEFLATE decoder too).
#include <cstddef>
#include <cstdint>

#include "vae/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vae::IdxArray a;
  (void)vae::idx_parse(data, size, a);
  return 0;
}
