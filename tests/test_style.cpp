// The Style panel and a label-conditioned model in the studio, without a window: the classifier's ten
// probabilities and the drawing's style as every digit (held to the reference passes), picking the label, sending
// a digit or a cell to the morph and the canvas, and each kind of model in the panels that need the other.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "headless_ui.hpp"
#include "vae/cvae.hpp"
#include "vae/latent_map.hpp"
#include "vae/model_io.hpp"
#include "vae/prng.hpp"

using namespace app;
using namespace headless;

namespace {

// A small random label-conditioned model (784-32-[2]-32-784 on 10 labels, classifier 784-16-10) whose file
// carries a style map of 20 made-up codes.
vae::Cvae small_cvae() {
  vae::Arch a;
  a.hidden = {32};
  a.Z = 2;
  vae::Cvae m = vae::cvae_make(a, 10, {16}, 5);
  vae::Pcg32 rng(6, 1);
  for (float& p : m.net.params) p += 0.05f * float(rng.normal());  // biases too, so that labels differ
  return m;
}

vae::StFile cvae_file(const vae::Cvae& m) {
  vae::StFile f = vae::cvae_to_st(m, {{"dataset", "mnist"}});
  std::vector<float> means(40);
  std::vector<uint8_t> labels(20);
  vae::Pcg32 rng(7, 1);
  for (float& v : means) v = float(rng.normal());
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t(i % 10);
  vae::LatentMap map;
  REQUIRE(vae::latent_map_from_means(means.data(), labels.data(), 20, 2, "made-up, 20 codes", map).ok());
  vae::latent_map_to_st(map, f);
  return f;
}

vae::StFile plain_file() {
  vae::Arch a;
  a.hidden = {32};
  return vae::model_to_st(vae::vae_make(a, 7), {{"dataset", "mnist"}});
}

std::vector<std::string> unavailable(const App& app) {
  return state(app)["unavailable"].get<std::vector<std::string>>();
}

}  // namespace

TEST_CASE("a label-conditioned model reads the drawing as ten probabilities and draws its style as every digit") {
  const vae::Cvae m = small_cvae();
  App app = app_from_file(cvae_file(m), "mnist-cvae");
  app_demo_drawing(app);
  HeadlessUi ui(1400, 2400);
  for (int f = 0; f < 3; ++f) ui.frame(app);
  const nlohmann::json v = state(app);
  CHECK(v["conditional"] == true);
  const nlohmann::json st = v["style"];
  const std::vector<double> probs = st["probs"].get<std::vector<double>>();
  REQUIRE(probs.size() == 10);
  double sum = 0;
  for (double q : probs) sum += q;
  CHECK(sum == Approx(1).epsilon(1e-5));
  const int predicted = st["predicted"];
  CHECK(predicted == int(std::max_element(probs.begin(), probs.end()) - probs.begin()));
  CHECK(st["label"] == predicted);
  CHECK(st["picked"] == -1);
  CHECK(st["images"] == 10);
  CHECK(st["grid"]["cells"] == 64);
  CHECK(st["grid"]["label"] == predicted);
  CHECK(st["map_points"] == 20);

  // The reference passes: the style read by the plain model for the predicted label, drawn by each label's.
  const std::vector<float>& input = app.analysis.input;
  vae::Workspace ws;
  vae::vae_encode(vae::cvae_for_label(m, predicted), Eigen::Map<const vae::Matrix>(input.data(), 784, 1), ws);
  const vae::Matrix mu = ws.mu;
  REQUIRE(app.analysis.mu.size() == 2);
  CHECK(std::abs(app.analysis.mu[0] - mu(0, 0)) < 1e-4f);
  CHECK(std::abs(app.analysis.mu[1] - mu(1, 0)) < 1e-4f);
  const StylePanel& p = panel<StylePanel>(app);
  vae::Matrix img;
  for (int t = 0; t < 10; ++t) {
    INFO("as a " << t);
    vae::vae_decode(vae::cvae_for_label(m, t), mu, ws, img);
    const std::vector<float> got = image_at(p.digits, t, 784);
    CHECK((Eigen::Map<const Eigen::VectorXf>(got.data(), 784) - img.col(0)).cwiseAbs().maxCoeff() < 1e-4f);
  }

  // The panels that need a plain VAE say so, in one line with a way back; the rest keep working.
  CHECK(unavailable(app) == std::vector<std::string>{"Code", "Map", "Repair", "Grid", "Samples", "Compare"});
  CHECK(has_widget(app, "need_grid"));
  CHECK_FALSE(has_widget(app, "grid"));
  CHECK(has_widget(app, "undo"));
}

