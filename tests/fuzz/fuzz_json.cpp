// libFuzzer target: bytes as a safetensors header's JSON, read by nlohmann/json's SAX parser into our header
// grammar (st_parse with the length prefix made to fit): duplicate names, nesting, escapes, UTF-8, numbers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vae/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(8 + size);
  for (int i = 0; i < 8; ++i) file[size_t(i)] = uint8_t(uint64_t(size) >> (8 * i));
  std::copy(data, data + size, file.begin() + 8);
  vae::StFile f;
  (void)vae::st_parse(file.data(), file.size(), f);
  return 0;
}
