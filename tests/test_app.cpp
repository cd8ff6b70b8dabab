// The studio's state changes without a window: loading models (a bad one keeps the current model), the
// drawing's analysis, the grid, samples, the morph, percentiles, exports and the state JSON.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "hostile_files.hpp"
#include "vae/safetensors.hpp"
#include "vae/train.hpp"

using namespace app;

namespace {

std::vector<uint8_t> model_bytes(int Z, uint64_t seed, bool with_map) {
  vae::Arch a;
  a.hidden = {32};
  a.Z = Z;
  vae::Vae m = vae::vae_make(a, seed);
  vae::StFile f = vae::model_to_st(m, {{"dataset", "mnist"}});
  if (with_map) {
    // A tiny map: the codes of a few made-up means.
    std::vector<float> means;
    std::vector<uint8_t> labels;
    vae::Pcg32 rng(seed, 3);
    for (int i = 0; i < 50; ++i) {
      for (int j = 0; j < Z; ++j) means.push_back(rng.normal() * (j + 1));
      labels.push_back(uint8_t(i % 10));
    }
    vae::LatentMap map;
    REQUIRE(vae::latent_map_from_means(means.data(), labels.data(), 50, Z, "test", map).ok());
    vae::latent_map_to_st(map, f);
  }
  std::vector<uint8_t> bytes;
  REQUIRE(vae::st_serialize(f, vae::DType::F32, bytes).ok());
  return bytes;
}

App loaded_app(int Z = 2, bool with_map = true) {
  App app;
  const std::vector<uint8_t> b = model_bytes(Z, 1, with_map);
  REQUIRE(app_load_model(app, "test-z" + std::to_string(Z), b.data(), b.size()).ok());
  return app;
}

}  // namespace

TEST_CASE("a model that fails to load leaves the current model and says why") {
  App app = loaded_app();
  const uint64_t gen = app.model_generation;
  const std::string junk = "not a model";
  app.loading_model = "broken";
  CHECK_FALSE(app_load_model(app, "broken", reinterpret_cast<const uint8_t*>(junk.data()), junk.size()).ok());
  CHECK(app.model_name == "test-z2");
  CHECK(app.model_generation == gen);
  CHECK(app.loading_model.empty());
  CHECK_THAT(app.message, Catch::Contains("broken"));
  app_load_failed(app, "missing", "HTTP 404");
  CHECK(app.model_name == "test-z2");
  CHECK_THAT(app.message, Catch::Contains("404"));
}

TEST_CASE("every hostile model file is refused with its problem and the studio keeps the model it had") {
  App app = loaded_app();
  app_demo_drawing(app);
  app_update(app);
  const vae::Buffer<float> params = app.model.params;
  const std::vector<float> z = app.analysis.mu;
  const uint64_t gen = app.model_generation;
  for (const hostile::File& h : hostile::files()) {
    INFO(h.what);
    CHECK_FALSE(app_load_model(app, "hostile", h.bytes.data(), h.bytes.size()).ok());
    CHECK(app.model_name == "test-z2");
    CHECK(app.model_generation == gen);
    CHECK(app.model.params == params);
    CHECK_THAT(app.message, Catch::StartsWith("could not load model hostile: ") && Catch::Contains(h.problem));
    CHECK(app.message.find('\n') == std::string::npos);
  }
  app_update(app);  // and it goes on working with the model it had
  CHECK(app.analysis.mu == z);
  CHECK(app.seen_models.size() == 1);
}

TEST_CASE("an empty canvas gives a hint state, not a reconstruction") {
  App app = loaded_app();
  app_update(app);
  CHECK(app.analysis.empty);
  CHECK(app.analysis.mu.empty());
  const std::string j = app_state_json(app);
  CHECK_THAT(j, Catch::Contains("\"empty\":true"));
  CHECK_THAT(j, Catch::Contains("\"elbo\":null"));
}

TEST_CASE("a drawing is encoded, reconstructed and scored, and only recomputed when it changes") {
  App app = loaded_app();
  app_demo_drawing(app);
  app_update(app);
  const Analysis& an = app.analysis;
  REQUIRE_FALSE(an.empty);
  CHECK(an.mu.size() == 2);
  CHECK(an.sigma.size() == 2);
  CHECK(an.recon.size() == 784);
  CHECK(an.samples.size() == size_t(kPosteriorSamples) * 784);
  CHECK(app.analysis_has_iw);
  const uint64_t v = app.analysis_version;
  app_update(app);
  CHECK(app.analysis_version == v);  // nothing changed, nothing recomputed
  drawing_undo(app.drawing);
  app_update(app);
  CHECK(app.analysis_version == v + 1);
  app.plain_input = true;
  app_update(app);
  CHECK(app.analysis_version == v + 2);
}

