// Evaluation figures in a model's metadata (see figures.hpp).
#include "vae/figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vae {

void meta_set_nll_percentiles(Metadata& meta, const std::string& split, std::vector<double> nll) {
  if (nll.empty()) return;
  std::sort(nll.begin(), nll.end());
  const size_t n = nll.size();
  std::string q;
  char buf[64];
  for (int p = 0; p <= 100; ++p) {
    std::snprintf(buf, sizeof buf, "%s%.2f", p ? "," : "", nll[size_t(std::lround(p / 100.0 * double(n - 1)))]);
    q += buf;
  }
  meta_set(meta, split + ".nll_percentiles", q);
}

std::vector<double> meta_nll_percentiles(const Metadata& meta, const std::string& split) {
  std::vector<double> v;
  const std::string s = meta_get(meta, split + ".nll_percentiles");
  if (!s.empty() && s.back() == ',') return {};  // a trailing comma is an empty last item
  size_t start = 0;
  while (start < s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const double x = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(x)) return {};
    v.push_back(x);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (v.size() != 101 || !std::is_sorted(v.begin(), v.end())) return {};
  return v;
}

}  // namespace vae
