// The evaluation figures a model file carries in its metadata, with one writer and one parser per format: the
// CLI's `vae eval` writes them, the studio reads them. Strings in, strings out; no evaluation here (train.hpp).
#pragma once
#include <string>
#include <vector>

#include "vae/model_io.hpp"

namespace vae {

// "<split>.nll_percentiles": -log p(x) of a split's images at percentiles 0, 1, ..., 100 (nearest rank over the
// sorted values), 101 numbers "%.2f" joined by commas, so the studio can place a drawing among them.
// nll: one value per image, any order; nothing is written when it is empty.
void meta_set_nll_percentiles(Metadata& meta, const std::string& split, std::vector<double> nll);
// The 101 values back, or empty when the entry is missing or malformed (an empty or non-numeric item, a
// non-finite value, not 101 values, not sorted).
std::vector<double> meta_nll_percentiles(const Metadata& meta, const std::string& split);

}  // namespace vae