TEST_CASE("a hand-made model whose figures are known exactly gives them for the drawing") {
  // All weights zero: q(z|x) = N(mu_b, diag exp(logvar_b)) whatever x is, and every pixel's logit is b whatever
  // z is. So -log p(x|z) = sum_d softplus(b) - x_d b for every z, the KL has its closed form, and p(x) = p(x|z).
  // The importance-weighted bound is then log p(x) + log mean_k w_k with w = p(z)/q(z), E[w] = 1 and
  // E[w^2] = prod_j s_j / sqrt(2 - 1/s_j^2) exp(m_j^2 / (2 s_j^2 - 1)) = 1.255 * e for the q below, so with
  // K = 500 its standard error is sqrt((3.41 - 1) / 500) = 0.07 nats.
  vae::Arch a;
  a.hidden = {16};
  a.Z = 2;
  vae::Vae m = vae::vae_make(a, 3);
  std::fill(m.params.begin(), m.params.end(), 0.f);
  const float b = std::log(0.1f / 0.9f);  // every pixel on with probability 0.1
  m.params[m.layout.enc_mu.b] = 0.5f;
  m.params[m.layout.enc_mu.b + 1] = -1.f;
  m.params[m.layout.enc_logvar.b] = std::log(2.f);
  m.params[m.layout.enc_logvar.b + 1] = 0.f;
  for (int d = 0; d < 784; ++d) m.params[m.layout.dec_out.b + size_t(d)] = b;
  std::vector<uint8_t> bytes;
  REQUIRE(vae::st_serialize(vae::model_to_st(m, {}), vae::DType::F32, bytes).ok());
  App app;
  REQUIRE(app_load_model(app, "hand-made", bytes.data(), bytes.size()).ok());
  app_demo_drawing(app);
  app_update(app);
  const Analysis& an = app.analysis;
  REQUIRE_FALSE(an.empty);
  const double softplus_b = std::log1p(std::exp(double(b)));
  double rec = 0;
  for (float x : an.input) rec += softplus_b - double(x) * b;
  // KL = 1/2 sum_j (mu^2 + sigma^2 - 1 - log sigma^2) = 1/2 (1/4 + 2 - 1 - log 2) + 1/2 (1 + 1 - 1 - 0)
  const double kl = 0.5 * (0.25 + 2 - 1 - std::log(2.0)) + 0.5;
  CHECK(an.mu[0] == Approx(0.5));
  CHECK(an.mu[1] == Approx(-1));
  CHECK(an.sigma[0] == Approx(std::sqrt(2.0)));
  CHECK(an.sigma[1] == Approx(1));
  CHECK(an.kl == Approx(kl).epsilon(1e-5));
  CHECK(an.rec == Approx(rec).epsilon(1e-5));
  CHECK(an.elbo() == Approx(-rec - kl).epsilon(1e-5));
  for (float r : an.recon) CHECK(r == Approx(0.1f).epsilon(1e-5));
  // log p(x) of the binarised drawing: its ones and zeros under Bernoulli(0.1).
  std::vector<float> binary(an.input.size());
  vae::binarize(an.input.data(), an.input.size(), kAnalysisSeed, binary.data());
  double log_px = 0;
  for (float x : binary) log_px += x > 0.5f ? std::log(0.1) : std::log(0.9);
  CHECK(std::fabs(an.log_px - log_px) < 5 * 0.07);
}

TEST_CASE("while a stroke is open log p(x) is not recomputed, and it is once the stroke ends") {
  App app = loaded_app();
  drawing_begin_stroke(app.drawing, 0.08f, false);
  drawing_add_point(app.drawing, 0.3f, 0.3f);
  drawing_add_point(app.drawing, 0.6f, 0.7f);
  app_update(app);
  CHECK_FALSE(app.analysis.empty);
  CHECK_FALSE(app.analysis_has_iw);
  drawing_end_stroke(app.drawing);
  app_update(app);
  CHECK(app.analysis_has_iw);
}

TEST_CASE("the grid decodes N x N cells in one batch and follows its view") {
  App app = loaded_app();
  panel<GridPanel>(app).view.n = 7;
  app_update(app);
  CHECK(panel<GridPanel>(app).images.size() == size_t(49) * 784);
  CHECK(panel<GridPanel>(app).codes.size() == size_t(49) * 2);
  // Cell (0, 0) is the top-left: smallest a, largest b.
  CHECK(panel<GridPanel>(app).codes[0] < 0);
  CHECK(panel<GridPanel>(app).codes[1] > 0);
  const uint64_t v = panel<GridPanel>(app).version;
  panel<GridPanel>(app).view.center_a = 1.f;
  app_update(app);
  CHECK(panel<GridPanel>(app).version == v + 1);
  CHECK(panel<GridPanel>(app).codes[0] == Approx(1.f + vae::grid_axis(7, vae::GridSpacing::InverseCdf, 3.f)[0]));
}

