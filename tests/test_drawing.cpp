// The drawing as data: undo / redo / clear semantics, the revision counter, and the anti-aliased rasteriser
// (dots, lines, pressure, eraser, image strokes). No window.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "app/drawing.hpp"

namespace {

constexpr float kPi = 3.14159265f;

void draw_line(app::Drawing& d, float x0, float y0, float x1, float y1, float width, bool erase = false) {
  app::drawing_begin_stroke(d, width, erase);
  app::drawing_add_point(d, x0, y0);
  app::drawing_add_point(d, x1, y1);
  app::drawing_end_stroke(d);
}

void draw_dot(app::Drawing& d, float x, float y, float width) {
  app::drawing_begin_stroke(d, width, false);
  app::drawing_add_point(d, x, y);
  app::drawing_end_stroke(d);
}

std::vector<float> raster(const app::Drawing& d, int size) {
  std::vector<float> out;
  app::drawing_rasterize(d, size, out);
  return out;
}

float sum(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return float(s);
}

}  // namespace

TEST_CASE("undo removes the last stroke and redo restores it") {
  app::Drawing d;
  CHECK_FALSE(app::drawing_can_undo(d));
  CHECK_FALSE(app::drawing_can_redo(d));
  CHECK_FALSE(app::drawing_undo(d));
  CHECK_FALSE(app::drawing_redo(d));

  draw_dot(d, 0.3f, 0.3f, 0.1f);
  const std::vector<float> one = raster(d, 40);
  draw_dot(d, 0.7f, 0.7f, 0.1f);
  const std::vector<float> two = raster(d, 40);
  REQUIRE(d.strokes.size() == 2);
  CHECK(app::drawing_can_undo(d));

  CHECK(app::drawing_undo(d));
  CHECK(raster(d, 40) == one);
  CHECK(app::drawing_can_redo(d));
  CHECK(app::drawing_undo(d));
  CHECK(sum(raster(d, 40)) == 0.0f);
  CHECK_FALSE(app::drawing_can_undo(d));

  CHECK(app::drawing_redo(d));
  CHECK(raster(d, 40) == one);
  CHECK(app::drawing_redo(d));
  CHECK(raster(d, 40) == two);
  CHECK_FALSE(app::drawing_can_redo(d));
}

TEST_CASE("a new stroke after undo clears the redo list") {
  app::Drawing d;
  draw_dot(d, 0.3f, 0.3f, 0.1f);
  draw_dot(d, 0.7f, 0.7f, 0.1f);
  app::drawing_undo(d);
  REQUIRE(app::drawing_can_redo(d));

  SECTION("a stroke without points keeps the redo list") {
    app::drawing_begin_stroke(d, 0.1f, false);
    app::drawing_end_stroke(d);
    CHECK(app::drawing_can_redo(d));
    CHECK(d.strokes.size() == 1);
  }
  SECTION("a stroke with points empties it") {
    draw_dot(d, 0.5f, 0.2f, 0.1f);
    CHECK_FALSE(app::drawing_can_redo(d));
    CHECK_FALSE(app::drawing_redo(d));
    CHECK(d.strokes.size() == 2);
  }
}

TEST_CASE("clear is one undoable step and redo clears again") {
  app::Drawing d;
  CHECK_FALSE(app::drawing_clear(d));  // nothing to clear: no history entry
  CHECK_FALSE(app::drawing_can_undo(d));

  draw_dot(d, 0.3f, 0.3f, 0.1f);
  draw_line(d, 0.2f, 0.8f, 0.8f, 0.8f, 0.05f);
  const std::vector<float> before = raster(d, 40);
  REQUIRE(sum(before) > 0);

  CHECK(app::drawing_clear(d));
  CHECK(sum(raster(d, 40)) == 0.0f);
  CHECK_FALSE(app::drawing_clear(d));  // already blank: a second clear adds nothing
  CHECK(d.strokes.size() == 3);

  CHECK(app::drawing_undo(d));
  CHECK(raster(d, 40) == before);
  CHECK(app::drawing_redo(d));
  CHECK(sum(raster(d, 40)) == 0.0f);

  // Strokes after a clear draw on the blank canvas.
  draw_dot(d, 0.5f, 0.5f, 0.1f);
  app::Drawing fresh;
  draw_dot(fresh, 0.5f, 0.5f, 0.1f);
  CHECK(raster(d, 40) == raster(fresh, 40));
}

