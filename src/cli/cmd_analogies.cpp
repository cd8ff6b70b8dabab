// `vae analogies`: test digits each redrawn as every label by a label-conditioned model (Kingma, Rezende, Mohamed
// & Welling 2014, Fig. 1): the style code z is the posterior mean of q(z|x, y) for the digit's own label (or the
// classifier's guess), decoded with each label in turn. One PNG sheet: the test digit, then labels 0 .. C-1.
#include <algorithm>
#include <cstdio>

#include "common.hpp"
#include "vae/cvae.hpp"
#include "vae/infer.hpp"
#include "vae/model_io.hpp"

namespace cli {

namespace {

int run_analogies(Args& a) {
  const int n = int(a.integer("n", 1, 100));
  const int first = int(a.integer("first", 0, 1 << 30));
  const bool predicted = a.has("predicted");
  const std::string out = out_path("analogies", a, "out", {"model"});
  const std::string path = a.str("model");
  vae::StFile f;
  vae::Cvae m;
  Status s = vae::st_load(path, f);
  if (s) s = vae::cvae_from_st(f, m);
  if (!s) die("analogies", s.with_context(path));
  vae::Dataset ds = load_data("analogies", a, "test");
  const int D = m.net.arch.D;
  if (ds.pixels() != D)
    die("analogies", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                                   std::to_string(D)));
  if (first + n > ds.count)
    a.fail("first", "a first image from 0 to " + std::to_string(ds.count - n) + " (" + std::to_string(ds.count) +
                        " test images, " + std::to_string(n) + " asked for)");
  const vae::CvaeInfer packed = vae::infer_make_conditional(m);
  vae::InferScratch scratch;
  const float* X = ds.image(first);
  std::vector<int> y(ds.labels.begin() + first, ds.labels.begin() + first + n);
  if (predicted) {
    std::vector<float> probs(size_t(m.C) * size_t(n));
    vae::infer_classify(packed, X, n, probs.data(), scratch);
    for (int i = 0; i < n; ++i)
      y[size_t(i)] = int(std::max_element(probs.begin() + i * m.C, probs.begin() + (i + 1) * m.C) -
                         (probs.begin() + i * m.C));
  }
  for (int i = 0; i < n; ++i)
    if (y[size_t(i)] >= m.C)
      die("analogies", Status::error(ds.name + " image " + std::to_string(first + i) + " has label " +
                                     std::to_string(y[size_t(i)]) + ", the model knows labels 0-" + std::to_string(m.C - 1)));
  std::vector<float> drawn(size_t(n) * size_t(m.C) * size_t(D));
  vae::infer_analogies(packed, X, y.data(), n, drawn.data(), scratch);

  TileSheet sheet(n, m.C + 1, m.net.arch.image_rows, m.net.arch.image_cols, 2);
  for (int i = 0; i < n; ++i) {
    sheet.put(i, 0, ds.image(first + i));
    for (int t = 0; t < m.C; ++t) sheet.put(i, t + 1, drawn.data() + (size_t(i) * m.C + size_t(t)) * D);
  }
  write_png("analogies", out, sheet);
  std::printf("wrote %s: %d test digits from #%d (left), each redrawn as labels 0-%d with its style read with %s\n",
              out.c_str(), n, first, m.C - 1, predicted ? "the classifier's label" : "its own label");
  return 0;
}

}  // namespace

Command command_analogies() {
  return {"analogies", "Test digits redrawn as every label by a label-conditioned model (vae train --conditional).",
          {kModel, kData, kDataDir, kRoot,
           {"n", "N", "10", "test digits, one per row"},
           {"first", "I", "0", "the first test image"},
           {"predicted", nullptr, nullptr, "read the style with the classifier's label instead of the true one"},
           {"out", "PATH", "analogies.png", "the PNG sheet"}},
          run_analogies};
}

}  // namespace cli
