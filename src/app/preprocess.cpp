// MNIST-style size normalisation and centring by mass, and the plain 28x28 downscale, for canvas images.
// Pure functions on grey images; see preprocess.hpp for the steps and the coordinate conventions.
#include "app/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace app {

namespace {

constexpr int N = kMnistSide;

// Source values clamped to [0, 1]; NaN reads as 0.
float ink(float v) { return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; }

struct SourceStats {
  bool any = false;                   // some pixel above the threshold
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // bounding box of those pixels, pixel edges (x1, y1 exclusive)
  double mass = 0, cx = 0, cy = 0;    // total ink and centre of mass in pixel-edge units (all pixels)
};

SourceStats source_stats(const float* src, int w, int h, float threshold) {
  SourceStats st;
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  double mx = 0, my = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float v = ink(src[size_t(y) * size_t(w) + size_t(x)]);
      if (v > threshold) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
      st.mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (x1 < 0 || !(st.mass > 0)) return st;
  st.any = true;
  st.x0 = x0, st.y0 = y0, st.x1 = x1 + 1, st.y1 = y1 + 1;
  st.cx = mx / st.mass, st.cy = my / st.mass;
  return st;
}

// One axis of the area-average resample for the map E = a x + b (a > 0) from source pixel edges x to output
// pixel edges E. Output pixel I covers [I, I+1), i.e. source [(I - b) / a, (I + 1 - b) / a); weight(I, x) is
// the length of that interval's overlap with source pixel [x, x+1).
struct AxisWeights {
  int first[N] = {};              // first source pixel with a weight, per output pixel
  std::vector<float> weights[N];  // consecutive from first
};

void axis_weights(int n_src, double a, double b, AxisWeights& aw) {
  for (int i = 0; i < N; ++i) {
    const double lo = (i - b) / a, hi = (i + 1 - b) / a;
    const int x_first = std::max(0, int(std::floor(lo)));
    const int x_last = std::min(n_src - 1, int(std::ceil(hi)) - 1);
    aw.first[i] = x_first;
    aw.weights[i].clear();
    for (int x = x_first; x <= x_last; ++x) {
      aw.weights[i].push_back(float(std::max(0.0, std::min(hi, x + 1.0) - std::max(lo, double(x)))));
    }
  }
}

// out(J, I) = ax ay sum_{y, x} src(y, x) wx(I, x) wy(J, y): the mean of the source over the footprint (of
// area 1 / (ax ay) source pixels) of output pixel (I, J); outside the source counts as no ink.
void resample_area(const float* src, int w, int h, double ax, double bx, double ay, double by,
                   std::vector<float>& out) {
  AxisWeights wx, wy;
  axis_weights(w, ax, bx, wx);
  axis_weights(h, ay, by, wy);
  std::vector<float> rows(size_t(h) * N, 0.0f);  // (h, N): each source row resampled across
  for (int y = 0; y < h; ++y) {
    const float* row = src + size_t(y) * size_t(w);
    for (int i = 0; i < N; ++i) {
      float acc = 0.0f;
      for (size_t k = 0; k < wx.weights[i].size(); ++k) acc += wx.weights[i][k] * ink(row[wx.first[i] + int(k)]);
      rows[size_t(y) * N + size_t(i)] = acc;
    }
  }
  out.assign(size_t(N) * N, 0.0f);
  const float norm = float(ax * ay);
  for (int j = 0; j < N; ++j) {
    for (size_t k = 0; k < wy.weights[j].size(); ++k) {
      const float wgt = wy.weights[j][k] * norm;
      const float* r = rows.data() + size_t(wy.first[j] + int(k)) * N;
      for (int i = 0; i < N; ++i) out[size_t(j) * N + size_t(i)] += wgt * r[i];
    }
  }
  for (float& v : out) v = std::clamp(v, 0.0f, 1.0f);
}

// Centre of mass of a 28x28 image in pixel-index units; false when it has no mass.
bool output_center_of_mass(const std::vector<float>& img, double& cx, double& cy) {
  double m = 0, mx = 0, my = 0;
  for (int j = 0; j < N; ++j) {
    for (int i = 0; i < N; ++i) {
      const double v = img[size_t(j) * N + size_t(i)];
      m += v, mx += v * i, my += v * j;
    }
  }
  if (!(m > 0)) return false;
  cx = mx / m, cy = my / m;
  return true;
}

// The start both preprocessings share: false (r stays the empty result) for bad input or no ink; otherwise
// the source's statistics, r marked non-empty and given the ink's bounding box.
bool start_result(const float* src, int w, int h, const PreprocessOptions& opt, SourceStats& st, PreprocessResult& r) {
  if (src == nullptr || w < 1 || h < 1) return false;
  st = source_stats(src, w, h, opt.ink_threshold);
  if (!st.any) return false;
  r.empty = false;
  r.bbox[0] = float(st.x0), r.bbox[1] = float(st.y0), r.bbox[2] = float(st.x1), r.bbox[3] = float(st.y1);
  return true;
}

}  // namespace

PreprocessResult preprocess_mnist(const float* src, int w, int h, const PreprocessOptions& opt) {
  PreprocessResult r;
  SourceStats st;
  if (!start_result(src, w, h, opt, st, r)) return r;

  const double bw = st.x1 - st.x0, bh = st.y1 - st.y0;
  const double min_box = std::max(0.0f, opt.min_box_fraction) * double(std::max(w, h));
  const double s = kMnistBox / std::max({bw, bh, min_box});
  r.scale = float(s);

  // Box centred in the field (pixel edges): E = s (x - x0) + 14 - s bw / 2; index units are E - 1/2.
  const double half = 0.5 * N;
  r.center_of_mass[0] = float(s * (st.cx - st.x0) + half - 0.5 * s * bw - 0.5);
  r.center_of_mass[1] = float(s * (st.cy - st.y0) + half - 0.5 * s * bh - 0.5);

  // Mass to the centre (pixel edges): E = s (x - cx) + 14.5 + corr, i.e. index X = s (x - cx) + 14 + corr;
  // corr starts at 0 and absorbs the measured offset of the resampled image.
  double corr_x = 0, corr_y = 0, best = HUGE_VAL;
  std::vector<float> img;
  for (int iter = 0; iter < 4; ++iter) {
    resample_area(src, w, h, s, half + 0.5 + corr_x - s * st.cx, s, half + 0.5 + corr_y - s * st.cy, img);
    double mx = 0, my = 0;
    if (!output_center_of_mass(img, mx, my)) break;
    const double ex = mx - half, ey = my - half;
    const double err = std::max(std::abs(ex), std::abs(ey));
    if (err < best) best = err, r.image = img;
    if (err < 1e-3) break;
    corr_x -= ex, corr_y -= ey;
  }
  return r;
}

PreprocessResult preprocess_plain(const float* src, int w, int h, const PreprocessOptions& opt) {
  PreprocessResult r;
  SourceStats st;
  if (!start_result(src, w, h, opt, st, r)) return r;
  r.scale = float(N) / float(w);
  resample_area(src, w, h, double(N) / w, 0.0, double(N) / h, 0.0, r.image);
  double mx = 0, my = 0;
  if (output_center_of_mass(r.image, mx, my)) r.center_of_mass[0] = float(mx), r.center_of_mass[1] = float(my);
  return r;
}

}  // namespace app