TEST_CASE("with a frame budget the grid is decoded a row per call and shown only once every row is done") {
  App whole = loaded_app();
  panel<GridPanel>(whole).view.n = 6;
  app_update(whole);  // no budget: the whole grid at once
  REQUIRE(panel<GridPanel>(whole).images.size() == size_t(36) * 784);

  App app = loaded_app();
  panel<GridPanel>(app).view.n = 6;
  app.work_budget_ms = 1e-9;  // spent before the grid starts: one row per call
  for (int call = 1; call < 6; ++call) {
    app_update(app);
    INFO("call " << call);
    CHECK(app_busy(app));
    CHECK(panel<GridPanel>(app).job.rows_done == call);
    CHECK(panel<GridPanel>(app).images.empty());  // nothing shown until the last row
    CHECK_THAT(app_state_json(app), Catch::Contains("\"pending\":true"));
  }
  app_update(app);
  CHECK_FALSE(app_busy(app));
  CHECK(panel<GridPanel>(app).done == panel<GridPanel>(app).view);
  CHECK(panel<GridPanel>(app).codes == panel<GridPanel>(whole).codes);
  REQUIRE(panel<GridPanel>(app).images.size() == panel<GridPanel>(whole).images.size());
  for (size_t i = 0; i < panel<GridPanel>(app).images.size(); ++i) REQUIRE(panel<GridPanel>(app).images[i] == Approx(panel<GridPanel>(whole).images[i]).margin(1e-6));

  // A view that moves while a job runs: the job finishes its view, then the newest view follows.
  const uint64_t v = panel<GridPanel>(app).version;
  panel<GridPanel>(app).view.center_a = 0.5f;
  app_update(app);
  panel<GridPanel>(app).view.center_a = 1.0f;
  for (int call = 0; call < 5; ++call) app_update(app);
  CHECK(panel<GridPanel>(app).version == v + 1);
  CHECK(panel<GridPanel>(app).done.center_a == 0.5f);
  CHECK(app_busy(app));
  for (int call = 0; call < 6; ++call) app_update(app);
  CHECK(panel<GridPanel>(app).version == v + 2);
  CHECK(panel<GridPanel>(app).done.center_a == 1.0f);
  CHECK_FALSE(app_busy(app));

  // A new model restarts a job begun with the old one.
  panel<GridPanel>(app).view.center_b = 0.5f;
  app_update(app);
  app_update(app);
  REQUIRE(panel<GridPanel>(app).job.rows_done == 2);
  const std::vector<uint8_t> other = model_bytes(2, 7, true);
  REQUIRE(app_load_model(app, "other", other.data(), other.size()).ok());
  app_update(app);
  CHECK(panel<GridPanel>(app).job.rows_done == 1);
  CHECK(panel<GridPanel>(app).job.generation == app.model_generation);

  // A generous budget finishes a grid in one call.
  app.work_budget_ms = 1e6;
  app_update(app);
  CHECK_FALSE(app_busy(app));
  CHECK(panel<GridPanel>(app).generation == app.model_generation);
}

TEST_CASE("the latent map's raster puts each point's dot where the panel shows it, in its label's colour") {
  vae::LatentMap map;
  map.kind = "latent";
  map.points = {0.f, 0.f, 0.5f, 0.25f, 9.f, 9.f};  // the centre, up and to the right, far outside the view
  map.labels = {1, 12, 3};
  const float view[3] = {0.f, 0.f, 2.f};  // the square [-1, 1]^2: 20 pixels per unit on 40 pixels
  uint32_t palette[10];
  for (int d = 0; d < 10; ++d) palette[d] = 0xFF000000u | uint32_t(20 * d);  // opaque, red 20 d
  const uint32_t bg = 0xFF102030u;  // red 0x30, green 0x20, blue 0x10
  const int side = 40;
  const std::vector<uint8_t> px = map_raster(map, view, side, 2.f, palette, bg);
  REQUIRE(px.size() == size_t(side) * side * 4);
  auto red = [&](int x, int y) { return int(px[(size_t(y) * side + size_t(x)) * 4]); };
  // A 2-pixel dot centred on a pixel corner covers the 2x2 pixels around it; b grows upwards.
  for (int y : {19, 20})
    for (int x : {19, 20}) CHECK(red(x, y) == 20);   // point 0 at (20, 20), label 1
  for (int y : {14, 15})
    for (int x : {29, 30}) CHECK(red(x, y) == 40);   // point 1 at (30, 15), label 12 -> colour 2
  int inked = 0;
  for (int i = 0; i < side * side; ++i) inked += px[size_t(i) * 4] != 0x30 || px[size_t(i) * 4 + 3] != 0xFF;
  CHECK(inked == 8);  // the third point is outside and clipped
  // A translucent colour is blended over the background: 200 a + 48 (1 - a) with a = 128/255.
  palette[1] = 0x800000C8u;
  CHECK(int(map_raster(map, view, side, 2.f, palette, bg)[(size_t(20) * side + 20) * 4]) == 124);
}

