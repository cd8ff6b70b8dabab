// The studio's panels without a window: every panel drawn by Dear ImGui with no renderer (in one, two and three
// columns), the Repair panel on a painted mask, its messages for bad input, the Compare panel with and without a
// PCA in the file, the difference map, and the state JSON's writer.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "app/ui.hpp"
#include "headless_ui.hpp"
#include "imgui.h"
#include "vae/pca.hpp"
#include "vae/safetensors.hpp"

using namespace app;
using namespace headless;

namespace {

// A small random model (784-32-[Z]), with a PCA of K = Z components fitted to a few made-up images when asked.
App panels_app(int Z, bool with_pca) {
  vae::Arch a;
  a.hidden = {32};
  a.Z = Z;
  const vae::Vae m = vae::vae_make(a, 7);
  vae::StFile f = vae::model_to_st(m, {{"dataset", "mnist"}});
  if (with_pca) {
    std::vector<float> images(size_t(40) * 784);
    vae::Pcg32 rng(3, 1);
    for (float& v : images) v = rng.uniform() < 0.2f ? rng.uniform() : 0.f;
    vae::Pca pca;
    REQUIRE(vae::pca_fit(images.data(), 40, 784, Z, "made-up, 40 images", pca).ok());
    vae::pca_to_st(pca, f);
  }
  return app_from_file(f, "panels");
}

int count(const std::vector<uint8_t>& v) {
  int n = 0;
  for (uint8_t x : v) n += x != 0;
  return n;
}

}  // namespace

TEST_CASE("every panel is drawn headless in one, two and three columns, and the state JSON carries each one's part") {
  for (float width : {600.f, 900.f, 1400.f}) {
    App app = panels_app(2, true);
    app_demo_drawing(app);
    HeadlessUi ui(width);
    for (int f = 0; f < 3; ++f) ui.frame(app);
    for (const char* w : {"undo", "clear", "difference", "save_reconstruction", "grid", "new_samples",
                          "a_from_drawing", "repair_from_drawing", "repair_damage_mask", "repair_method", "compare_new_samples"}) {
      INFO("width " << width << ", widget " << w);
      CHECK(has_widget(app, w));
    }
    const nlohmann::json v = state(app);
    REQUIRE(v.is_object());
    for (const char* k : {"frame", "model", "canvas", "strokes", "z", "elbo", "difference", "grid", "samples",
                          "map_points", "morph", "repair", "compare", "model_metadata", "widgets"})
      CHECK(v.contains(k));
    CHECK(v["compare"]["pca"] == 2);
    CHECK(v["compare"]["grid"] == ComparePanel::kGrid * ComparePanel::kGrid);
    CHECK(v["difference"]["psnr"].get<double>() > 0);
  }
}

TEST_CASE("the difference map shows ink the reconstruction lost in red and ink it added in cyan") {
  const std::vector<float> original = {1.f, 0.f, 0.5f, 0.25f}, estimate = {0.f, 1.f, 0.5f, 0.75f};
  float lost = 0, added = 0;
  const std::vector<uint8_t> rgba = difference_rgba(original, estimate, &lost, &added);
  REQUIRE(rgba.size() == 16);
  CHECK((rgba[0] == 255 && rgba[1] == 0 && rgba[2] == 0));    // lost: red
  CHECK((rgba[4] == 0 && rgba[5] == 255 && rgba[6] == 255));  // added: cyan
  CHECK((rgba[8] == 0 && rgba[9] == 0 && rgba[10] == 0));     // the same: black
  CHECK((rgba[12] == 0 && rgba[13] == 128 && rgba[14] == 128));
  CHECK(lost == Approx(1.0));
  CHECK(added == Approx(1.5));
}

