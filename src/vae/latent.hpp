// Latent-space geometry shared by the CLI and the studio: grid coordinates (Kingma & Welling 2013, Fig. 4),
// the Gaussian's inverse CDF, and interpolation between codes. Pure functions; no model here.
#pragma once
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

}  // namespace vae