TEST_CASE("for a model with more than two latent dimensions the grid lies in the map's plane through the drawing") {
  App app = loaded_app(5);
  REQUIRE(app.map.kind == "pca");
  app_demo_drawing(app);
  panel<GridPanel>(app).view.n = 5;
  app_update(app);
  // Every cell's code projects back onto its cell's plane coordinates.
  for (int cell : {0, 12, 24}) {
    float a = 0, b = 0;
    grid_cell_plane(panel<GridPanel>(app).view, cell / 5, cell % 5, a, b);
    std::vector<float> z(panel<GridPanel>(app).codes.begin() + cell * 5, panel<GridPanel>(app).codes.begin() + cell * 5 + 5);
    float ab[2];
    latent_to_plane(app.map, z, ab);
    CHECK(ab[0] == Approx(a).margin(1e-3));
    CHECK(ab[1] == Approx(b).margin(1e-3));
  }
}

TEST_CASE("prior samples follow count, temperature and seed") {
  App app = loaded_app();
  app_update(app);
  CHECK(panel<SamplesPanel>(app).images.size() == size_t(panel<SamplesPanel>(app).count) * 784);
  const std::vector<float> before = panel<SamplesPanel>(app).codes;
  panel<SamplesPanel>(app).temperature = 0.5f;
  app_update(app);
  for (size_t i = 0; i < before.size(); ++i) CHECK(panel<SamplesPanel>(app).codes[i] == Approx(0.5f * before[i]));
  ++panel<SamplesPanel>(app).seed;
  app_update(app);
  CHECK(panel<SamplesPanel>(app).codes != before);
}

TEST_CASE("the morph runs from slot A to slot B, linearly or along the sphere") {
  App app = loaded_app();
  app_demo_drawing(app);
  app_update(app);
  CHECK(panel<MorphPanel>(app).images.empty());
  REQUIRE(app_slot_from_drawing(app, app.slot_a));
  const float zb[2] = {1.5f, -1.f};
  app_slot_from_code(app, "sample 1", zb, app.slot_b);
  app_update(app);
  REQUIRE(panel<MorphPanel>(app).codes.size() == size_t(MorphPanel::kFrames) * 2);
  CHECK(panel<MorphPanel>(app).codes[0] == Approx(app.slot_a.z[0]));
  CHECK(panel<MorphPanel>(app).codes[size_t(MorphPanel::kFrames - 1) * 2] == Approx(1.5f));
  CHECK(panel<MorphPanel>(app).images.size() == size_t(MorphPanel::kFrames) * 784);
  const std::vector<float> linear = panel<MorphPanel>(app).codes;
  panel<MorphPanel>(app).slerp = true;
  app_update(app);
  CHECK(panel<MorphPanel>(app).codes != linear);
  // Spherical interpolation keeps the norm between the two ends' norms.
  const float na = std::hypot(app.slot_a.z[0], app.slot_a.z[1]), nb = std::hypot(1.5f, -1.f);
  const size_t mid = size_t(MorphPanel::kFrames / 2) * 2;
  const float nm = std::hypot(panel<MorphPanel>(app).codes[mid], panel<MorphPanel>(app).codes[mid + 1]);
  CHECK(nm >= std::min(na, nb) - 1e-3f);
  CHECK(nm <= std::max(na, nb) + 1e-3f);
}