TEST_CASE("a tap on a class bar reads the style as that digit; a digit or a cell goes to a morph slot or the canvas") {
  App app = app_from_file(cvae_file(small_cvae()), "mnist-cvae");
  app_demo_drawing(app);
  HeadlessUi ui(1400, 2400);
  for (int f = 0; f < 3; ++f) ui.frame(app);
  Finger finger{app, ui};
  const int other = (state(app)["style"]["predicted"].get<int>() + 3) % 10;
  finger.tap(centre(widget(app, "style_bar_" + std::to_string(other))));
  CHECK(state(app)["style"]["picked"] == other);
  CHECK(state(app)["style"]["label"] == other);
  CHECK(app.analysis.label == other);

  // Digit 4 of the sheet (five to a row) to slot A: the drawing's code with label 4.
  const Rect d = widget(app, "style_digits");
  finger.tap(ImVec2(d.x + d.w * 0.9f, d.y + d.w * 0.1f));
  CHECK(state(app)["style"]["pick"]["kind"] == "digit");
  CHECK(state(app)["style"]["pick"]["index"] == 4);
  finger.tap(centre(widget(app, "style_to_a")));
  CHECK(app.slot_a.z == app.analysis.mu);
  CHECK(app.slot_a.label == vae::onehot_labels(10, 4, 1));
  CHECK(app.slot_a.image == image_at(panel<StylePanel>(app).digits, 4, 784));

  // The grid's top-left cell to slot B: the style plane of `other` (the drawing's label, followed).
  const Rect g = widget(app, "style_grid");
  finger.tap(ImVec2(g.x + 2, g.y + 2));
  CHECK(state(app)["style"]["pick"]["kind"] == "cell");
  CHECK(state(app)["style"]["pick"]["index"] == 0);
  finger.tap(centre(widget(app, "style_to_b")));
  CHECK(app.slot_b.label == vae::onehot_labels(10, other, 1));
  ui.frame(app);
  CHECK(state(app)["morph"] == MorphPanel::kFrames);
  // The morph's ends are the slots' own images: its labels go from A's to B's with its codes.
  const MorphPanel& morph = panel<MorphPanel>(app);
  const std::vector<float> first = image_at(morph.images, 0, 784), last = image_at(morph.images, MorphPanel::kFrames - 1, 784);
  for (size_t i = 0; i < first.size(); ++i) {
    REQUIRE(first[i] == Approx(app.slot_a.image[i]).margin(1e-5));
    REQUIRE(last[i] == Approx(app.slot_b.image[i]).margin(1e-5));
  }

  const uint64_t revision = app.drawing.revision;
  finger.tap(centre(widget(app, "style_to_canvas")));
  CHECK(app.drawing.revision != revision);
  // A second tap on the picked bar gives the label back to the classifier.
  finger.tap(centre(widget(app, "style_bar_" + std::to_string(other))));
  CHECK(state(app)["style"]["picked"] == -1);
}

TEST_CASE("each kind of model in a panel that needs the other says so; switching models keeps the drawing") {
  App app = app_from_file(plain_file(), "mnist-z2");
  app_demo_drawing(app);
  HeadlessUi ui(1400, 2400);
  for (int f = 0; f < 3; ++f) ui.frame(app);
  CHECK(state(app)["style"].is_null());
  CHECK(unavailable(app) == std::vector<std::string>{"Style"});
  Finger finger{app, ui};
  finger.tap(centre(widget(app, "need_style")));
  CHECK(app.requested_model == "mnist-cvae");
  CHECK(app.model_name == "mnist-z2");  // asked for, not yet loaded: nothing changes

  const size_t strokes = app.drawing.strokes.size();
  std::vector<uint8_t> bytes;
  REQUIRE(vae::st_serialize(cvae_file(small_cvae()), vae::DType::F16, bytes).ok());
  REQUIRE(app_load_model(app, "mnist-cvae", bytes.data(), bytes.size()).ok());
  for (int f = 0; f < 3; ++f) ui.frame(app);
  CHECK(app.drawing.strokes.size() == strokes);
  CHECK(state(app)["style"]["images"] == 10);

  // A damaged conditional file (its classifier's output layer gone): one line, and the model in use stays.
  vae::StFile broken = cvae_file(small_cvae());
  broken.tensors.erase(std::remove_if(broken.tensors.begin(), broken.tensors.end(),
                                      [](const vae::StTensor& t) { return t.name == "classifier.out.weight"; }),
                       broken.tensors.end());
  REQUIRE(vae::st_serialize(broken, vae::DType::F32, bytes).ok());
  CHECK_FALSE(app_load_model(app, "broken", bytes.data(), bytes.size()).ok());
  CHECK(app.message.find("could not load model broken") == 0);
  CHECK(app.message.find("classifier.out.weight") != std::string::npos);
  CHECK(app.model_name == "mnist-cvae");
  CHECK(app.conditional);

  REQUIRE(vae::st_serialize(plain_file(), vae::DType::F32, bytes).ok());
  REQUIRE(app_load_model(app, "mnist-z2", bytes.data(), bytes.size()).ok());
  for (int f = 0; f < 3; ++f) ui.frame(app);
  CHECK_FALSE(app.conditional);
  CHECK(unavailable(app) == std::vector<std::string>{"Style"});
  CHECK(app.drawing.strokes.size() == strokes);
  CHECK(state(app)["grid"]["cells"] == 400);
}
