// libFuzzer target: bytes as a share link's drawing (what the page hands app_open_share from its URL fragment).
// share_decode must refuse or accept without touching memory it does not own; an accepted drawing is then
// rasterised, as the studio does, and encoded again, which must decode to the same strokes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/share.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  app::Drawing d;
  std::string model;
  if (!app::share_decode(std::string(reinterpret_cast<const char*>(data), size), d, model)) return 0;
  std::vector<float> raster;
  app::drawing_rasterize(d, 28, raster);
  app::Drawing again;
  std::string model_again;
  if (!app::share_decode(app::share_encode(d, model), again, model_again) || model_again != model ||
      again.strokes.size() != d.strokes.size())
    __builtin_trap();
  return 0;
}
