// One hash for every cache key of the studio: a panel's inputs (numbers, strings, float vectors) folded into
// 64 bits, so that derived data is recomputed exactly when something it depends on changed. Not for security.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/damage.hpp"

namespace app {

// FNV-1a (damage_hash) over each input's bytes, every input preceded by its length, so that ("ab", "c") and
// ("a", "bc") give different keys and no input can be mistaken for a neighbour's tail.
class InputKey {
 public:
  InputKey& add(uint64_t v) { return bytes(&v, sizeof v); }
  InputKey& add(int v) { return add(uint64_t(int64_t(v))); }
  InputKey& add(float v) { return bytes(&v, sizeof v); }
  InputKey& add(bool v) { return add(uint64_t(v)); }
  InputKey& add(const std::string& s) { return bytes(s.data(), s.size()); }
  InputKey& add(const std::vector<float>& v) { return bytes(v.data(), v.size() * sizeof(float)); }
  uint64_t value() const { return h_; }

 private:
  InputKey& bytes(const void* p, size_t n) {
    const uint64_t len = n;
    h_ = damage_hash(p, n, damage_hash(&len, sizeof len, h_));
    return *this;
  }
  uint64_t h_ = 14695981039346656037ull;
};

}  // namespace app
