// Grid coordinates, the normal CDF and its inverse, interpolation, and prior samples.
#include "vae/latent.hpp"

#include <algorithm>
#include <cmath>

#include "vae/prng.hpp"

namespace vae {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_icdf(double p) {
  if (!(p > 0.0)) return -INFINITY;
  if (!(p < 1.0)) return INFINITY;
  // P. J. Acklam's coefficients (2003), central region and tails.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  double x;
  if (p < lo || p > 1.0 - lo) {
    const double q = std::sqrt(-2.0 * std::log(p < lo ? p : 1.0 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    if (p > lo) x = -x;
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  }
  // One Halley step on Phi(x) - p = 0.
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2.0 * 3.14159265358979323846) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

std::vector<float> grid_axis(int n, GridSpacing spacing, float range) {
  std::vector<float> v(size_t(std::max(n, 0)));
  for (int i = 0; i < n; ++i) {
    if (spacing == GridSpacing::InverseCdf)
      v[size_t(i)] = float(normal_icdf((i + 0.5) / n));
    else
      v[size_t(i)] = n == 1 ? 0.f : -range + 2.f * range * float(i) / float(n - 1);
  }
  return v;
}

std::vector<float> lerp(const std::vector<float>& a, const std::vector<float>& b, float t) {
  std::vector<float> r(a.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) r[i] = (1.f - t) * a[i] + t * b[i];
  return r;
}

std::vector<float> slerp(const std::vector<float>& a, const std::vector<float>& b, float t) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  if (aa == 0.0 || bb == 0.0) return lerp(a, b, t);
  const double cos_omega = std::max(-1.0, std::min(1.0, ab / std::sqrt(aa * bb)));
  const double omega = std::acos(cos_omega);
  if (std::sin(omega) < 1e-4) return lerp(a, b, t);
  const double wa = std::sin((1.0 - t) * omega) / std::sin(omega), wb = std::sin(t * omega) / std::sin(omega);
  std::vector<float> r(a.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) r[i] = float(wa * a[i] + wb * b[i]);
  return r;
}

std::vector<float> prior_codes(int Z, int count, float temperature, uint64_t seed) {
  Pcg32 rng(seed, kPriorStream);
  std::vector<float> z(size_t(std::max(Z, 0)) * size_t(std::max(count, 0)));
  for (float& v : z) v = temperature * rng.normal();
  return z;
}

}  // namespace vae
