// The small architectures the model tests build by hand: D inputs in one row, the given hidden sizes, Z latents.
#pragma once
#include <utility>
#include <vector>

#include "vae/model.hpp"

inline vae::Arch tiny_arch(int D, std::vector<int> hidden, int Z) {
  vae::Arch a;
  a.D = D;
  a.hidden = std::move(hidden);
  a.Z = Z;
  a.image_rows = 1;
  a.image_cols = D;
  return a;
}
