// libFuzzer target: bytes as a safetensors header's JSON (depth limit, escapes, UTF-8, duplicate keys).
#include <cstddef>
#include <cstdint>

#include "vae/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vae::JsonValue v;
  (void)vae::json_parse(reinterpret_cast<const char*>(data), size, v);
  return 0;
}
