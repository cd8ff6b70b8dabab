// Central differences in double precision against a hand-written backward pass, one tensor at a time (the model
// tests of the plain and the conditional VAE).
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>

#include "vae/model.hpp"

// The worst relative error over every element of `slot` between (loss(p + h) - loss(p - h)) / 2h and grads;
// params is restored as it was.
inline double grad_check_worst(vae::Buffer<double>& params, const vae::TensorSlot& slot,
                               const vae::Buffer<double>& grads, const std::function<double()>& loss) {
  const double h = 1e-6;
  double worst = 0;
  for (size_t i = 0; i < slot.size(); ++i) {
    const size_t k = slot.offset + i;
    const double keep = params[k];
    params[k] = keep + h;
    const double up = loss();
    params[k] = keep - h;
    const double down = loss();
    params[k] = keep;
    const double numeric = (up - down) / (2.0 * h);
    worst = std::max(worst, std::fabs(numeric - grads[k]) / std::max(1e-3, std::fabs(numeric) + std::fabs(grads[k])));
  }
  return worst;
}