TEST_CASE("the revision changes whenever the picture changes, and only then") {
  app::Drawing d;
  uint64_t rev = d.revision;
  auto changed = [&]() {
    const bool c = d.revision != rev;
    rev = d.revision;
    return c;
  };

  app::drawing_begin_stroke(d, 0.1f, false);
  CHECK_FALSE(changed());
  app::drawing_add_point(d, 0.2f, 0.2f);
  CHECK(changed());  // the open stroke is already visible
  app::drawing_add_point(d, 0.2f, 0.2f);
  CHECK_FALSE(changed());  // a repeated point is skipped
  app::drawing_add_point(d, 0.4f, 0.2f);
  CHECK(changed());
  app::drawing_end_stroke(d);
  CHECK_FALSE(changed());  // committing does not change the picture

  app::drawing_add_point(d, 0.9f, 0.9f);  // no open stroke: ignored
  CHECK_FALSE(changed());
  CHECK(d.strokes.size() == 1);

  CHECK(app::drawing_undo(d));
  CHECK(changed());
  CHECK_FALSE(app::drawing_undo(d));
  CHECK_FALSE(changed());
  CHECK(app::drawing_redo(d));
  CHECK(changed());
  CHECK_FALSE(app::drawing_redo(d));
  CHECK_FALSE(changed());
  CHECK(app::drawing_clear(d));
  CHECK(changed());
  CHECK_FALSE(app::drawing_clear(d));
  CHECK_FALSE(changed());
  const float img[4] = {1, 0, 0, 1};
  CHECK(app::drawing_from_image(img, 2, 2, d));
  CHECK(changed());
  CHECK_FALSE(app::drawing_from_image(nullptr, 2, 2, d));
  CHECK_FALSE(app::drawing_from_image(img, 0, 2, d));
  CHECK_FALSE(changed());
}

TEST_CASE("undo during a stroke ends it and removes it") {
  app::Drawing d;
  draw_dot(d, 0.3f, 0.3f, 0.1f);
  const std::vector<float> one = raster(d, 40);
  app::drawing_begin_stroke(d, 0.1f, false);
  app::drawing_add_point(d, 0.7f, 0.7f);
  CHECK(app::drawing_can_undo(d));
  CHECK(raster(d, 40) != one);  // the open stroke is drawn
  CHECK(app::drawing_undo(d));
  CHECK_FALSE(d.stroke_open);
  CHECK(raster(d, 40) == one);
  CHECK(app::drawing_redo(d));
  CHECK(d.strokes.size() == 2);
}

TEST_CASE("a dot is a disc: full coverage inside, an anti-aliased edge about one pixel wide, area pi r^2") {
  // 100 px canvas, width 0.2 -> radius 10 px around pixel coordinate (50, 50).
  app::Drawing d;
  draw_dot(d, 0.5f, 0.5f, 0.2f);
  const std::vector<float> img = raster(d, 100);
  REQUIRE(img.size() == 100u * 100u);
  int edge = 0;
  for (int j = 0; j < 100; ++j) {
    for (int i = 0; i < 100; ++i) {
      const float v = img[j * 100 + i];
      const float dist = std::hypot(i + 0.5f - 50.0f, j + 0.5f - 50.0f);
      if (dist <= 9.5f) REQUIRE(v == Approx(1.0f));
      if (dist >= 10.5f) REQUIRE(v == 0.0f);
      if (v > 0.0f && v < 1.0f) {
        ++edge;
        CHECK(dist > 9.5f);
        CHECK(dist < 10.5f);
      }
    }
  }
  CHECK(edge > 40);  // a ring of grey pixels around the circumference (2 pi 10 ~ 63)
  CHECK(sum(img) == Approx(kPi * 10 * 10).epsilon(0.01));
}

TEST_CASE("a line has full coverage along its centre and soft edges, and the ink across it is its width") {
  // Horizontal line at y = 50.3 px, radius 4 px, from x = 20 to 80 on a 100 px canvas.
  app::Drawing d;
  draw_line(d, 0.2f, 0.503f, 0.8f, 0.503f, 0.08f);
  const std::vector<float> img = raster(d, 100);
  for (int i = 25; i <= 75; ++i) {
    float across = 0;
    for (int j = 0; j < 100; ++j) across += img[j * 100 + i];
    CHECK(across == Approx(8.0f).epsilon(0.01));
    CHECK(img[50 * 100 + i] == Approx(1.0f));
    CHECK(img[42 * 100 + i] == 0.0f);
    // Rows 46 and 54 straddle the edges at 46.3 and 54.3: grey, not black or white.
    CHECK(img[46 * 100 + i] > 0.05f);
    CHECK(img[46 * 100 + i] < 0.95f);
    CHECK(img[54 * 100 + i] > 0.05f);
    CHECK(img[54 * 100 + i] < 0.95f);
  }
  // Round caps: ink reaches 4 px past each end point, no further.
  CHECK(img[50 * 100 + 17] > 0.0f);
  CHECK(img[50 * 100 + 15] == 0.0f);
}