TEST_CASE("a mask painted over the drawing is restored from the seen pixels, which stay as they were") {
  App app = panels_app(2, true);
  app_demo_drawing(app);
  RepairPanel& p = panel<RepairPanel>(app);
  p.source = RepairPanel::kDrawing;
  p.damage.kind = vae::Damage::Mask;
  p.options.iterations = 20;
  app_update(app);
  CHECK_THAT(p.error, Catch::Contains("hides"));  // no mask yet: nothing to restore, and it says so
  mask_paint(p.mask, 28, 28, 14.f, 20.f, 4.f, false);
  const int hidden = count(p.mask);
  REQUIRE(hidden > 20);
  app_update(app);
  INFO(p.error);
  REQUIRE(p.error.empty());
  CHECK(p.errors.pixels == hidden);
  for (int i = 0; i < 784; ++i)
    if (!p.mask[size_t(i)]) REQUIRE(p.restored.image[size_t(i)] == p.original[size_t(i)]);
  CHECK(p.restored.iterations == 20);
  CHECK(p.restored.acceptance >= 0);
  bool has_mwg = false, has_pca = false;
  for (const RepairPanel::Row& r : p.table) {
    has_mwg = has_mwg || r.method == vae::Restore::MetropolisGibbs;
    has_pca = has_pca || r.method == vae::Restore::Pca;
    CHECK(std::isfinite(r.errors.bce));
  }
  CHECK(has_mwg);
  CHECK(has_pca);
  // The same inputs in another app give the same restoration (fixed seeds).
  App again = panels_app(2, true);
  app_demo_drawing(again);
  RepairPanel& q = panel<RepairPanel>(again);
  q.source = RepairPanel::kDrawing;
  q.damage.kind = vae::Damage::Mask;
  q.options.iterations = 20;
  q.mask = p.mask;
  app_update(again);
  CHECK(q.restored.image == p.restored.image);
  // Erasing the mask brings the message back and the drawing was never touched.
  const uint64_t revision = app.drawing.revision;
  mask_paint(p.mask, 28, 28, 14.f, 20.f, 6.f, true);
  app_update(app);
  CHECK_THAT(p.error, Catch::Contains("hides"));
  CHECK(app.drawing.revision == revision);
}

TEST_CASE("repairing an empty drawing, or with a mask hiding every pixel, gives a message and changes nothing") {
  App app = panels_app(2, false);
  RepairPanel& p = panel<RepairPanel>(app);
  p.source = RepairPanel::kDrawing;
  app_update(app);
  CHECK_THAT(p.error, Catch::Contains("nothing drawn"));
  CHECK(p.table.empty());
  app_demo_drawing(app);
  p.damage.kind = vae::Damage::Mask;
  p.mask.assign(784, 1);
  app_update(app);
  CHECK_THAT(p.error, Catch::Contains("every pixel"));
  CHECK(state(app)["repair"]["error"].is_string());
}

TEST_CASE("a model file without a PCA still loads; Compare says so and Repair offers no PCA baseline") {
  App app = panels_app(2, false);
  CHECK(app.pca.empty());
  app_demo_drawing(app);
  RepairPanel& p = panel<RepairPanel>(app);
  p.source = RepairPanel::kDrawing;
  p.options.iterations = 10;
  app_update(app);
  INFO(p.error);
  REQUIRE(p.error.empty());
  for (const RepairPanel::Row& r : p.table) CHECK((r.method != vae::Restore::Pca && r.method != vae::Restore::MeanImage));
  HeadlessUi ui(1400);
  ui.frame(app);
  const nlohmann::json v = state(app);
  CHECK(v["compare"]["pca"] == 0);
  CHECK(v["compare"]["pca_recon"].is_null());
}

TEST_CASE("the Repair panel asks the platform for the test digits once, and says why when they fail") {
  App app = panels_app(2, true);
  HeadlessUi ui(1400);
  ui.frame(app);
  CHECK(app.digits_state == Shared::Digits::Wanted);
  app.digits_state = Shared::Digits::Loading;
  ui.frame(app);
  CHECK(app.digits_state == Shared::Digits::Loading);
  const std::string junk = "not a safetensors file";
  CHECK_FALSE(app_load_digits(app, reinterpret_cast<const uint8_t*>(junk.data()), junk.size()).ok());
  app_update(app);
  CHECK_THAT(panel<RepairPanel>(app).error, Catch::Contains("could not load the test digits"));
}

TEST_CASE("the state JSON keeps its members' order, writes non-finite numbers as null and survives bad UTF-8") {
  Json j;
  j["b"] = std::vector<double>{0.5, std::nan(""), -HUGE_VAL};
  j["a"] = json_or_null(false, 3);
  j["c"] = Json::object();
  j["e"] = 12345678901LL;
  j["s"] = std::string("x\"y \xFF");  // a file name's stray byte
  CHECK(json_text(j) == "{\"b\":[0.5,null,null],\"a\":null,\"c\":{},\"e\":12345678901,\"s\":\"x\\\"y \xEF\xBF\xBD\"}");
}

