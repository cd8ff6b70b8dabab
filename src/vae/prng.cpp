// PCG32 (pcg-random.org, "PCG XSH RR 64/32") and the samplers built on it.
#include "vae/prng.hpp"

#include <cmath>

namespace vae {

Pcg32::Pcg32(uint64_t seed, uint64_t stream) : inc_((stream << 1u) | 1u) {
  next_u32();
  state_ += seed;
  next_u32();
}

uint32_t Pcg32::next_u32() {
  const uint64_t old = state_;
  state_ = old * 6364136223846793005ULL + inc_;
  const uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  const uint32_t rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float Pcg32::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

uint32_t Pcg32::below(uint32_t n) {
  // Lemire's rejection: accept r unless it falls in the short top range that would bias r % n.
  const uint32_t threshold = (0u - n) % n;
  for (;;) {
    const uint32_t r = next_u32();
    if (r >= threshold) return r % n;
  }
}

float Pcg32::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  // Marsaglia polar: (u, v) uniform in the unit disc, s = u^2 + v^2, then u*sqrt(-2 ln s / s) and
  // v*sqrt(-2 ln s / s) are independent N(0, 1). sqrt is correctly rounded by IEEE 754; ln is ours.
  double u, v, s;
  do {
    u = 2.0 * (static_cast<double>(next_u32()) + 0.5) / 4294967296.0 - 1.0;
    v = 2.0 * (static_cast<double>(next_u32()) + 0.5) / 4294967296.0 - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * prng_log(s) / s);
  spare_ = static_cast<float>(v * f);
  have_spare_ = true;
  return static_cast<float>(u * f);
}

double prng_log(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| <= 0.1716,
  // so the odd series t + t^3/3 + t^5/5 + ... reaches double precision within 14 terms.
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double t = (m - 1.0) / (m + 1.0);
  const double t2 = t * t;
  double term = t, sum = 0.0;
  for (int k = 1; k <= 29; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2.0 * sum + e * 0.69314718055994530942;
}

uint64_t prng_mix(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace vae