TEST_CASE("rasterized images are row-major with y down") {
  app::Drawing d;
  draw_dot(d, 0.255f, 0.755f, 0.02f);  // pixel coordinate (25.5, 75.5) on 100 px: pixel (25, 75)
  const std::vector<float> img = raster(d, 100);
  CHECK(img[75 * 100 + 25] == Approx(1.0f));
  CHECK(img[25 * 100 + 75] == 0.0f);
}

TEST_CASE("strokes thinner than a pixel fade instead of thickening") {
  app::Drawing d;
  draw_line(d, 0.1f, 0.505f, 0.9f, 0.505f, 0.004f);  // radius 0.2 px on 100 px
  const std::vector<float> img = raster(d, 100);
  float across = 0;
  for (int j = 0; j < 100; ++j) across += img[j * 100 + 50];
  CHECK(across == Approx(0.4f).epsilon(0.02));
  CHECK(img[50 * 100 + 50] == Approx(0.4f).epsilon(0.02));
}

TEST_CASE("pressure scales the brush radius") {
  app::Drawing full, half;
  draw_dot(full, 0.5f, 0.5f, 0.2f);
  app::drawing_begin_stroke(half, 0.2f, false);
  app::drawing_add_point(half, 0.5f, 0.5f, 0.5f);
  app::drawing_end_stroke(half);
  CHECK(sum(raster(half, 100)) == Approx(kPi * 5 * 5).epsilon(0.02));
  CHECK(sum(raster(full, 100)) == Approx(4 * sum(raster(half, 100))).epsilon(0.02));
}

TEST_CASE("an eraser stroke removes ink under it and leaves the rest") {
  app::Drawing d;
  draw_line(d, 0.1f, 0.5f, 0.9f, 0.5f, 0.1f);
  const std::vector<float> before = raster(d, 100);
  draw_line(d, 0.5f, 0.1f, 0.5f, 0.9f, 0.2f, /*erase=*/true);  // a 20 px wide vertical cut at x = 50
  const std::vector<float> after = raster(d, 100);
  CHECK(before[50 * 100 + 50] == Approx(1.0f));
  CHECK(after[50 * 100 + 50] == 0.0f);
  CHECK(after[50 * 100 + 45] == 0.0f);
  CHECK(after[50 * 100 + 20] == Approx(1.0f));
  CHECK(after[50 * 100 + 80] == Approx(1.0f));
  CHECK(sum(after) < sum(before) - 15 * 10);
  CHECK(sum(after) > 0);
  // Erasing is a stroke like any other: undo brings the ink back.
  app::drawing_undo(d);
  CHECK(raster(d, 100) == before);
}

TEST_CASE("an image stroke covers the canvas with the bitmap scaled up, and undo removes it") {
  app::Drawing d;
  draw_dot(d, 0.5f, 0.5f, 0.3f);
  const std::vector<float> before = raster(d, 280);

  std::vector<float> bmp(28 * 28, 0.0f);
  for (int j = 4; j < 10; ++j)
    for (int i = 6; i < 20; ++i) bmp[j * 28 + i] = 0.75f;
  REQUIRE(app::drawing_from_image(bmp.data(), 28, 28, d));
  std::vector<float> img = raster(d, 280);
  // 10 canvas pixels per bitmap pixel; bilinear at pixel centres is exact inside the block.
  CHECK(img[70 * 280 + 130] == Approx(0.75f));
  CHECK(img[140 * 280 + 140] == 0.0f);  // the dot underneath is replaced
  CHECK(img[20 * 280 + 20] == 0.0f);
  CHECK(sum(img) == Approx(6 * 14 * 100 * 0.75f).epsilon(0.01));  // bilinear keeps the ink of a block

  // Drawing on top of the image, then undoing back past it.
  draw_dot(d, 0.1f, 0.9f, 0.1f);
  img = raster(d, 280);
  CHECK(img[252 * 280 + 28] == Approx(1.0f));
  CHECK(img[70 * 280 + 130] == Approx(0.75f));
  app::drawing_undo(d);
  app::drawing_undo(d);
  CHECK(raster(d, 280) == before);
}
