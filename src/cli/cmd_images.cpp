// `vae sample`, `vae grid`, `vae reconstruct`: decoder outputs as PNG sheets, decoded with the packed kernel
// (infer.hpp) as the studio does. The codes come from latent.hpp; no model code here.
#include <algorithm>
#include <cstdio>

#include "common.hpp"
#include "vae/infer.hpp"
#include "vae/latent.hpp"

namespace cli {

namespace {

// Decodes codes (Z, rows * cols), column-major, into a rows x cols sheet, filled row by row.
void decode_sheet(const vae::Vae& m, const std::vector<float>& codes, int rows, int cols, const std::string& out,
                  const char* cmd) {
  const vae::VaeInfer p = vae::infer_make(m);
  const int count = rows * cols, D = m.arch.D;
  std::vector<float> probs(size_t(D) * size_t(count));  // (D, count) column-major
  vae::InferScratch scratch;
  vae::infer_decode(p, codes.data(), count, probs.data(), scratch);
  TileSheet sheet(rows, cols, m.arch.image_rows, m.arch.image_cols, 0);
  for (int i = 0; i < count; ++i) sheet.put(i / cols, i % cols, probs.data() + size_t(i) * size_t(D));
  write_png(cmd, out, sheet);
}

int run_sample(Args& a) {
  const int n = int(a.integer("n", 1, 100));
  const float t = float(a.real("temperature", 0.0, 10.0));
  const uint64_t seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  const std::string out = out_path("sample", a, "out", {"model"});
  std::string label;
  vae::Vae m = load_model_or_label("sample", a, nullptr, label);
  // (n*n, Z) row-major is (Z, n*n) column-major: code i is sheet cell i.
  const std::vector<float> zs = vae::prior_codes(m.arch.Z, n * n, t, seed);
  if (!label.empty()) std::printf("every sample drawn as %s (one style code per cell, from the prior)\n", label.c_str());
  decode_sheet(m, zs, n, n, out, "sample");
  return 0;
}

int run_grid(Args& a) {
  const int n = int(a.integer("n", 2, 100));
  const auto spacing = a.choice("spacing", {"icdf", "linear"}) == "icdf" ? vae::GridSpacing::InverseCdf
                                                                         : vae::GridSpacing::Linear;
  const float range = float(a.real("range", 0.01, 100.0));
  std::vector<int> dims;
  if (!vae::parse_int_list(a.str("dims"), 0, 4095, dims) || dims.size() != 2 || dims[0] == dims[1])
    a.fail("dims", "two different latent dimensions, such as 0,1");
  const std::string out = out_path("grid", a, "out", {"model"});
  std::string label;
  vae::Vae m = load_model_or_label("grid", a, nullptr, label);
  const int Z = m.arch.Z;
  if (std::max(dims[0], dims[1]) >= Z)
    a.fail("dims", "two different latent dimensions below " + std::to_string(Z) + ", such as 0,1");
  const std::vector<float> axis = vae::grid_axis(n, spacing, range);
  std::vector<float> zs(size_t(Z) * size_t(n * n), 0.f);  // (Z, n*n) column-major
  // Row r from the top has the largest second coordinate, as in a plot with y up.
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      float* z = zs.data() + size_t(r * n + c) * size_t(Z);
      z[dims[0]] = axis[size_t(c)];
      z[dims[1]] = axis[size_t(n - 1 - r)];
    }
  if (Z != 2) std::printf("note: %d-D latent; other dimensions are 0 (the prior's mean)\n", Z);
  if (!label.empty()) std::printf("the style plane of %s: every cell drawn as it\n", label.c_str());
  decode_sheet(m, zs, n, n, out, "grid");
  return 0;
}

int run_reconstruct(Args& a) {
  const std::string split = a.choice("split", {"test", "train"});
  a.choice("data", {"mnist", "fashion"});
  a.integer("n", 1, 1000);
  const std::string out = out_path("reconstruct", a, "out", {"model"});
  vae::Vae m = load_model("reconstruct", a.str("model"));
  vae::Dataset ds = load_data("reconstruct", a, split);
  if (ds.pixels() != m.arch.D)
    die("reconstruct", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                                     std::to_string(m.arch.D)));
  const int n = std::min(ds.count, int(a.integer("n", 1, 1000)));
  const int first = int(a.integer("first", 0, ds.count - 1));
  const int count = std::min(n, ds.count - first);
  const int D = m.arch.D, Z = m.arch.Z;
  const float* X = ds.image(first);  // (D, count) column-major: the images are consecutive
  const vae::VaeInfer p = vae::infer_make(m);
  vae::InferScratch scratch;
  std::vector<float> mu(size_t(Z) * size_t(count)), logvar(mu.size()), probs(size_t(D) * size_t(count));
  vae::infer_encode(p, X, count, mu.data(), logvar.data(), scratch);
  vae::infer_decode(p, mu.data(), count, probs.data(), scratch);
  const int cols = std::min(count, 16), rows = (count + cols - 1) / cols;
  TileSheet sheet(rows * 2, cols, m.arch.image_rows, m.arch.image_cols, 1);
  for (int i = 0; i < count; ++i) {
    sheet.put((i / cols) * 2, i % cols, X + size_t(i) * size_t(D));
    sheet.put((i / cols) * 2 + 1, i % cols, probs.data() + size_t(i) * size_t(D));
  }
  write_png("reconstruct", out, sheet);
  std::printf("rows alternate: test image, then its reconstruction (decoder mean at the posterior mean)\n");
  return 0;
}

}  // namespace

Command command_sample() {
  return {"sample", "Decode samples from the prior N(0, t^2 I) into an N x N PNG sheet.",
          {kModel, kLabel, {"n", "N", "10", "sheet is N x N"}, {"temperature", "T", "1", "prior standard deviation"}, kSeed,
           {"out", "PATH", "samples.png", "PNG file"}},
          run_sample};
}

Command command_grid() {
  return {"grid", "The latent manifold (Kingma & Welling 2013, Fig. 4) as an N x N PNG.",
          {kModel, kLabel, {"n", "N", "20", "grid is N x N"}, {"spacing", "KIND", "icdf", "icdf (Gaussian inverse CDF) or linear"},
           {"range", "R", "3", "linear spacing spans -R..R"}, {"dims", "I,J", "0,1", "the two latent dimensions to vary"},
           {"out", "PATH", "grid.png", "PNG file"}},
          run_grid};
}

Command command_reconstruct() {
  return {"reconstruct", "Test images beside their reconstructions, as a PNG.",
          {kModel, kData, kDataDir, kRoot, {"split", "NAME", "test", "test or train"}, {"n", "N", "32", "images"},
           {"first", "I", "0", "index of the first image"}, {"out", "PATH", "reconstruct.png", "PNG file"}},
          run_reconstruct};
}

}  // namespace cli
