// PCA (vae/pca.hpp): the fit against points built on known orthogonal axes with known variances, encode/decode,
// probabilistic PCA's fill-in from a subset of pixels, sample statistics, the "pca.*" tensors through F32 and F16
// files, and each malformed PCA refused with its message.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "vae/model_io.hpp"
#include "vae/pca.hpp"
#include "vae/prng.hpp"

using namespace vae;

namespace {

using Vec = std::vector<double>;

double dot(const Vec& a, const float* b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += a[j] * b[j];
  return s;
}

// Three orthonormal axes in D = 8 by Gram-Schmidt on fixed vectors; a1's largest entry (index 1) is negative, so
// the sign convention has to flip it.
struct Axes {
  static constexpr int D = 8;
  std::vector<Vec> a;
  Vec mean = {0.5, 0.4, 0.3, 0.6, 0.5, 0.45, 0.55, 0.35};
  Axes() {
    const std::vector<Vec> w = {{0.1, -0.7, 0.1, 0.5, 0.3, -0.2, 0.0, 0.1},
                                {0.4, 0.2, -0.3, 0.1, -0.5, 0.3, 0.2, -0.1},
                                {-0.2, 0.1, 0.6, 0.2, -0.1, 0.1, -0.4, 0.3}};
    for (Vec v : w) {
      for (const Vec& u : a) {
        double p = 0;
        for (int j = 0; j < D; ++j) p += v[size_t(j)] * u[size_t(j)];
        for (int j = 0; j < D; ++j) v[size_t(j)] -= p * u[size_t(j)];
      }
      double n = 0;
      for (double x : v) n += x * x;
      for (double& x : v) x /= std::sqrt(n);
      a.push_back(v);
    }
  }
  // mean + sum_k c_k a_k
  std::vector<float> point(const Vec& c) const {
    std::vector<float> x(static_cast<size_t>(D));
    for (int j = 0; j < D; ++j) {
      double s = mean[size_t(j)];
      for (size_t k = 0; k < c.size(); ++k) s += c[k] * a[k][size_t(j)];
      x[size_t(j)] = float(s);
    }
    return x;
  }
  // The 6 points mean +- 3 a1, mean +- 2 a2, mean +- 1 a3: their mean is `mean` and their covariance (1/N) is
  // exactly 3 a1 a1^T + (4/3) a2 a2^T + (1/3) a3 a3^T, so the eigenvalues are 3, 4/3, 1/3 and five zeros.
  std::vector<float> images() const {
    std::vector<float> x;
    for (const Vec& c : std::vector<Vec>{{3, 0, 0}, {-3, 0, 0}, {0, 2, 0}, {0, -2, 0}, {0, 0, 1}, {0, 0, -1}}) {
      const std::vector<float> p = point(c);
      x.insert(x.end(), p.begin(), p.end());
    }
    return x;
  }
};

Pca fitted(int K) {
  Axes ax;
  const std::vector<float> x = ax.images();
  Pca p;
  REQUIRE(pca_fit(x.data(), 6, Axes::D, K, "six points", p).ok());
  return p;
}

Arch tiny_arch() {
  Arch a;
  a.D = 12;
  a.hidden = {8};
  a.Z = 2;
  a.image_rows = 3;
  a.image_cols = 4;
  return a;
}

// A model file (D = 12) with a PCA of 40 random images, as `vae pca` writes it.
StFile file_with_pca(Pca* pca_out = nullptr) {
  StFile f = model_to_st(vae_make(tiny_arch(), 4), {{"dataset", "mnist"}});
  std::vector<float> x;
  Pcg32 rng(7, 1);
  for (int i = 0; i < 40 * 12; ++i) x.push_back(rng.uniform());
  Pca p;
  REQUIRE(pca_fit(x.data(), 40, 12, 3, "random, 40 images", p).ok());
  pca_to_st(p, f);
  if (pca_out) *pca_out = p;
  return f;
}

StTensor* find_mut(StFile& f, const std::string& name) {
  for (StTensor& t : f.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string refusal(const StFile& f, int D = 12) {
  Pca p;
  p.source = "untouched";
  const Status s = pca_from_st(f, D, p);
  CHECK_FALSE(s.ok());
  CHECK(p.source == "untouched");  // out is replaced only on success
  CHECK(s.message().find('\n') == std::string::npos);
  return s.message();
}

}  // namespace

TEST_CASE("pca: points on known orthogonal axes give those axes, their variances and the noise variance", "[pca]") {
  Axes ax;
  const Pca p = fitted(2);
  REQUIRE(p.D == Axes::D);
  REQUIRE(p.K == 2);
  CHECK(p.source == "six points");
  for (int j = 0; j < Axes::D; ++j) CHECK(p.mean[size_t(j)] == Approx(ax.mean[size_t(j)]).margin(1e-6));
  CHECK(p.variances[0] == Approx(3.0).epsilon(1e-6));
  CHECK(p.variances[1] == Approx(4.0 / 3.0).epsilon(1e-6));
  // sigma^2: the mean of the D - K = 6 discarded eigenvalues 1/3, 0, 0, 0, 0, 0.
  CHECK(p.noise_variance == Approx(1.0 / 18.0).epsilon(1e-6));
  CHECK(pca_explained(p) == Approx((3.0 + 4.0 / 3.0) / (3.0 + 4.0 / 3.0 + 1.0 / 3.0)).epsilon(1e-6));
  // u1 = -a1 (a1's largest entry is negative), u2 = +-a2 with its largest entry positive.
  const float* u1 = p.components.data();
  const float* u2 = u1 + Axes::D;
  CHECK(dot(ax.a[0], u1) == Approx(-1.0).margin(1e-6));
  CHECK(u1[1] > 0.f);
  CHECK(std::abs(dot(ax.a[1], u2)) == Approx(1.0).margin(1e-6));
  for (const float* u : {u1, u2}) {
    int big = 0;
    for (int j = 1; j < Axes::D; ++j)
      if (std::abs(u[j]) > std::abs(u[big])) big = j;
    CHECK(u[big] > 0.f);
  }
  // Every component kept: no noise left.
  const Pca full = fitted(Axes::D);
  CHECK(full.noise_variance == 0.0);
  CHECK(full.variances[2] == Approx(1.0 / 3.0).epsilon(1e-6));
  CHECK(full.variances[3] == Approx(0.0).margin(1e-6));
  // The same images give the same PCA, bit for bit.
  const Pca again = fitted(2);
  CHECK(again.components == p.components);
  CHECK(again.variances == p.variances);
}

TEST_CASE("pca: bad fits are refused with their reason", "[pca]") {
  Axes ax;
  std::vector<float> x = ax.images();
  Pca p;
  CHECK_THAT(pca_fit(x.data(), 6, 8, 0, "", p).message(), Catch::Contains("needs 1 to 8 components, not 0"));
  CHECK_THAT(pca_fit(x.data(), 6, 8, 9, "", p).message(), Catch::Contains("needs 1 to 8 components, not 9"));
  CHECK_THAT(pca_fit(x.data(), 1, 8, 2, "", p).message(), Catch::Contains("at least 2 images, got 1"));
  x[8 + 3] = NAN;
  CHECK_THAT(pca_fit(x.data(), 6, 8, 2, "", p).message(), Catch::Contains("pixel 3 of image 1 is not finite"));
  CHECK(p.empty());
}

TEST_CASE("pca: encode gives an image's coordinates on the axes and decode puts it back", "[pca]") {
  Axes ax;
  const Pca p = fitted(2);
  const std::vector<float> x = ax.point({0.1, -0.05});
  float c[2];
  pca_encode(p, x.data(), c);
  CHECK(c[0] == Approx(-0.1).margin(1e-6));  // u1 = -a1
  CHECK(std::abs(c[1]) == Approx(0.05).margin(1e-6));
  std::vector<float> back(8), rec(8);
  pca_decode(p, c, back.data());
  for (int j = 0; j < 8; ++j) CHECK(back[size_t(j)] == Approx(x[size_t(j)]).margin(1e-6));
  // Reconstruction drops what lies off the plane (along a3).
  pca_reconstruct(p, ax.point({0.1, -0.05, 0.08}).data(), rec.data());
  for (int j = 0; j < 8; ++j) CHECK(rec[size_t(j)] == Approx(x[size_t(j)]).margin(1e-6));
  // Decoded pixels are clipped to [0, 1].
  const float far[2] = {100.f, 0.f};
  pca_decode(p, far, back.data());
  for (float v : back) CHECK((v >= 0.f && v <= 1.f));
  CHECK(back[1] == 1.f);  // u1's largest entry, positive

}

TEST_CASE("pca: fill_observed recovers an image in the span from a subset of its pixels", "[pca]") {
  Axes ax;
  const Pca p = fitted(3);  // noise variance 0 up to rounding: every image is exactly on the 3 axes
  const std::vector<float> x = ax.point({0.12, -0.07, 0.05});
  const uint8_t observed[8] = {1, 0, 1, 0, 0, 1, 1, 0};  // 4 of 8 pixels, more than K = 3
  std::vector<float> in = x;
  for (int j = 0; j < 8; ++j)
    if (!observed[j]) in[size_t(j)] = 0.9f;  // garbage where unobserved: must not be read
  std::vector<float> out(8);
  pca_fill_observed(p, in.data(), observed, out.data());
  for (int j = 0; j < 8; ++j) CHECK(out[size_t(j)] == Approx(x[size_t(j)]).margin(1e-4));

  // With sigma^2 > 0 the coefficients shrink toward 0 as the posterior mean says: K = 1 along a1, one pixel j
  // observed, c = u_j (x_j - m_j) / (u_j^2 + sigma^2 / lambda).
  Pca one = fitted(1);
  one.noise_variance = 0.5;
  const std::vector<float> y = ax.point({0.05});
  const uint8_t only3[8] = {0, 0, 0, 1, 0, 0, 0, 0};
  pca_fill_observed(one, y.data(), only3, out.data());
  const double u3 = one.components[3];
  const double c = u3 * (double(y[3]) - one.mean[3]) / (u3 * u3 + 0.5 / one.variances[0]);
  CHECK(out[3] == y[3]);  // an observed pixel keeps its value
  for (int j : {0, 1, 5})
    CHECK(out[size_t(j)] == Approx(one.mean[size_t(j)] + c * one.components[size_t(j)]).margin(1e-6));

  // Nothing observed: the mean image, with sigma^2 > 0 (a Cholesky solve) and sigma^2 = 0 (A = 0: least norm).
  for (double s2 : {1.0 / 18.0, 0.0}) {
    Pca two = fitted(2);
    two.noise_variance = s2;
    const std::vector<float> z = ax.point({0.1, 0.05, -0.1});
    std::vector<float> filled(8);
    const uint8_t none[8] = {};
    pca_fill_observed(two, z.data(), none, filled.data());
    for (int j = 0; j < 8; ++j) CHECK(filled[size_t(j)] == Approx(two.mean[size_t(j)]).margin(1e-7));
  }
}

TEST_CASE("pca: samples have the axes' variances times t^2 and depend only on the seed", "[pca]") {
  Pca p;
  p.D = 4;
  p.K = 2;
  p.mean = {0.5f, 0.5f, 0.5f, 0.25f};
  p.components = {1, 0, 0, 0, 0, 1, 0, 0};
  p.variances = {0.01f, 0.0025f};  // sd 0.1 and 0.05: clipping at 0 and 1 is 5 and 10 sd away
  const int n = 20000;
  for (float t : {1.f, 0.5f}) {
    const std::vector<float> s = pca_sample(p, n, t, 3);
    REQUIRE(s.size() == size_t(n) * 4);
    double m[4] = {}, v[4] = {};
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < 4; ++j) m[j] += s[size_t(i) * 4 + j] / double(n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < 4; ++j) v[j] += std::pow(s[size_t(i) * 4 + j] - m[j], 2) / double(n - 1);
    // The sample variance's relative sd is sqrt(2 / n) = 1%: 5% is 5 sd.
    CHECK(v[0] == Approx(0.01 * t * t).epsilon(0.05));
    CHECK(v[1] == Approx(0.0025 * t * t).epsilon(0.05));
    CHECK(m[0] == Approx(0.5).margin(5 * 0.1 * t / std::sqrt(n)));
    CHECK(m[1] == Approx(0.5).margin(5 * 0.05 * t / std::sqrt(n)));
    bool off_axes_is_mean = true;  // pixels off the axes: the mean exactly
    for (int i = 0; i < n; ++i) off_axes_is_mean &= s[size_t(i) * 4 + 2] == 0.5f && s[size_t(i) * 4 + 3] == 0.25f;
    CHECK(off_axes_is_mean);
  }
  CHECK(pca_sample(p, 10, 1.f, 3) == pca_sample(p, 10, 1.f, 3));
  CHECK(pca_sample(p, 10, 1.f, 3) != pca_sample(p, 10, 1.f, 4));
  CHECK(pca_sample(Pca(), 10, 1.f, 3).empty());
}

TEST_CASE("pca: the pca tensors survive F32 and F16 files, replace the old ones, and the model still loads", "[pca]") {
  Pca p;
  StFile f = file_with_pca(&p);
  for (DType dt : {DType::F32, DType::F16}) {
    std::vector<uint8_t> bytes;
    REQUIRE(st_serialize(f, dt, bytes).ok());
    StFile g;
    REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
    Pca q;
    const Status s = pca_from_st(g, 12, q);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(q.D == 12);
    CHECK(q.K == 3);
    CHECK(q.source == "random, 40 images");
    CHECK(q.noise_variance == Approx(p.noise_variance).epsilon(1e-8));
    auto rounded = [dt](std::vector<float> v) {
      if (dt == DType::F16)
        for (float& x : v) x = f16_to_f32(f32_to_f16(x));
      return v;
    };
    CHECK(q.mean == rounded(p.mean));
    CHECK(q.components == rounded(p.components));
    CHECK(q.variances == rounded(p.variances));
    Vae m;
    REQUIRE(model_from_st(g, m).ok());

    // Written back into a file of that dtype, the new tensors take the file's dtype (st_file_dtype).
    pca_to_st(q, g);
    CHECK(st_file_dtype(g) == dt);
    CHECK(g.find("pca.components")->dtype == dt);
  }
  // Putting a PCA in again replaces the old one; an empty PCA removes it, metadata included.
  const size_t tensors = f.tensors.size(), keys = f.metadata.size();
  pca_to_st(p, f);
  CHECK(f.tensors.size() == tensors);
  CHECK(f.metadata.size() == keys);
  pca_to_st(Pca(), f);
  CHECK(f.tensors.size() == tensors - 3);
  CHECK(f.metadata.size() == keys - 2);
  Pca none;
  none.K = 5;
  REQUIRE(pca_from_st(f, 12, none).ok());
  CHECK(none.empty());
}

TEST_CASE("pca: a model file without a PCA loads and has K == 0", "[pca]") {
  const StFile f = model_to_st(vae_make(tiny_arch(), 4), {{"dataset", "mnist"}});
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  Pca p;
  p.K = 7;
  REQUIRE(pca_from_st(g, 12, p).ok());
  CHECK(p.K == 0);
  CHECK(p.empty());
  Vae m;
  CHECK(model_from_st(g, m).ok());
}

TEST_CASE("pca: each malformed pca tensor or key is refused with its own message", "[pca]") {
  const StFile good = file_with_pca();
  {
    Pca p;
    REQUIRE(pca_from_st(good, 12, p).ok());
  }
  auto with = [&good](const std::function<void(StFile&)>& change) {
    StFile f = good;
    change(f);
    return refusal(f);
  };
  auto drop = [](StFile& f, const std::string& name) {
    f.tensors.erase(f.tensors.begin() + (find_mut(f, name) - f.tensors.data()));
  };
  CHECK(with([](StFile& f) { f.tensors.push_back({"pca.extra", {1}, {1.f}}); }) == "unexpected pca tensor \"pca.extra\"");
  CHECK(with([&](StFile& f) { drop(f, "pca.mean"); }) == "pca.mean missing");
  CHECK(with([&](StFile& f) { drop(f, "pca.components"); }) == "pca.components missing");
  CHECK(with([&](StFile& f) { drop(f, "pca.variances"); }) == "pca.variances missing");
  CHECK(with([&](StFile& f) {
          drop(f, "pca.mean");
          drop(f, "pca.components");
          drop(f, "pca.variances");
        }) == "pca.* metadata without the pca tensors");
  CHECK(with([](StFile& f) { find_mut(f, "pca.mean")->data.pop_back(); }) ==
        "pca.mean holds 11 values, its shape (12,) needs 12");
  CHECK(with([](StFile& f) { find_mut(f, "pca.variances")->data[1] = INFINITY; }) == "pca.variances[1] is not finite");
  CHECK(with([](StFile& f) {
          StTensor* t = find_mut(f, "pca.mean");
          t->shape = {11};
          t->data.pop_back();
        }) == "pca.mean has shape (11,), the model's images need (12,)");
  CHECK(with([](StFile& f) { find_mut(f, "pca.components")->shape = {36}; }) ==
        "pca.components has shape (36,), needs (K, 12) with 1 <= K <= 12");
  CHECK(with([](StFile& f) { find_mut(f, "pca.components")->shape = {4, 9}; }) ==
        "pca.components has shape (4, 9), needs (K, 12) with 1 <= K <= 12");
  CHECK(with([](StFile& f) {
          StTensor* t = find_mut(f, "pca.components");
          t->shape = {13, 12};
          t->data.resize(13 * 12, 0.f);
        }) == "pca.components has shape (13, 12), needs (K, 12) with 1 <= K <= 12");
  CHECK(with([](StFile& f) {
          StTensor* t = find_mut(f, "pca.variances");
          t->shape = {2};
          t->data.pop_back();
        }) == "pca.variances has shape (2,), pca.components (3, 12) needs (3,)");
  CHECK(with([](StFile& f) { find_mut(f, "pca.variances")->data[2] = -0.5f; }) == "pca.variances[2] = -0.5 is negative");
  CHECK(with([](StFile& f) { find_mut(f, "pca.variances")->data[1] = 100.f; }) ==
        "pca.variances are not in descending order: [0] = " +
            [&] {
              char b[32];
              std::snprintf(b, sizeof b, "%.4g", double(good.find("pca.variances")->data[0]));
              return std::string(b);
            }() +
            ", [1] = 100");
  CHECK_THAT(with([](StFile& f) {
               for (int j = 0; j < 12; ++j) find_mut(f, "pca.components")->data[size_t(12 + j)] *= 1.1f;
             }),
             Catch::Equals("pca.components row 1 has length 1.1, not 1"));
  CHECK_THAT(with([](StFile& f) {
               // row 2 := (row 2 + 0.2 row 0) / |...|: unit length, no longer orthogonal to row 0
               std::vector<float>& d = find_mut(f, "pca.components")->data;
               double n = 0;
               for (int j = 0; j < 12; ++j) {
                 d[size_t(24 + j)] += 0.2f * d[size_t(j)];
                 n += double(d[size_t(24 + j)]) * d[size_t(24 + j)];
               }
               for (int j = 0; j < 12; ++j) d[size_t(24 + j)] = float(d[size_t(24 + j)] / std::sqrt(n));
             }),
             Catch::StartsWith("pca.components rows 0 and 2 are not orthogonal: dot product 0.19"));
  CHECK(with([](StFile& f) {
          f.metadata.erase(std::remove_if(f.metadata.begin(), f.metadata.end(),
                                          [](const std::pair<std::string, std::string>& kv) {
                                            return kv.first == "pca.noise_variance";
                                          }),
                           f.metadata.end());
        }) == "pca.noise_variance missing from __metadata__");
  CHECK(with([](StFile& f) { f.set_meta("pca.noise_variance", "-1"); }) ==
        "pca.noise_variance \"-1\" is not a number >= 0");
  CHECK(with([](StFile& f) { f.set_meta("pca.noise_variance", "0.1x"); }) ==
        "pca.noise_variance \"0.1x\" is not a number >= 0");
  CHECK(with([](StFile& f) { f.set_meta("pca.noise_variance", "nan"); }) ==
        "pca.noise_variance \"nan\" is not a number >= 0");
  // A PCA for other images: the model's D decides.
  CHECK(refusal(good, 784) == "pca.mean has shape (12,), the model's images need (784,)");
}

TEST_CASE("pca: each shipped model carries PCA-K of its own 50000 training images, with the README's test MSE",
          "[pca]") {
  struct Shipped {
    const char* name;
    const char* set;
    int K;
    double test_mse;  // pca_reconstruct's per-pixel MSE on the test split, as `vae pca` and `vae compare` print
  };
  for (const Shipped& m : {Shipped{"mnist-z2", "mnist", 2, 0.0555}, Shipped{"mnist-z32", "mnist", 32, 0.0152},
                           Shipped{"fashion-z2", "fashion", 2, 0.0456}}) {
    INFO(m.name);
    StFile f;
    REQUIRE(st_load(std::string(VAE_SOURCE_DIR) + "/assets/" + m.name + ".safetensors", f).ok());
    Vae model;
    REQUIRE(model_from_st(f, model).ok());
    Pca p;
    const Status s = pca_from_st(f, 784, p);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(p.K == model.arch.Z);
    CHECK(p.K == m.K);
    CHECK(p.source == std::string(m.set) + "-train, 50000 images");
    CHECK(f.meta("train.images") == "50000");  // the trainer's first 50000; the last 10000 validate

    // Refitted here, the PCA is the stored one to F16's rounding (the sign convention makes it unique); within
    // one F16 step (2^-11 below 1) rather than bit for bit, as another CPU's Eigen kernels round differently.
    Dataset train, test;
    REQUIRE(dataset_open(m.set, "train", "", VAE_SOURCE_DIR, train).ok());
    Pca fit;
    REQUIRE(pca_fit_dataset(train, m.K, 50000, fit).ok());
    CHECK(fit.source == p.source);
    CHECK(fit.noise_variance == Approx(p.noise_variance).epsilon(1e-6));
    double worst = 0;
    for (size_t i = 0; i < fit.components.size(); ++i) worst = std::max(worst, double(std::abs(p.components[i] - fit.components[i])));
    for (size_t i = 0; i < fit.mean.size(); ++i) worst = std::max(worst, double(std::abs(p.mean[i] - fit.mean[i])));
    CHECK(worst <= 1.0 / 2048);
    for (int k = 0; k < m.K; ++k) CHECK(p.variances[size_t(k)] == Approx(fit.variances[size_t(k)]).epsilon(1e-3));

    REQUIRE(dataset_open(m.set, "test", "", VAE_SOURCE_DIR, test).ok());
    std::vector<float> rec(784);
    double se = 0;
    for (int i = 0; i < test.count; ++i) {
      pca_reconstruct(p, test.image(i), rec.data());
      for (int d = 0; d < 784; ++d) se += std::pow(double(test.image(i)[d]) - rec[size_t(d)], 2);
    }
    CHECK(se / (784.0 * test.count) == Approx(m.test_mse).margin(5e-5));
  }
}
