// The studio's state changes that need no window: loading a model from bytes, the once-per-frame update, slots,
// exports, and describing the app as JSON.
#include "app/app.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <utility>

#include "app/export.hpp"
#include "app/input_key.hpp"
#include "app/json_out.hpp"
#include "app/share.hpp"
#include "vae/safetensors.hpp"

namespace app {

vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size) {
  if (app.loading_model == name) {
    app.loading_model.clear();
    app.loading_progress = -1.f;
  }
  vae::StFile f;
  vae::Vae m;
  vae::Cvae c;
  vae::LatentMap map;
  vae::Pca pca;
  vae::Status s = vae::st_parse(bytes, size, f);
  // A label-conditioned model (it says how many labels) carries its plain model for each label.
  const bool conditional = s && !f.meta(vae::kMetaClasses, "").empty();
  if (s && conditional) {
    s = vae::cvae_from_st(f, c);
    if (s) m = vae::cvae_for_label(c, 0);
  } else if (s) {
    s = vae::model_from_st(f, m);
  }
  if (s) s = vae::latent_map_from_st(f, m.arch.Z, map);
  if (s) s = vae::pca_from_st(f, m.arch.D, pca);
  if (!s) {
    app.message = "could not load model " + name + ": " + s.message();
    return s;
  }
  ModelSummary summary{name,
                       conditional ? m.arch.describe() + " conditioned on " + std::to_string(c.C) + " labels"
                                   : m.arch.describe(),
                       vae::layout_parameter_count(conditional ? c.net.layout : m.layout), f.metadata};
  auto seen = std::find_if(app.seen_models.begin(), app.seen_models.end(),
                           [&name](const ModelSummary& x) { return x.name == name; });
  if (seen != app.seen_models.end()) *seen = std::move(summary);
  else app.seen_models.push_back(std::move(summary));
  app.infer = vae::infer_make(m);
  app.conditional = conditional;
  app.cinfer = conditional ? vae::infer_make_conditional(c) : vae::CvaeInfer{};
  app.style_label = -1;
  app.model = std::move(m);
  app.model_meta = std::move(f.metadata);
  app.map = std::move(map);
  app.pca = std::move(pca);
  app.nll_percentiles = nll_percentiles_from_meta(app.model_meta);
  app.model_name = name;
  app.message.clear();
  ++app.model_generation;
  // Codes from another model mean nothing to this one; each panel resets what it must when it sees the new
  // generation.
  app.slot_a = app.slot_b = Slot{};
  return s;
}

void app_load_failed(App& app, const std::string& name, const std::string& why) {
  if (app.loading_model == name) {
    app.loading_model.clear();
    app.loading_progress = -1.f;
  }
  app.message = "could not load model " + name + ": " + why;
}

vae::Status app_load_digits(Shared& s, const uint8_t* bytes, size_t size) {
  vae::DigitSample d;
  const vae::Status st = vae::digits_parse(bytes, size, d);
  if (!st) {
    app_digits_failed(s, st.message());
    return st;
  }
  s.digits = std::move(d);
  s.digits_state = Shared::Digits::Ready;
  s.digits_error.clear();
  return st;
}

void app_digits_failed(Shared& s, const std::string& why) {
  s.digits_state = Shared::Digits::Failed;
  s.digits_error = std::string("could not load the test digits (") + kDigitsFile + "): " + why;
}

const std::vector<float>& app_drawing_code(const Shared& s) { return s.analysis.mu; }