TEST_CASE("a texture's contents get a serial no other contents have had") {
  Texture a, b;
  texture_set(a, std::vector<float>(4, 0.5f), 2, 2);
  texture_set(b, std::vector<float>(4, 0.5f), 2, 2);
  const uint64_t first = a.serial;
  texture_set(a, std::vector<float>(4, 1.f), 2, 2);
  CHECK(a.serial != first);
  CHECK(a.serial != b.serial);
  CHECK(a.pixels == std::vector<uint8_t>(4, 255));
  texture_set(a, std::vector<float>(3, 1.f), 2, 2);  // too few pixels: nothing changes
  CHECK(a.pixels == std::vector<uint8_t>(4, 255));
}

TEST_CASE("every pointer position between two frames is drawn, with a press and a release inside one frame") {
  App app = panels_app(2, false);
  HeadlessUi ui(1400);
  ui.frame(app);  // lays the canvas out
  const Rect r = panel<CanvasPanel>(app).rect;
  REQUIRE(r.w > 100);
  ImGuiIO& io = ImGui::GetIO();
  auto at = [&r](double u, double v, bool down) {
    return PointerSample{float(r.x + u * r.w), float(r.y + v * r.h), down};
  };
  // A frame whose pointer events are `trail`, pressed and released inside it: Dear ImGui sees the press (the
  // platform keeps a press shorter than a frame) and the last position only. Then a frame with no events.
  auto burst = [&](std::vector<PointerSample> trail) {
    app.pointer_trail = std::move(trail);
    io.MousePos = ImVec2(app.pointer_trail.back().x, app.pointer_trail.back().y);
    io.MouseDown[0] = true;
    ui.frame(app);
    app.pointer_trail.clear();
    io.MouseDown[0] = false;
    ui.frame(app);
  };
  // A circle of 61 points, the last one back at the start.
  const double kPi = 3.14159265358979323846;
  std::vector<PointerSample> circle;
  for (int k = 0; k <= 60; ++k)
    circle.push_back(at(0.5 + 0.3 * std::cos(2 * kPi * k / 60), 0.5 + 0.3 * std::sin(2 * kPi * k / 60), true));
  circle.push_back(circle.back());
  circle.back().down = false;
  burst(circle);
  REQUIRE(app.drawing.strokes.size() == 1);
  const std::vector<StrokePoint>& pts = app.drawing.strokes[0].points;
  REQUIRE(pts.size() == 61);
  CHECK(pts.front().x == Approx(0.8).margin(1e-4));
  CHECK(pts[15].y == Approx(0.8).margin(1e-4));  // a quarter of the way round
  CHECK(pts.back().x == Approx(0.8).margin(1e-4));
  CHECK_FALSE(app.drawing.stroke_open);

  // Two strokes inside one frame, with hovering before the first press: two strokes of 3 points each.
  burst({at(0.1, 0.1, false), at(0.2, 0.2, true), at(0.3, 0.2, true), at(0.4, 0.2, true), at(0.4, 0.2, false),
         at(0.5, 0.5, true), at(0.6, 0.5, true), at(0.7, 0.5, true), at(0.7, 0.5, false)});
  REQUIRE(app.drawing.strokes.size() == 3);
  CHECK(app.drawing.strokes[1].points.size() == 3);
  CHECK(app.drawing.strokes[2].points.size() == 3);
  CHECK(app.drawing.strokes[2].points[0].x == Approx(0.5).margin(1e-4));
  CHECK(state(app)["last_stroke_points"] == 3);

  // A stroke held across frames, whose release comes with the last moves: those moves are kept.
  app.pointer_trail = {at(0.2, 0.8, true)};
  io.MousePos = ImVec2(app.pointer_trail.back().x, app.pointer_trail.back().y);
  io.MouseDown[0] = true;
  ui.frame(app);
  app.pointer_trail = {at(0.3, 0.8, true), at(0.4, 0.8, true), at(0.4, 0.8, false)};
  io.MousePos = ImVec2(app.pointer_trail.back().x, app.pointer_trail.back().y);
  io.MouseDown[0] = false;
  ui.frame(app);
  REQUIRE(app.drawing.strokes.size() == 4);
  CHECK(app.drawing.strokes[3].points.size() == 3);
  CHECK(app.drawing.strokes[3].points.back().x == Approx(0.4).margin(1e-4));
}


