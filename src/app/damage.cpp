// The damage tracker (damage.hpp): per-tile hashes of what a frame draws, compared with the last frame drawn.
#include "app/damage.hpp"

#include <algorithm>
#include <cmath>

namespace app {

namespace {

constexpr uint64_t kTileSeed = 0x9e3779b97f4a7c15ull;

DamageRect unite(const DamageRect& a, const DamageRect& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

}  // namespace

// Order matters: the same triangles drawn in another order can give other pixels (blending).
uint64_t damage_mix(uint64_t h, uint64_t value) {
  h ^= value + kTileSeed + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

uint64_t damage_hash(const void* bytes, size_t size, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

void damage_begin(DamageTracker& d, float width, float height) {
  if (width != d.width || height != d.height || d.hash.empty()) {
    d.width = width;
    d.height = height;
    d.cols = std::max(1, int(std::ceil(std::max(width, 1.f) / d.tile)));
    d.rows = std::max(1, int(std::ceil(std::max(height, 1.f) / d.tile)));
    d.last.assign(size_t(d.cols) * size_t(d.rows), 0);
    d.valid = false;
  }
  d.hash.assign(size_t(d.cols) * size_t(d.rows), kTileSeed);
}

void damage_invalidate(DamageTracker& d) { d.valid = false; }

void damage_add_triangle(DamageTracker& d, const float x[3], const float y[3], const float clip[4], uint64_t key) {
  float x0 = std::min({x[0], x[1], x[2]}), x1 = std::max({x[0], x[1], x[2]});
  float y0 = std::min({y[0], y[1], y[2]}), y1 = std::max({y[0], y[1], y[2]});
  x0 = std::max({x0, clip[0], 0.f});
  y0 = std::max({y0, clip[1], 0.f});
  x1 = std::min({x1, clip[2], d.width});
  y1 = std::min({y1, clip[3], d.height});
  if (!(x0 < x1 && y0 < y1)) return;  // nothing of it is drawn (also NaN coordinates)
  const int c0 = std::min(d.cols - 1, int(x0 / d.tile)), c1 = std::min(d.cols - 1, int(x1 / d.tile));
  const int r0 = std::min(d.rows - 1, int(y0 / d.tile)), r1 = std::min(d.rows - 1, int(y1 / d.tile));
  for (int r = r0; r <= r1; ++r)
    for (int c = c0; c <= c1; ++c) {
      uint64_t& h = d.hash[size_t(r) * size_t(d.cols) + size_t(c)];
      h = damage_mix(h, key);
    }
}

std::vector<DamageRect> damage_end(DamageTracker& d, int max_rects) {
  std::vector<DamageRect> rects;
  if (!d.valid) {
    rects.push_back({0.f, 0.f, d.width, d.height});
  } else {
    // Runs of changed tiles along each row; a run with the same columns as one in the row above extends it.
    std::vector<DamageRect> open;  // runs ending at the previous row
    for (int r = 0; r < d.rows; ++r) {
      std::vector<DamageRect> now;
      for (int c = 0; c < d.cols; ++c) {
        const size_t i = size_t(r) * size_t(d.cols) + size_t(c);
        if (d.hash[i] == d.last[i]) continue;
        const float x0 = float(c) * d.tile;
        if (!now.empty() && now.back().x1 == x0 && now.back().y0 == float(r) * d.tile) now.back().x1 = x0 + d.tile;
        else now.push_back({x0, float(r) * d.tile, x0 + d.tile, float(r + 1) * d.tile});
      }
      for (DamageRect& run : now) {
        auto above = std::find_if(open.begin(), open.end(), [&run](const DamageRect& o) {
          return o.x0 == run.x0 && o.x1 == run.x1;
        });
        if (above != open.end()) {
          run.y0 = above->y0;
          open.erase(above);
        }
      }
      rects.insert(rects.end(), open.begin(), open.end());  // runs that stopped growing
      open = std::move(now);
    }
    rects.insert(rects.end(), open.begin(), open.end());
    // Too many: join the two whose union adds the least area, until few enough.
    while (int(rects.size()) > std::max(1, max_rects)) {
      size_t bi = 0, bj = 1;
      float best = -1;
      for (size_t i = 0; i < rects.size(); ++i)
        for (size_t j = i + 1; j < rects.size(); ++j) {
          const float extra = unite(rects[i], rects[j]).area() - rects[i].area() - rects[j].area();
          if (best < 0 || extra < best) {
            best = extra;
            bi = i;
            bj = j;
          }
        }
      rects[bi] = unite(rects[bi], rects[bj]);
      rects.erase(rects.begin() + std::ptrdiff_t(bj));
    }
    for (DamageRect& q : rects) {
      q.x1 = std::min(q.x1, d.width);
      q.y1 = std::min(q.y1, d.height);
    }
  }
  std::swap(d.last, d.hash);
  d.valid = true;
  return rects;
}

}  // namespace app