namespace {

void update_analysis(Shared& app) {
  const Drawing& d = app.drawing;
  if (app.analyzed_revision == d.revision && app.analyzed_generation == app.model_generation &&
      app.analyzed_plain == app.plain_input && app.analyzed_open == d.stroke_open &&
      app.analyzed_label == app.style_label)
    return;
  const bool drawing_changed = app.analyzed_revision != d.revision;
  if (drawing_changed) {
    drawing_rasterize(d, kRasterSide, app.raster);
    app.mnist_input = preprocess_mnist(app.raster.data(), kRasterSide, kRasterSide);
    app.plain_result = preprocess_plain(app.raster.data(), kRasterSide, kRasterSide);
  }
  const PreprocessResult& in = app.plain_input ? app.plain_result : app.mnist_input;
  const bool want_iw = !d.stroke_open;  // while a stroke is open, keep the last log p(x) (it costs 500 decodes)
  if (int(in.image.size()) == app.model.arch.D) {
    const double keep_log_px = app.analysis.log_px, keep_pct = app.analysis.percentile;
    if (in.empty) {
      app.analysis = Analysis{};
      app.analysis.input = in.image;
    } else if (app.conditional) {
      analyze_input_conditional(app.cinfer, in.image, app.style_label, app.analysis);
    } else {
      analyze_input(app.infer, in.image, app.nll_percentiles, app.analysis, want_iw);
      if (!want_iw) {
        app.analysis.log_px = keep_log_px;
        app.analysis.percentile = keep_pct;
      }
    }
    app.analysis_has_iw = want_iw && !in.empty && !app.conditional;
  } else {
    app.analysis = Analysis{};
  }
  app.analyzed_revision = d.revision;
  app.analyzed_generation = app.model_generation;
  app.analyzed_plain = app.plain_input;
  app.analyzed_open = d.stroke_open;
  app.analyzed_label = app.style_label;
  ++app.analysis_version;
}

}  // namespace

void app_update(App& app) {
  if (app.model_name.empty()) return;
  app.update_start = std::chrono::steady_clock::now();
  if (!app.drawing.strokes.empty() || app.drawing.stroke_open) app.first_run_hint = false;  // drawn, or opened
  update_analysis(app);
  bool busy = false;
  for_each_panel(app.panels, [&app, &busy](auto& p) {
    if (app_model_meets(app, std::decay_t<decltype(p)>::kNeeds)) busy = panel_update(app, p) || busy;
  });
  app.busy = busy;
}

bool app_busy(const App& app) { return !app.model_name.empty() && app.busy; }

uint64_t slot_key(const Slot& slot, uint64_t model_generation) {
  return InputKey().add(slot.what).add(slot.z).add(slot.label).add(model_generation).value();
}

bool app_model_meets(const Shared& s, Needs needs) {
  return needs == Needs::Any || (needs == Needs::Conditional) == s.conditional;
}

bool app_slot_from_drawing(const Shared& app, Slot& slot) {
  if (app.analysis.empty) return false;
  slot.what = app.conditional ? "drawing, read as " + std::to_string(app.analysis.label) : "drawing";
  slot.z = app.analysis.mu;
  slot.label = app.conditional ? vae::onehot_labels(app.cinfer.C, app.analysis.label, 1) : std::vector<float>();
  slot.image = app.analysis.input;
  return true;
}

void app_slot_from_code(const Shared& app, const std::string& what, const float* z, Slot& slot, int y) {
  slot.what = what;
  slot.z.assign(z, z + app.model.arch.Z);
  slot.label = app.conditional ? vae::onehot_labels(app.cinfer.C, y, 1) : std::vector<float>();
  app_decode(app, slot.z, slot.label, 1, slot.image);
}

void app_decode(const Shared& s, const std::vector<float>& codes, const std::vector<float>& labels, int count,
                std::vector<float>& images) {
  if (!s.conditional) {
    decode_codes(s.infer, codes, count, images);
    return;
  }
  images.assign(size_t(std::max(count, 0)) * size_t(s.model.arch.D), 0.f);
  if (count <= 0 || labels.size() < size_t(count) * size_t(s.cinfer.C)) return;
  vae::InferScratch scratch;
  vae::infer_decode_conditional(s.cinfer, codes.data(), labels.data(), count, images.data(), scratch);
}

void app_send_to_canvas(Shared& app, const std::vector<float>& image) {
  const vae::Arch& a = app.model.arch;
  if (int(image.size()) == a.D) drawing_from_image(image.data(), a.image_cols, a.image_rows, app.drawing);
}

