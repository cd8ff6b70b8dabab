// The damage tracker: which tiles of the window a frame changes, from the triangles it draws.
#include <catch2/catch.hpp>

#include <vector>

#include "app/damage.hpp"

using namespace app;

namespace {

const float kNoClip[4] = {-1e9f, -1e9f, 1e9f, 1e9f};

// A quad as two triangles with one key, as ImGui draws an image or a filled rectangle.
void quad(DamageTracker& d, float x0, float y0, float x1, float y1, uint64_t key, const float* clip = kNoClip) {
  const float ax[3] = {x0, x1, x1}, ay[3] = {y0, y0, y1};
  const float bx[3] = {x0, x1, x0}, by[3] = {y0, y1, y1};
  damage_add_triangle(d, ax, ay, clip, key);
  damage_add_triangle(d, bx, by, clip, key + 1);
}

// A frame of a 320 x 240 display with a background quad, a "grid" image and a label.
std::vector<DamageRect> frame(DamageTracker& d, uint64_t grid_key, float label_x = 10.f) {
  damage_begin(d, 320, 240);
  quad(d, 0, 0, 320, 240, 100);
  quad(d, 160, 96, 256, 192, grid_key);
  quad(d, label_x, 10, label_x + 20, 20, 300);
  return damage_end(d);
}

bool covers(const std::vector<DamageRect>& rects, float x, float y) {
  for (const DamageRect& r : rects)
    if (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1) return true;
  return false;
}

}  // namespace

TEST_CASE("the first frame, and the first after a resize or an invalidation, redraws the whole display") {
  DamageTracker d;
  std::vector<DamageRect> r = frame(d, 200);
  REQUIRE(r.size() == 1);
  CHECK(r[0].x0 == 0);
  CHECK(r[0].y0 == 0);
  CHECK(r[0].x1 == 320);
  CHECK(r[0].y1 == 240);
  damage_invalidate(d);
  CHECK(frame(d, 200).size() == 1);
  damage_begin(d, 300, 200);  // a new size: the full display, clamped to it
  quad(d, 0, 0, 300, 200, 100);
  r = damage_end(d);
  REQUIRE(r.size() == 1);
  CHECK(r[0].x1 == 300);
  CHECK(r[0].y1 == 200);
}

TEST_CASE("a frame that draws what the last one drew needs no drawing") {
  DamageTracker d;
  frame(d, 200);
  CHECK(frame(d, 200).empty());
  CHECK(frame(d, 200).empty());
}

TEST_CASE("a changed image redraws the tiles under it and nothing far from it") {
  DamageTracker d;
  frame(d, 200);
  const std::vector<DamageRect> r = frame(d, 201);  // the grid's texture contents changed
  REQUIRE(r.size() == 1);
  // The quad [160, 256) x [96, 192) is whole tiles of 32: exactly those tiles, plus the one its right and
  // bottom edges touch.
  CHECK(r[0].x0 == 160);
  CHECK(r[0].y0 == 96);
  CHECK(r[0].x1 <= 288);
  CHECK(r[0].y1 <= 224);
  CHECK(covers(r, 200, 150));
  CHECK_FALSE(covers(r, 10, 10));
  CHECK_FALSE(covers(r, 100, 150));
}

TEST_CASE("a moved element redraws where it was and where it is") {
  DamageTracker d;
  frame(d, 200, 10.f);
  const std::vector<DamageRect> r = frame(d, 200, 100.f);
  CHECK(covers(r, 15, 15));   // where the label was
  CHECK(covers(r, 105, 15));  // where it is now
  CHECK_FALSE(covers(r, 200, 150));
  CHECK_FALSE(covers(r, 15, 200));
}

TEST_CASE("the same triangles in another order count as a change, since blending depends on the order") {
  DamageTracker d;
  damage_begin(d, 64, 64);
  quad(d, 0, 0, 64, 64, 1);
  quad(d, 0, 0, 64, 64, 5);
  damage_end(d);
  damage_begin(d, 64, 64);
  quad(d, 0, 0, 64, 64, 5);
  quad(d, 0, 0, 64, 64, 1);
  CHECK_FALSE(damage_end(d).empty());
}

TEST_CASE("what the clip rectangle hides, or what lies off the display, changes nothing") {
  DamageTracker d;
  const float clip[4] = {0, 0, 100, 100};
  damage_begin(d, 320, 240);
  quad(d, 0, 0, 320, 240, 100);
  quad(d, 200, 150, 300, 230, 7, clip);  // entirely clipped away
  quad(d, 400, 300, 500, 400, 8);        // off the display
  damage_end(d);
  damage_begin(d, 320, 240);
  quad(d, 0, 0, 320, 240, 100);
  quad(d, 200, 150, 300, 230, 9, clip);
  quad(d, 410, 300, 500, 400, 10);
  const float nan[3] = {0.f / 0.f, 1, 2};
  damage_add_triangle(d, nan, nan, kNoClip, 11);  // and a triangle with NaN corners is ignored
  CHECK(damage_end(d).empty());
}

TEST_CASE("many scattered changes come back as at most the rectangles asked for, still covering each") {
  DamageTracker d;
  auto scattered = [&](uint64_t key) {
    damage_begin(d, 640, 480);
    for (int i = 0; i < 6; ++i) quad(d, 100.f * i + 5, 70.f * i + 5, 100.f * i + 15, 70.f * i + 15, key + 10 * i);
    return damage_end(d, 3);
  };
  scattered(1000);
  const std::vector<DamageRect> r = scattered(2000);
  CHECK(r.size() <= 3);
  for (int i = 0; i < 6; ++i) CHECK(covers(r, 100.f * i + 10, 70.f * i + 10));
  CHECK(damage_hash("ab", 2) != damage_hash("ba", 2));
}
