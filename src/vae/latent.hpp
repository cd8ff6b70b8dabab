// Latent-space geometry shared by the CLI and the studio: grid coordinates (Kingma & Welling 2013, Fig. 4),
// the Gaussian's inverse CDF, interpolation between codes and draws from the prior. Pure functions; no model here.
#pragma once
#include <cstdint>
#include <vector>

namespace vae {

enum class GridSpacing { Linear, InverseCdf };

// n coordinates along one axis, increasing. Linear: evenly from -range to range. InverseCdf: Phi^-1 of the
// evenly spaced probabilities (i + 1/2) / n, so each cell covers equal prior mass (range is unused).
std::vector<float> grid_axis(int n, GridSpacing spacing, float range);

// Phi^-1(p) for p in (0, 1): Acklam's rational approximation refined by one Halley step (|error| < 1e-9).
double normal_icdf(double p);
// Phi(x) = (1 + erf(x / sqrt 2)) / 2.
double normal_cdf(double x);

// Linear interpolation (1 - t) a + t b, and spherical interpolation along the great circle between a and b
// (Shoemake 1985; White 2016 for latent spaces), falling back to linear when a and b are nearly parallel.
std::vector<float> lerp(const std::vector<float>& a, const std::vector<float>& b, float t);
std::vector<float> slerp(const std::vector<float>& a, const std::vector<float>& b, float t);

// The PRNG stream of prior samples (Pcg32(seed, kPriorStream)), so that `vae sample` and the studio's sample
// panel draw the same codes for the same seed.
constexpr uint64_t kPriorStream = 0x5a;
// count codes from the prior N(0, t^2 I): (count, Z) row-major, i.e. (Z, count) column-major, one normal
// draw per value in memory order.
std::vector<float> prior_codes(int Z, int count, float temperature, uint64_t seed);

}  // namespace vae
