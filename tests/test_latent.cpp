// Latent-space geometry: grid coordinates (linear and by the Gaussian's inverse CDF) and interpolation.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "vae/latent.hpp"

using namespace vae;

TEST_CASE("linear grid coordinates run evenly from -range to range") {
  const std::vector<float> a = grid_axis(5, GridSpacing::Linear, 2.f);
  CHECK(a == std::vector<float>{-2.f, -1.f, 0.f, 1.f, 2.f});
  CHECK(grid_axis(1, GridSpacing::Linear, 3.f) == std::vector<float>{0.f});
}

TEST_CASE("inverse-CDF grid coordinates give every cell equal prior mass") {
  const int n = 20;
  const std::vector<float> a = grid_axis(n, GridSpacing::InverseCdf, 3.f);
  REQUIRE(a.size() == size_t(n));
  for (int i = 0; i < n; ++i) {
    CHECK(normal_cdf(a[size_t(i)]) == Approx((i + 0.5) / n).margin(1e-6));  // cell centres at equal quantiles
    CHECK(a[size_t(i)] == Approx(-a[size_t(n - 1 - i)]).margin(1e-6));       // symmetric about 0
  }
  CHECK(std::is_sorted(a.begin(), a.end()));
}

TEST_CASE("the inverse normal CDF matches known quantiles") {
  CHECK(normal_icdf(0.5) == Approx(0.0).margin(1e-12));
  CHECK(normal_icdf(0.975) == Approx(1.959963984540054).epsilon(1e-10));
  CHECK(normal_icdf(0.001) == Approx(-3.090232306167813).epsilon(1e-10));
  CHECK(normal_icdf(1e-10) == Approx(-6.361340902404056).epsilon(1e-9));
  CHECK(std::isinf(normal_icdf(0.0)));
  CHECK(std::isinf(normal_icdf(1.0)));
}

TEST_CASE("linear and spherical interpolation start at a and end at b") {
  const std::vector<float> a = {1.f, 0.f, 0.f}, b = {0.f, 2.f, 0.f};
  for (auto f : {lerp, slerp}) {
    const std::vector<float> s = f(a, b, 0.f), e = f(a, b, 1.f);
    for (int i = 0; i < 3; ++i) {
      CHECK(s[size_t(i)] == Approx(a[size_t(i)]).margin(1e-6));
      CHECK(e[size_t(i)] == Approx(b[size_t(i)]).margin(1e-6));
    }
  }
  const std::vector<float> m = lerp(a, b, 0.5f);
  CHECK(m == std::vector<float>{0.5f, 1.f, 0.f});
  // Slerp between orthogonal vectors of norms 1 and 2 sweeps the quarter circle: at t = 1/2 it is at 45 degrees.
  const std::vector<float> s = slerp(a, b, 0.5f);
  CHECK(s[0] / s[1] == Approx(0.5).epsilon(1e-5));  // direction (1, 1) scaled by the weights sin(pi/4)/sin(pi/2)
  CHECK(std::atan2(s[1] / 2.f, s[0]) == Approx(M_PI / 4).epsilon(1e-5));
  // Nearly parallel codes fall back to linear interpolation instead of dividing by sin(0).
  const std::vector<float> p = slerp(a, {2.f, 0.f, 0.f}, 0.5f);
  CHECK(p[0] == Approx(1.5f));
}
