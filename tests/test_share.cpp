// Share links' drawings (app/share.hpp): the strokes the canvas shows come back bit for bit and rasterise to the
// same image; everything else a link can hold is refused with the reason, and the drawing is left as it was.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "app/share.hpp"
#include "vae/prng.hpp"

using namespace app;

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Brush strokes at random places (float values of every magnitude in [0, 1]), some with pressure, an eraser.
Drawing random_drawing(uint64_t seed) {
  vae::Pcg32 rng(seed, 3);
  Drawing d;
  for (int s = 0; s < 4; ++s) {
    drawing_begin_stroke(d, 0.02f + 0.1f * rng.uniform(), s == 2);
    const int n = 1 + int(rng.uniform() * 40);
    for (int i = 0; i < n; ++i) {
      const float x = rng.uniform() * (i % 5 == 0 ? 1e-3f : 1.f);
      drawing_add_point(d, x, rng.uniform(), s == 1 ? rng.uniform() : 1.f);
    }
    drawing_end_stroke(d);
  }
  return d;
}

void check_same(const Stroke& a, const Stroke& b) {
  REQUIRE(a.kind == b.kind);
  CHECK(same_bits(a.width, b.width));
  CHECK(a.erase == b.erase);
  REQUIRE(a.points.size() == b.points.size());
  for (size_t i = 0; i < a.points.size(); ++i) {
    REQUIRE(same_bits(a.points[i].x, b.points[i].x));
    REQUIRE(same_bits(a.points[i].y, b.points[i].y));
    REQUIRE(same_bits(a.points[i].pressure, b.points[i].pressure));
  }
  CHECK(a.image_w == b.image_w);
  CHECK(a.image_h == b.image_h);
  REQUIRE(a.image.size() == b.image.size());
  for (size_t i = 0; i < a.image.size(); ++i) REQUIRE(same_bits(a.image[i], b.image[i]));
}

std::string decode_message(const std::string& text) {
  Drawing d = random_drawing(9);
  const Drawing before = d;
  std::string model = "kept";
  const vae::Status s = share_decode(text, d, model);
  if (s) return "ok";
  CHECK(model == "kept");  // nothing changed on error
  CHECK(d.strokes.size() == before.strokes.size());
  CHECK(d.revision == before.revision);
  return s.message();
}

const std::string kBrush = R"({"w":0.1,"e":false,"p":[0.5,0.5]})";
std::string link(const std::string& strokes, const std::string& model = "mnist-z2") {
  return R"({"v":1,"model":")" + model + R"(","strokes":[)" + strokes + "]}";
}

}  // namespace

TEST_CASE("a share link brings back the strokes the canvas shows, bit for bit, and the same raster") {
  for (uint64_t seed : {1, 2, 3}) {
    const Drawing d = random_drawing(seed);
    const std::string text = share_encode(d, "mnist-z32");
    Drawing back;
    back.revision = 41;
    std::string model;
    REQUIRE(share_decode(text, back, model).ok());
    CHECK(model == "mnist-z32");
    CHECK(back.revision == 42);
    REQUIRE(back.strokes.size() == d.strokes.size());
    for (size_t i = 0; i < d.strokes.size(); ++i) check_same(d.strokes[i], back.strokes[i]);
    std::vector<float> a, b;
    drawing_rasterize(d, 280, a);
    drawing_rasterize(back, 280, b);
    CHECK(a == b);
    CHECK(text.size() < 40 * (d.strokes[0].points.size() + d.strokes[1].points.size() + d.strokes[2].points.size() +
                              d.strokes[3].points.size()));
  }
}

