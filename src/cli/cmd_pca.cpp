// `vae pca`: the PCA baseline (pca.hpp) with as many components as the model has latent dimensions, fitted to
// the model's own training images and written into the model file, keeping its dtype and every other tensor and
// metadata entry. The fit is the engine's; this prints what it kept and its test-set reconstruction error.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common.hpp"
#include "vae/pca.hpp"

namespace cli {

namespace {

// Mean per-pixel squared error over a data set's images of pca_reconstruct (clipped to [0, 1], as shipped) and
// of the plain projection mean + U^T U (x - mean) (unclipped, the usual definition of PCA's error).
void pca_test_mse(const vae::Pca& p, const vae::Dataset& ds, double& clipped, double& unclipped) {
  std::vector<float> c(size_t(p.K));
  double sc = 0, su = 0;
  for (int i = 0; i < ds.count; ++i) {
    const float* x = ds.image(i);
    vae::pca_encode(p, x, c.data());
    for (int d = 0; d < p.D; ++d) {
      double r = p.mean[size_t(d)];
      for (int k = 0; k < p.K; ++k) r += double(c[size_t(k)]) * double(p.components[size_t(k) * p.D + d]);
      su += std::pow(double(x[d]) - r, 2);
      sc += std::pow(double(x[d]) - std::min(1.0, std::max(0.0, r)), 2);
    }
  }
  clipped = sc / (double(ds.count) * double(p.D));
  unclipped = su / (double(ds.count) * double(p.D));
}

int run_pca(Args& a) {
  a.require("model", "the weights file to add the PCA to");
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  if (a.has("n")) a.integer("n", 2, 100000000);
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("pca", s);
  vae::Vae m;
  if (!(s = vae::model_from_st(f, m))) die("pca", s.with_context(path));
  // The data set defaults to the one the model was trained on, and the images to the ones it was trained on:
  // the trainer keeps the last train.images..count for validation, so the first train.images images.
  const std::string set = a.has("data") ? a.choice("data", {"mnist", "fashion"}) : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("pca", Status::error(path + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  long long n = 100000000;
  if (a.has("n"))
    n = a.integer("n", 2, 100000000);
  else if (!f.meta("train.images").empty() && !vae::parse_int(f.meta("train.images"), 2, 100000000, n))
    die("pca", Status::error(path + ": metadata train.images \"" + f.meta("train.images") +
                                 "\" is not a count; pass --n N"));
  vae::Dataset train, test;
  if (!(s = vae::dataset_open(set, "train", a.str("data-dir"), a.str("root"), train))) die("pca", s);
  // Both splits are read before the file is touched: a missing test split must not leave it rewritten.
  if (!(s = vae::dataset_open(set, "test", a.str("data-dir"), a.str("root"), test))) die("pca", s);
  for (const vae::Dataset* ds : {&train, &test})
    if (ds->pixels() != m.arch.D)
      die("pca", Status::error(ds->name + " images have " + std::to_string(ds->pixels()) + " pixels, " + path +
                                   " takes " + std::to_string(m.arch.D)));
  vae::Pca p;
  if (!(s = vae::pca_fit_dataset(train, m.arch.Z, int(n), p))) die("pca", s);
  const vae::DType dtype = vae::st_file_dtype(f);
  vae::pca_to_st(p, f);
  if (!(s = vae::st_save(path, f))) die("pca", s);  // every tensor in its dtype: I8 weights stay I8

  // The figures are those of the PCA as stored (an F16 file rounds it), read back from the file just written.
  vae::StFile g;
  vae::Pca stored;
  if (!(s = vae::st_load(path, g))) die("pca", s);
  if (!(s = vae::pca_from_st(g, m.arch.D, stored))) die("pca", s.with_context(path));
  std::printf("wrote PCA-%d into %s (%s): fitted to %s\n", p.K, path.c_str(), vae::dtype_name(dtype),
              p.source.c_str());
  std::printf("explained variance %.4f of the training images' total; top axes", vae::pca_explained(stored));
  double total = 0;
  for (float v : stored.variances) total += v;
  total += double(stored.D - stored.K) * stored.noise_variance;
  for (int k = 0; k < std::min(stored.K, 4); ++k) std::printf(" %.4f", stored.variances[size_t(k)] / total);
  std::printf("%s; noise variance %.3g per pixel\n", stored.K > 4 ? " ..." : "", stored.noise_variance);
  double clipped = 0, unclipped = 0;
  pca_test_mse(stored, test, clipped, unclipped);
  std::printf("%s reconstruction MSE per pixel: %.4f clipped to [0, 1] (vae compare's), %.4f unclipped (%d images)\n",
              test.name.c_str(), clipped, unclipped, test.count);
  return 0;
}

}  // namespace

Command command_pca() {
  return {"pca", "The PCA baseline (K = the model's latent size) fitted to its training images, written into the model file.",
          {{"model", "PATH", nullptr, "weights file to add the PCA to, rewritten in place (required)"},
           {"data", "NAME", nullptr, "data set: mnist or fashion (default: the model's \"dataset\" metadata)"},
           kDataDir, kRoot,
           {"n", "N", nullptr, "fit to the first N training images (default: the model's train.images, else all)"}},
          run_pca};
}

}  // namespace cli