TEST_CASE("on a phone-sized screen the studio is one column with a section bar, and nothing is cut off") {
  for (float width : {360.f, 390.f}) {
    App app = panels_app(2, true);
    app.can_pick_files = app.can_share = true;  // the page's buttons too
    HeadlessUi ui(width, 800);
    for (int f = 0; f < 3; ++f) ui.frame(app);
    CHECK(app.layout.columns == 1);
    CHECK(app.first_run_hint);
    for (const auto& [name, wid] : app.widgets) {
      const Rect& r = wid.rect;
      INFO("width " << width << ", widget " << name << " at x " << r.x << ", w " << r.w);
      CHECK(r.x >= 0);
      CHECK(r.x + r.w <= width);
    }
    CHECK(widget(app, "canvas").y < widget(app, "grid").y);  // the canvas first
    // The bar's Models button scrolls the column to the Models panel; Draw back to the top.
    Finger finger{app, ui};
    finger.tap(centre(widget(app, "section_models")));
    for (int f = 0; f < 2; ++f) ui.frame(app);
    CHECK(app.layout.scroll[0] > 500);
    CHECK(app.layout.current == int(std::tuple_size_v<Panels>) - 1);
    const Rect open = widget(app, "open_model_file");
    CHECK((open.y > widget(app, "section_models").y && open.y + open.h < 800));
    finger.tap(centre(widget(app, "section_draw")));
    for (int f = 0; f < 2; ++f) ui.frame(app);
    CHECK(app.layout.scroll[0] == 0);
    CHECK(app.layout.current == 0);
  }
}

TEST_CASE("a finger dragged where no panel gives the drag a meaning scrolls the column; on the canvas it draws") {
  App app = panels_app(2, true);
  HeadlessUi ui(390, 800);
  for (int f = 0; f < 3; ++f) ui.frame(app);
  Finger finger{app, ui};
  // On the canvas: a stroke, and no scrolling.
  const Rect c = widget(app, "canvas");
  finger.drag(ImVec2(c.x + c.w * 0.3f, c.y + c.h * 0.2f), ImVec2(c.x + c.w * 0.4f, c.y + c.h * 0.8f));
  CHECK(app.drawing.strokes.size() == 1);
  CHECK(app.layout.scroll[0] == 0);
  CHECK_FALSE(app.first_run_hint);
  // Beside the canvas's tools (a button the finger goes down on is not clicked): the column follows the finger.
  const Rect clear = widget(app, "clear");
  finger.drag(centre(clear), ImVec2(centre(clear).x, centre(clear).y - 150.f), 10);
  CHECK(app.drawing.strokes.size() == 1);  // Clear was not pressed
  CHECK(app.layout.scroll[0] > 140.f);
  const float after = app.layout.scroll[0];
  for (int f = 0; f < 10; ++f) ui.frame(app);  // it glides on after the finger lifts, slowing down
  CHECK(app.layout.scroll[0] >= after);
  // A tap is a click: the section bar's Draw scrolls back up, and Undo takes the stroke back.
  for (int f = 0; f < 60; ++f) ui.frame(app);
  finger.tap(centre(widget(app, "section_draw")));
  for (int f = 0; f < 2; ++f) ui.frame(app);
  REQUIRE(app.layout.scroll[0] == 0);
  finger.tap(centre(widget(app, "undo")));
  CHECK(app.drawing.strokes.empty());
  // With a mouse the same drag selects nothing and scrolls nothing (the wheel does).
  app.touch = false;
  const float before = app.layout.scroll[0];
  ImGuiIO& io = ImGui::GetIO();
  const Rect undo = widget(app, "undo");
  for (int k = 0; k <= 8; ++k) {
    io.MousePos = ImVec2(undo.x + undo.w + 4.f, undo.y + 4.f - 15.f * k);
    io.MouseDown[0] = true;
    ui.frame(app);
  }
  io.MouseDown[0] = false;
  ui.frame(app);
  CHECK(app.layout.scroll[0] == before);
}

