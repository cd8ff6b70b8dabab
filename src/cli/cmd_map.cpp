// `vae map`: the studio's latent map (latent_map.hpp) computed on the test split and written into the model file,
// keeping its dtype and every other tensor and metadata entry. The map's computation is the engine's.
#include <cstdio>

#include "common.hpp"
#include "vae/latent_map.hpp"

namespace cli {

namespace {

int run_map(Args& a) {
  a.require("model", "the weights file to add the map to");
  const int n = int(a.integer("n", 1, 100000000));
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("map", s);
  // A label-conditioned model's map is of its style codes, each read with the image's own label.
  const bool conditional = !f.meta(vae::kMetaClasses, "").empty();
  vae::Cvae c;
  vae::Vae m;
  if (conditional) {
    if (!(s = vae::cvae_from_st(f, c))) die("map", s.with_context(path));
    m.arch = c.net.arch;
  } else if (!(s = vae::model_from_st(f, m))) {
    die("map", s.with_context(path));
  }
  // The data set defaults to the one the model was trained on.
  const std::string set = a.has("data") ? a.choice("data", {"mnist", "fashion"}) : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("map", Status::error(path + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  vae::Dataset ds;
  if (!(s = vae::dataset_open(set, "test", a.str("data-dir"), a.str("root"), ds))) die("map", s);
  vae::LatentMap map;
  if (!(s = conditional ? vae::latent_map_compute_conditional(c, ds, n, map) : vae::latent_map_compute(m, ds, n, map)))
    die("map", s);
  const vae::DType dtype = vae::st_file_dtype(f);
  vae::latent_map_to_st(map, f);
  if (!(s = vae::st_save(path, f))) die("map", s);  // every tensor in its dtype: I8 weights stay I8
  std::printf("wrote the latent map into %s (%s): %d points, ", path.c_str(), vae::dtype_name(dtype), map.count());
  if (map.kind == "pca")
    std::printf("pca of the %d-D means, explained variance %.3f + %.3f = %.3f\n", m.arch.Z, map.explained[0],
                map.explained[1], map.explained[0] + map.explained[1]);
  else
    std::printf("latent (the 2-D means themselves)\n");
  std::printf("source: %s\n", map.source.c_str());
  return 0;
}

}  // namespace

Command command_map() {
  return {"map", "The studio's latent map (test-set posterior means; PCA plane for Z > 2), written into the model file.",
          {{"model", "PATH", nullptr, "weights file to add the map to, rewritten in place (required)"},
           {"data", "NAME", nullptr, "data set: mnist or fashion (default: the model's \"dataset\" metadata)"},
           kDataDir, kRoot, {"n", "N", "10000", "map the first N test images"}},
          run_map};
}

}  // namespace cli
