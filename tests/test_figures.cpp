// One owner per stored format: the evaluation figures in a model's metadata (figures.hpp) and the sets of a
// training checkpoint (train.hpp's kCheckpointSets and checkpoint_model_set).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "vae/figures.hpp"
#include "vae/train.hpp"

using namespace vae;

namespace {

Arch tiny_arch() {
  Arch a;
  a.D = 6;
  a.hidden = {4};
  a.Z = 2;
  a.image_rows = 2;
  a.image_cols = 3;
  return a;
}

// f's tensors again under a prefix.
void add_prefixed(StFile& f, const StFile& from, const std::string& prefix) {
  for (StTensor t : from.tensors) {
    t.name = prefix + t.name;
    f.tensors.push_back(std::move(t));
  }
}

}  // namespace

TEST_CASE("nll percentiles written by eval parse back as the 101 sorted values") {
  std::vector<double> nll;
  for (int i = 999; i >= 0; --i) nll.push_back(80.0 + 0.25 * i);  // any order; sorted on the way in
  Metadata meta;
  meta_set_nll_percentiles(meta, "test", nll);
  const std::string s = meta_get(meta, "test.nll_percentiles");
  CHECK(s.rfind("80.00,82.50,85.00,", 0) == 0);  // "%.2f", nearest rank: percentile p is value round(p * 9.99)
  CHECK(std::count(s.begin(), s.end(), ',') == 100);
  const std::vector<double> q = meta_nll_percentiles(meta, "test");
  REQUIRE(q.size() == 101);
  CHECK(q.front() == 80.0);
  CHECK(q[50] == 80.0 + 0.25 * 500);
  CHECK(q.back() == 80.0 + 0.25 * 999);
  CHECK(std::is_sorted(q.begin(), q.end()));
  CHECK(meta_nll_percentiles(meta, "train").empty());  // each split has its own key

  Metadata none;
  meta_set_nll_percentiles(none, "test", {});
  CHECK(none.empty());
}

TEST_CASE("malformed nll percentiles are refused whole") {
  std::string good;
  for (int p = 0; p <= 100; ++p) good += (p ? "," : "") + std::to_string(40 + p);
  Metadata meta;
  meta_set(meta, "test.nll_percentiles", good);
  REQUIRE(meta_nll_percentiles(meta, "test").size() == 101);

  const std::vector<std::string> bad = {
      good.substr(0, good.rfind(',')),   // 100 values
      good + ",200",                     // 102 values
      "x" + good.substr(2),              // not a number
      good.substr(0, 3) + "," + good.substr(3),  // an empty item
      "nan" + good.substr(2),            // not finite
      "99" + good.substr(2),             // not sorted
      good + ",",                        // a trailing comma (an empty last item)
      "",
  };
  for (const std::string& s : bad) {
    Metadata m;
    meta_set(m, "test.nll_percentiles", s);
    CHECK(meta_nll_percentiles(m, "test").empty());
  }
}

TEST_CASE("checkpoint_model_set picks the weights or one prefixed set of a checkpoint") {
  const Vae weights = vae_make(tiny_arch(), 1), best = vae_make(tiny_arch(), 2);
  REQUIRE(weights.params != best.params);
  StFile f = model_to_st(weights, {});
  add_prefixed(f, model_to_st(best, {}), kCheckpointBest);

  Vae m;
  REQUIRE(checkpoint_model_set(f, "", true, m));
  CHECK(m.params == weights.params);
  REQUIRE(checkpoint_model_set(f, kCheckpointBest, true, m));
  CHECK(m.params == best.params);

  const Status missing = checkpoint_model_set(f, kCheckpointAdamM, true, m);
  REQUIRE_FALSE(missing);
  CHECK(missing.message().rfind("checkpoint set adam.m.*: ", 0) == 0);
  CHECK(std::string(kCheckpointSets[0]) == "adam.m.");
  CHECK(std::string(kCheckpointSets[1]) == "adam.v.");
  CHECK(std::string(kCheckpointSets[2]) == "best.");
}