TEST_CASE("two fingers pinch the grid and the map about their midpoint, and the pinch's release is no tap") {
  App app = panels_app(2, true);
  app.map.kind = "latent";  // a map of 100 made-up points
  vae::Pcg32 rng(5, 1);
  for (int i = 0; i < 100; ++i) {
    app.map.points.push_back(rng.normal());
    app.map.points.push_back(rng.normal());
    app.map.labels.push_back(uint8_t(i % 10));
  }
  HeadlessUi ui(1400, 900);
  for (int f = 0; f < 6; ++f) ui.frame(app);
  Finger finger{app, ui};
  const Rect g = widget(app, "grid");
  const ImVec2 mid = centre(g);
  REQUIRE(state(app)["grid"]["selected"] == -1);
  // The first finger lands on the grid; the second one makes it a pinch (the page forwards no moves meanwhile).
  finger.frame(mid.x - 30, mid.y, true);
  app.gesture = true;
  for (float f : {1.5f, 1.5f, 1.3333f}) {
    app.pinch = f;
    app.pinch_x = mid.x;
    app.pinch_y = mid.y;
    finger.frame(mid.x - 30, mid.y, true);
  }
  app.pinch = 1.f;
  finger.frame(mid.x - 30, mid.y, false);
  finger.frame(-FLT_MAX, -FLT_MAX, false);
  CHECK(state(app)["grid"]["zoom"].get<double>() == Approx(3.0).epsilon(0.01));
  CHECK(state(app)["grid"]["selected"] == -1);  // the lift after the pinch selected no cell
  CHECK_FALSE(app.gesture);
  // A tap then selects the cell under it.
  for (int f = 0; f < 30; ++f) ui.frame(app);
  const int n = state(app)["grid"]["n"];
  finger.tap(ImVec2(g.x + g.w * 0.5f / n, g.y + g.h * 1.5f / n));  // row 1, column 0
  CHECK(state(app)["grid"]["selected"] == n);

  const Rect m = widget(app, "map");
  const double span = state(app)["map_view"][2];
  app.pinch = 2.f;
  app.pinch_x = m.x + m.w / 2;
  app.pinch_y = m.y + m.h / 2;
  ui.frame(app);
  app.pinch = 1.f;
  ui.frame(app);
  CHECK(state(app)["map_view"][2].get<double>() == Approx(span / 2));
}

TEST_CASE("a tap on a help marker opens its text and the next tap anywhere closes it") {
  App app = panels_app(2, true);
  app.can_share = true;
  HeadlessUi ui(1400, 900);
  for (int f = 0; f < 3; ++f) ui.frame(app);
  Finger finger{app, ui};
  finger.tap(centre(widget(app, "help_copy_link")));
  CHECK(state(app)["help_open"] == "copy_link");
  for (int f = 0; f < 3; ++f) ui.frame(app);
  CHECK(state(app)["help_open"] == "copy_link");  // it stays open with no finger on it
  const Rect c = widget(app, "canvas");
  finger.tap(ImVec2(c.x + c.w + 2.f, c.y + c.h + 40.f));
  CHECK(state(app)["help_open"].is_null());
}

TEST_CASE("the keyboard shortcuts undo, redo, clear and switch to the eraser") {
  App app = panels_app(2, true);
  app_demo_drawing(app);
  HeadlessUi ui(1400, 900);
  ImGuiIO& io = ImGui::GetIO();
  ui.frame(app);
  const size_t strokes = app.drawing.strokes.size();
  REQUIRE(strokes > 0);
  auto press = [&](int key, bool ctrl = false, bool shift = false) {
    io.KeyCtrl = ctrl;
    io.KeyShift = shift;
    io.KeysDown[key] = true;
    ui.frame(app);
    io.KeysDown[key] = false;
    io.KeyCtrl = io.KeyShift = false;
    ui.frame(app);
  };
  io.KeyMap[ImGuiKey_Z] = 'Z';
  io.KeyMap[ImGuiKey_Y] = 'Y';
  io.KeyMap[ImGuiKey_Delete] = 261;
  io.KeyMap[ImGuiKey_Escape] = 256;
  press('Z', true);
  CHECK(app.drawing.strokes.size() == strokes - 1);
  press('Z', true, true);
  CHECK(app.drawing.strokes.size() == strokes);
  press('E');
  CHECK(state(app)["eraser"] == true);
  press(261);
  REQUIRE(app.drawing.strokes.size() == strokes + 1);
  CHECK(app.drawing.strokes.back().kind == StrokeKind::Clear);
  press('Z', true);  // the clear is one step back
  CHECK(app.drawing.strokes.size() == strokes);
  app.help_open = "keys";
  press(256);
  CHECK(app.help_open.empty());
}
