// libFuzzer target: bytes as a model file. st_parse must accept or refuse without touching memory it does not
// own; what it accepts goes on through the model and latent-map checks the studio runs on a downloaded file.
#include <cstddef>
#include <cstdint>

#include "vae/latent_map.hpp"
#include "vae/model_io.hpp"
#include "vae/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vae::StFile f;
  if (!vae::st_parse(data, size, f)) return 0;
  vae::Vae m;
  if (!vae::model_from_st(f, m)) return 0;
  vae::LatentMap map;
  (void)vae::latent_map_from_st(f, m.arch.Z, map);
  return 0;
}
