// `vae compare`: PCA-K against VAE-K on each model's own test split, one table: reconstruction BCE, MSE and PSNR.
// The VAE decodes its posterior mean with the packed kernel (infer.hpp), as the studio does; the PCA is the one
// `vae pca` stored in the model file. Not an evaluation of the ELBO (that is `vae eval`).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common.hpp"
#include "vae/infer.hpp"
#include "vae/pca.hpp"

namespace cli {

namespace {

constexpr int kBatch = 1000;
constexpr double kClamp = 1e-6;  // PCA's pixels as Bernoulli probabilities: clamped to [1e-6, 1 - 1e-6]

// Sums over the images of one method: BCE (nats per image), squared error and per-image PSNR.
struct Recon {
  double bce = 0, se = 0, psnr = 0;
  int images = 0, pixels = 0;
  void add_image(double bce_i, double se_i, int D) {
    bce += bce_i;
    se += se_i;
    // An exact reconstruction would be infinite PSNR; an MSE floor of 1e-10 caps it at 100 dB.
    psnr += 10.0 * std::log10(1.0 / std::max(se_i / D, 1e-10));
    ++images;
    pixels = D;
  }
  double mse() const { return se / (double(images) * pixels); }
};

// x, p: one image's pixels and probabilities; BCE against the grey x.
void add_pca_image(const float* x, const float* p, int D, Recon& r) {
  double bce = 0, se = 0;
  for (int d = 0; d < D; ++d) {
    const double q = std::min(1.0 - kClamp, std::max(kClamp, double(p[d])));
    bce -= double(x[d]) * std::log(q) + (1.0 - double(x[d])) * std::log(1.0 - q);
    se += std::pow(double(x[d]) - double(p[d]), 2);
  }
  r.add_image(bce, se, D);
}

// VAE: BCE from the logits l, -log p(x|z) = sum_d max(l, 0) - x l + log1p(exp(-|l|)) (the model's reconstruction
// term, exact where sigmoid(l) rounds to 0 or 1); squared error against sigmoid(l).
void add_vae_image(const float* x, const float* l, int D, Recon& r) {
  double bce = 0, se = 0;
  for (int d = 0; d < D; ++d) {
    const double v = l[d];
    bce += std::max(v, 0.0) - double(x[d]) * v + std::log1p(std::exp(-std::abs(v)));
    se += std::pow(double(x[d]) - 1.0 / (1.0 + std::exp(-v)), 2);
  }
  r.add_image(bce, se, D);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

int run_compare(Args& a) {
  const std::vector<std::string> paths = split_list(a.str("models"));
  for (const std::string& p : paths)
    if (p.empty()) a.fail("models", "a comma-separated list of model files");
  const int n = int(a.integer("n", 1, 100000000));

  struct Row {
    std::string path, data;
    int K = 0, images = 0;
    Recon pca, vae;
  };
  std::vector<Row> rows;
  for (const std::string& path : paths) {
    vae::StFile f;
    vae::Pca pca;
    const vae::Vae m = load_model_and_pca("compare", path, f, pca);
    if (pca.empty())
      die("compare", Status::error(path + " has no PCA to compare with: run `vae pca --model " + path + "` first"));
    const std::string set = f.meta("dataset", "mnist");
    if (set != "mnist" && set != "fashion")
      die("compare", Status::error(path + ": trained on \"" + set + "\", not mnist or fashion"));
    vae::Dataset ds;
    if (const Status s = vae::dataset_open(set, "test", "", a.str("root"), ds); !s) die("compare", s);
    if (ds.pixels() != m.arch.D)
      die("compare", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, " + path +
                                       " takes " + std::to_string(m.arch.D)));
    Row row{path, ds.name, m.arch.Z, std::min(n, ds.count), {}, {}};
    const int D = m.arch.D, Z = m.arch.Z;
    const vae::VaeInfer packed = vae::infer_make(m);
    vae::InferScratch scratch;
    std::vector<float> mu(size_t(kBatch) * Z), logvar(size_t(kBatch) * Z), logits(size_t(kBatch) * D),
        rec(static_cast<size_t>(D));
    for (int b0 = 0; b0 < row.images; b0 += kBatch) {
      const int b = std::min(kBatch, row.images - b0);
      // (D, b) column-major in and out: image after image, as the data set stores them.
      vae::infer_encode(packed, ds.image(b0), b, mu.data(), logvar.data(), scratch);
      vae::infer_decode(packed, mu.data(), b, logits.data(), scratch, true);
      for (int i = 0; i < b; ++i) {
        const float* x = ds.image(b0 + i);
        add_vae_image(x, logits.data() + size_t(i) * D, D, row.vae);
        vae::pca_reconstruct(pca, x, rec.data());
        add_pca_image(x, rec.data(), D, row.pca);
      }
    }
    rows.push_back(std::move(row));
  }

  std::printf("Test-set reconstruction against the grey images. BCE: nats per image (PCA's pixels clamped to\n"
              "[1e-6, 1-1e-6]; VAE: decoder at z = mu). MSE: per pixel. PSNR: 10 log10(1 / MSE) of the mean MSE,\n"
              "and the mean of each image's PSNR.\n\n");
  size_t w = 5;
  for (const Row& r : rows) w = std::max(w, r.path.size());
  std::printf("%-*s  %-12s %6s  %-7s %9s %8s %10s %12s\n", int(w), "model", "test set", "images", "method", "BCE",
              "MSE", "PSNR (dB)", "image PSNR");
  for (const Row& r : rows)
    for (int k = 0; k < 2; ++k) {
      const Recon& c = k == 0 ? r.pca : r.vae;
      const std::string method = (k == 0 ? "PCA-" : "VAE-") + std::to_string(r.K);
      std::printf("%-*s  %-12s %6d  %-7s %9.2f %8.4f %10.2f %12.2f\n", int(w), k == 0 ? r.path.c_str() : "",
                  k == 0 ? r.data.c_str() : "", r.images, method.c_str(), c.bce / c.images, c.mse(),
                  10.0 * std::log10(1.0 / c.mse()), c.psnr / c.images);
    }
  return 0;
}

}  // namespace

Command command_compare() {
  return {"compare", "PCA-K vs VAE-K test-set reconstruction (BCE, MSE, PSNR) for each model (run `vae pca` first).",
          {{"models", "LIST", "assets/mnist-z2.safetensors,assets/mnist-z32.safetensors,assets/fashion-z2.safetensors",
            "comma-separated model files, each with its PCA; each is tested on its \"dataset\" metadata's test split"},
           kRoot, {"n", "N", "10000", "the first N test images of each"}},
          run_compare};
}

}  // namespace cli
