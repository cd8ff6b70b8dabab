// n values drawn uniformly from [lo, hi): the kernels' tests' weights and inputs.
#pragma once
#include <cstddef>
#include <vector>

#include "vae/prng.hpp"

inline std::vector<float> uniform(size_t n, vae::Pcg32& rng, float lo, float hi) {
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}