TEST_CASE("a slot filled again with a code that differs only in a later dimension gets a new thumbnail key") {
  App app = loaded_app(5, false);
  const float z1[5] = {0.5f, -1.f, 0.25f, 2.f, 0.f}, z2[5] = {0.5f, -1.f, 0.25f, -2.f, 0.f};
  Slot a, b;
  app_slot_from_code(app, "sample 1", z1, a);
  app_slot_from_code(app, "sample 1", z2, b);
  REQUIRE(a.image != b.image);  // the two codes decode to different images...
  CHECK(slot_key(a, app.model_generation) != slot_key(b, app.model_generation));  // ...so the thumbnail changes
  CHECK(slot_key(a, app.model_generation) == slot_key(a, app.model_generation));
  CHECK(slot_key(a, app.model_generation) != slot_key(a, app.model_generation + 1));
  // The morph follows the later dimension too.
  app.slot_a = a;
  app.slot_b = a;
  app_update(app);
  const uint64_t v = panel<MorphPanel>(app).version;
  app.slot_b = b;
  app_update(app);
  CHECK(panel<MorphPanel>(app).version == v + 1);
  CHECK(panel<MorphPanel>(app).codes[size_t(MorphPanel::kFrames - 1) * 5 + 3] == Approx(-2.f));
}

TEST_CASE("a grid cell sent to the canvas becomes one undoable drawing step") {
  App app = loaded_app();
  panel<GridPanel>(app).view.n = 5;
  app_update(app);
  const std::vector<float> cell(panel<GridPanel>(app).images.begin(), panel<GridPanel>(app).images.begin() + 784);
  app_send_to_canvas(app, cell);
  app_update(app);
  CHECK(app.drawing.strokes.size() == 1);
  CHECK_FALSE(app.analysis.empty);
  drawing_undo(app.drawing);
  app_update(app);
  CHECK(app.analysis.empty);
}

TEST_CASE("a drawing is placed among the test set's log p(x) by percentile") {
  std::vector<double> q(101);
  for (int p = 0; p <= 100; ++p) q[size_t(p)] = 80.0 + p;  // NLL 80 at the 0th percentile .. 180 at the 100th
  CHECK(percentile_of_nll(q, 70) == Approx(100));   // more likely than every test image
  CHECK(percentile_of_nll(q, 130) == Approx(50));
  CHECK(percentile_of_nll(q, 179.5) == Approx(0.5));
  CHECK(percentile_of_nll(q, 400) == Approx(0));
  CHECK(percentile_of_nll({}, 100) < 0);
  vae::Metadata meta{{"test.nll_percentiles", "1,2,3"}};
  CHECK(nll_percentiles_from_meta(meta).empty());  // not 101 values
}

TEST_CASE("saving queues a PNG for the platform, and nothing for an empty canvas's reconstruction") {
  App app = loaded_app();
  app_update(app);
  encoding_save(app);
  CHECK(app.saves.empty());
  CHECK_THAT(app.message, Catch::Contains("nothing to save"));
  app_demo_drawing(app);
  app_update(app);
  canvas_save(app);
  encoding_save(app);
  grid_save(app, panel<GridPanel>(app));
  REQUIRE(app.saves.size() == 3);
  CHECK(app.saves[2].first == "vae-grid.png");
  for (const auto& s : app.saves) CHECK(s.second.size() > 8);
  CHECK(app.saves[0].second[1] == 'P');  // \x89PNG
}

TEST_CASE("the state JSON parses and carries the code, the ELBO and the frame") {
  App app = loaded_app();
  app_demo_drawing(app);
  app_update(app);
  app.frame = 42;
  const nlohmann::json v = nlohmann::json::parse(app_state_json(app), nullptr, false);
  REQUIRE(v.is_object());
  REQUIRE(v.contains("z"));
  CHECK(v["z"].size() == 2);
  CHECK(v["frame"] == 42);
  CHECK(v["model"] == "test-z2");
  CHECK(v["elbo"].is_number_float());
  CHECK(v["map_points"] == 50);
  CHECK(v["model_metadata"] == true);
}

TEST_CASE("the models panel keeps every model loaded so far, with its figures") {
  App app = loaded_app();
  const std::vector<uint8_t> b = model_bytes(5, 2, false);
  REQUIRE(app_load_model(app, "other", b.data(), b.size()).ok());
  REQUIRE(app.seen_models.size() == 2);
  CHECK(app.seen_models[0].name == "test-z2");
  CHECK(app.seen_models[1].arch == "784-32-[5]-32-784");
  CHECK(app.seen_models[1].parameters == size_t(784 * 32 + 32 + 2 * (32 * 5 + 5) + 5 * 32 + 32 + 32 * 784 + 784));
  CHECK(vae::meta_get(app.seen_models[1].meta, "dataset") == "mnist");
  // Loading one again replaces its entry rather than adding another.
  REQUIRE(app_load_model(app, "other", b.data(), b.size()).ok());
  CHECK(app.seen_models.size() == 2);
}