TEST_CASE("only what the canvas shows travels: strokes after the last clear, or from the last image on") {
  Drawing d = random_drawing(4);
  drawing_clear(d);
  drawing_begin_stroke(d, 0.05f, false);
  drawing_add_point(d, 0.25f, 0.75f);
  drawing_end_stroke(d);
  std::string model;
  Drawing back;
  REQUIRE(share_decode(share_encode(d, "m"), back, model).ok());
  REQUIRE(back.strokes.size() == 1);
  check_same(back.strokes[0], d.strokes.back());

  std::vector<float> img(28 * 28);
  for (size_t i = 0; i < img.size(); ++i) img[i] = float(i % 29) / 29.f;
  REQUIRE(drawing_from_image(img.data(), 28, 28, d));
  drawing_begin_stroke(d, 0.05f, true);  // an eraser stroke over the image
  drawing_add_point(d, 0.5f, 0.5f);
  drawing_end_stroke(d);
  REQUIRE(share_decode(share_encode(d, "m"), back, model).ok());
  REQUIRE(back.strokes.size() == 2);
  check_same(back.strokes[0], d.strokes[d.strokes.size() - 2]);
  check_same(back.strokes[1], d.strokes.back());

  REQUIRE(share_decode(share_encode(Drawing{}, ""), back, model).ok());  // an empty canvas, no model
  CHECK(back.strokes.empty());
  CHECK(model.empty());
}

TEST_CASE("a damaged or foreign share link is refused with the reason and the drawing is kept") {
  CHECK(decode_message(link(kBrush)) == "ok");
  CHECK(decode_message("") == "not the JSON of a drawing");
  CHECK(decode_message("{\"v\":1,") == "not the JSON of a drawing");
  CHECK(decode_message(std::string(100000, '[')) == "not the JSON of a drawing");  // no stack overflow
  CHECK(decode_message("[1]") == "not a drawing (no object)");
  CHECK(decode_message(R"({"v":2,"model":"m","strokes":[]})") == "not version 1 of the drawing format");
  CHECK(decode_message(R"({"v":1,"model":"m","strokes":[],"x":0})") == "unknown key \"x\"");
  CHECK(decode_message(link(kBrush, "../etc")) == "\"model\" is not a model name");
  CHECK(decode_message(link(kBrush, "Mnist")) == "\"model\" is not a model name");
  CHECK(decode_message(R"({"v":1,"model":"m","strokes":{}})") == "\"strokes\" is not a list");
  CHECK(decode_message(link("7")) == "stroke 0: not an object");
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[0.5]})")) ==
        "stroke 0: points \"p\" are not a non-empty list of x, y pairs");
  CHECK(decode_message(link(kBrush + R"(,{"w":0.1,"e":false,"p":[0.5,1.5]})")) ==
        "stroke 1: point 0 is not in the canvas [0, 1] x [0, 1]");
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[0.5,1e999]})")) != "ok");
  CHECK(decode_message(link(R"({"w":-0.1,"e":false,"p":[0.5,0.5]})")) == "stroke 0: width \"w\" is not a number in [0, 1]");
  CHECK(decode_message(link(R"({"w":0.1,"e":0,"p":[0.5,0.5]})")) == "stroke 0: \"e\" (eraser) is not true or false");
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[0.5,0.5],"q":[]})")) ==
        "stroke 0: pressures \"q\" are not one number per point");
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[0.5,0.5],"q":["1"]})")) == "stroke 0: pressure 0 is not in [0, 1]");
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[0.5,0.5],"z":1})")) == "stroke 0: unknown key \"z\"");
  CHECK(decode_message(link(R"({"image":[2,2],"px":[0,0.5,1]})")) ==
        "stroke 0: \"px\" does not hold width x height = 4 values");
  CHECK(decode_message(link(R"({"image":[257,1],"px":[]})")) ==
        "stroke 0: \"image\" is not [width, height], each 1 to 256");
  CHECK(decode_message(link(R"({"image":[1,1],"px":[2]})")) == "stroke 0: pixel 0 is not in [0, 1]");

  std::string many = "0.5";
  for (size_t i = 1; i < 2 * kShareMaxPoints + 2; ++i) many += ",0.5";
  CHECK(decode_message(link(R"({"w":0.1,"e":false,"p":[)" + many + "]}")) == "stroke 0: more than 100000 points");
  CHECK(decode_message(std::string(kShareMaxBytes + 1, ' ')).find("over the limit") != std::string::npos);
}