void app_save_images(Shared& s, const std::string& name, const std::vector<float>& images, int count,
                     int cols_per_row, int scale) {
  const Sheet sh = tile_images(images, count, s.model.arch.image_rows, cols_per_row);
  std::vector<uint8_t> png = png_encode_gray(sh.pixels, sh.width, sh.height, scale);
  if (png.empty()) {
    s.message = "could not encode " + name;
    return;
  }
  s.saves.emplace_back(name, std::move(png));
}

double app_update_ms(const Shared& s) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s.update_start).count();
}

std::vector<float> image_at(const std::vector<float>& images, int index, int D) {
  return std::vector<float>(images.begin() + std::ptrdiff_t(size_t(index) * D),
                            images.begin() + std::ptrdiff_t(size_t(index + 1) * D));
}

void app_demo_drawing(App& app) {
  const float strokes[2][3][2] = {{{0.28f, 0.27f}, {0.50f, 0.25f}, {0.72f, 0.26f}},
                                  {{0.72f, 0.26f}, {0.58f, 0.52f}, {0.46f, 0.80f}}};
  for (const auto& stroke : strokes) {
    drawing_begin_stroke(app.drawing, app.brush_width, false);
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k <= 8; ++k) {  // 8 points per segment, like a pointer's samples
        const float t = k / 8.f;
        drawing_add_point(app.drawing, stroke[i][0] + t * (stroke[i + 1][0] - stroke[i][0]),
                          stroke[i][1] + t * (stroke[i + 1][1] - stroke[i][1]));
      }
    drawing_end_stroke(app.drawing);
  }
}

vae::Status app_open_share(App& app, const std::string& text) {
  std::string model;
  const vae::Status s = share_decode(text, app.drawing, model);
  if (!s) app.message = "this link's drawing could not be read (" + s.message() + "); the page opened as usual";
  return s;
}

std::string app_share_text(const App& app, std::string& note) {
  const bool shipped = std::any_of(std::begin(kModelNames), std::end(kModelNames),
                                   [&app](const char* n) { return app.model_name == n; });
  note = shipped ? "" : app.model_name + " is a file of yours, which a link cannot carry: the link opens " +
                            std::string(kModelNames[0]) + " with the drawing";
  return share_encode(app.drawing, shipped ? app.model_name : kModelNames[0]);
}

std::string model_name_from_path(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".safetensors";
  if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
    base.resize(base.size() - ext.size());
  return base;
}

std::string app_state_json(const App& app) {
  Json j;
  j["frame"] = app.frame;
  j["model"] = app.model_name;
  j["arch"] = app.model_name.empty() ? "" : app.model.arch.describe();
  j["loading"] = app.loading_model;
  j["message"] = app.message;
  j["touch"] = app.touch;
  j["hint"] = app.first_run_hint;
  j["help_open"] = app.help_open.empty() ? Json(nullptr) : Json(app.help_open);
  const Layout& l = app.layout;
  j["conditional"] = app.conditional;
  Json unavailable = Json::array();  // the panels whose need the model in use does not meet, by section name
  for_each_panel(app.panels, [&app, &unavailable](const auto& p) {
    using P = std::decay_t<decltype(p)>;
    if (!app_model_meets(app, P::kNeeds)) unavailable.push_back(P::kSection);
  });
  j["unavailable"] = unavailable;
  j["layout"] = {{"columns", l.columns},
                 {"top", l.top},
                 {"scroll", Json(std::vector<float>(l.scroll, l.scroll + std::max(l.columns, 0)))},
                 {"scroll_max", Json(std::vector<float>(l.scroll_max, l.scroll_max + std::max(l.columns, 0)))},
                 {"section", l.current}};
  for_each_panel(app.panels, [&app, &j](const auto& p) { panel_json(app, p, j); });
  Json& widgets = j["widgets"] = Json::object();
  for (const auto& [name, w] : app.widgets)
    widgets[name] = {{"x", w.rect.x}, {"y", w.rect.y}, {"w", w.rect.w}, {"h", w.rect.h}, {"visible", w.visible}};
  return json_text(j);
}

}  // namespace app
