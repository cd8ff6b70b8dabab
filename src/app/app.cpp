// The studio's state changes that need no window: loading a model from bytes, recomputing what changed,
// slots, exports, and describing the app as JSON.
#include "app/app.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

#include "app/export.hpp"
#include "app/input_key.hpp"
#include "vae/json.hpp"
#include "vae/safetensors.hpp"

namespace app {

vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size) {
  if (app.loading_model == name) {
    app.loading_model.clear();
    app.loading_progress = -1.f;
  }
  vae::StFile f;
  vae::Vae m;
  vae::LatentMap map;
  vae::Status s = vae::st_parse(bytes, size, f);
  if (s) s = vae::model_from_st(f, m);
  if (s) s = vae::latent_map_from_st(f, m.arch.Z, map);
  if (!s) {
    app.message = "could not load model " + name + ": " + s.message();
    return s;
  }
  ModelSummary summary{name, m.arch.describe(), vae::layout_parameter_count(m.layout), f.metadata};
  auto seen = std::find_if(app.seen_models.begin(), app.seen_models.end(),
                           [&name](const ModelSummary& x) { return x.name == name; });
  if (seen != app.seen_models.end()) *seen = std::move(summary);
  else app.seen_models.push_back(std::move(summary));
  app.infer = vae::infer_make(m);
  app.model = std::move(m);
  app.model_meta = std::move(f.metadata);
  app.map = std::move(map);
  // The map's view: the square around all its points, with a 5 % margin; once per model, not per frame.
  float lo[2] = {0, 0}, hi[2] = {0, 0};
  for (int i = 0; i < app.map.count(); ++i)
    for (int k = 0; k < 2; ++k) {
      const float v = app.map.points[size_t(2 * i + k)];
      lo[k] = i ? std::min(lo[k], v) : v;
      hi[k] = i ? std::max(hi[k], v) : v;
    }
  app.map_view[0] = (lo[0] + hi[0]) / 2;
  app.map_view[1] = (lo[1] + hi[1]) / 2;
  app.map_view[2] = std::max(1e-3f, std::max(hi[0] - lo[0], hi[1] - lo[1]) * 1.05f);
  app.nll_percentiles = nll_percentiles_from_meta(app.model_meta);
  app.model_name = name;
  app.message.clear();
  ++app.model_generation;
  // Codes from another model mean nothing to this one.
  app.slot_a = app.slot_b = Slot{};
  app.grid = GridView{app.grid.n, app.grid.spacing, app.grid.range};
  app.grid_selected = -1;
  app.grid_images.clear();  // the old model's grid is not shown while the new one's is decoded
  app.grid_codes.clear();
  app.map_active = false;
  return s;
}

void app_load_failed(App& app, const std::string& name, const std::string& why) {
  if (app.loading_model == name) {
    app.loading_model.clear();
    app.loading_progress = -1.f;
  }
  app.message = "could not load model " + name + ": " + why;
}

const std::vector<float>& app_drawing_code(const App& app) { return app.analysis.mu; }

namespace {

void update_analysis(App& app) {
  const Drawing& d = app.drawing;
  if (app.analyzed_revision == d.revision && app.analyzed_generation == app.model_generation &&
      app.analyzed_plain == app.plain_input && app.analyzed_open == d.stroke_open)
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
    } else {
      analyze_input(app.infer, in.image, app.nll_percentiles, app.analysis, want_iw);
      if (!want_iw) {
        app.analysis.log_px = keep_log_px;
        app.analysis.percentile = keep_pct;
      }
    }
    app.analysis_has_iw = want_iw && !in.empty;
  } else {
    app.analysis = Analysis{};
  }
  app.analyzed_revision = d.revision;
  app.analyzed_generation = app.model_generation;
  app.analyzed_plain = app.plain_input;
  app.analyzed_open = d.stroke_open;
  ++app.analysis_version;
}

// For a model with more than two latent dimensions the grid's plane passes through the drawing's code.
std::vector<float> grid_anchor(const App& app) {
  return app.model.arch.Z > 2 ? app.analysis.mu : std::vector<float>();
}

// The grid on show is the view asked for, with the current model and plane.
bool grid_shows_view(const App& app) {
  return app.grid_generation == app.model_generation && app.grid_done == app.grid &&
         app.grid_through == grid_anchor(app);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The grid follows its view a slice of rows at a time: a job starts when the view, the model or the plane's
// anchor moves away from what is on show, decodes whole rows until the budget left in this app_update is spent
// (sized by the last slice's time per cell; at least one row, so it always finishes), and replaces the grid on
// show when its last row is done. A view that moves again meanwhile is taken up by the next job.
void update_grid(App& app, std::chrono::steady_clock::time_point start) {
  const std::vector<float> through = grid_anchor(app);
  GridJob& job = app.grid_job;
  if (job.active && job.generation != app.model_generation) job.active = false;  // its codes mean nothing now
  if (!job.active) {
    if (grid_shows_view(app)) return;
    job.active = true;
    job.view = app.grid;
    job.generation = app.model_generation;
    job.through = through;
    grid_codes(app.map, app.model.arch.Z, through, job.view, job.codes);
    job.images.resize(size_t(job.view.n) * size_t(job.view.n) * size_t(app.model.arch.D));
    job.rows_done = 0;
    // For the whole grid at once: however the frames slice it, the scratch is as large as the largest grid seen.
    vae::infer_reserve_decode(app.infer, job.view.n * job.view.n, job.scratch);
  }
  const int n = job.view.n, Z = app.model.arch.Z, D = app.model.arch.D;
  for (bool first = true; job.rows_done < n; first = false) {
    int rows = n - job.rows_done;
    if (app.work_budget_ms > 0) {
      const double left = app.work_budget_ms - ms_since(start);
      if (!first && left <= 0) break;
      const double per_row = app.grid_ms_per_cell * n;
      if (per_row > 0) rows = std::max(1, std::min(rows, int(left / per_row)));
      else rows = 1;  // no estimate yet: one row measures it
    }
    const auto t0 = std::chrono::steady_clock::now();
    const size_t cell = size_t(job.rows_done) * size_t(n);
    vae::infer_decode(app.infer, job.codes.data() + cell * size_t(Z), rows * n, job.images.data() + cell * size_t(D),
                      job.scratch);
    app.grid_ms_per_cell = ms_since(t0) / double(rows * n);
    job.rows_done += rows;
  }
  if (job.rows_done < n) return;
  job.active = false;
  // Copied, not swapped: each buffer then keeps the capacity of the largest grid it has held, so memory stops
  // growing once the largest grid has been shown (a swap would pass that capacity back and forth).
  app.grid_images.assign(job.images.begin(), job.images.end());
  app.grid_codes.assign(job.codes.begin(), job.codes.end());
  app.grid_done = job.view;
  app.grid_generation = job.generation;
  app.grid_through = job.through;
  if (app.grid_selected >= n * n) app.grid_selected = -1;
  ++app.grid_version;
}

void update_samples(App& app) {
  const uint64_t key = InputKey().add(app.model_generation).add(app.sample_seed).add(app.sample_count)
                           .add(app.temperature).value();
  if (key == app.samples_key) return;
  app.sample_codes = prior_codes(app.model.arch.Z, app.sample_count, app.temperature, app.sample_seed);
  decode_codes(app.infer, app.sample_codes, app.sample_count, app.sample_images);
  app.samples_key = key;
  ++app.samples_version;
}

void update_morph(App& app) {
  const bool ready = !app.slot_a.z.empty() && !app.slot_b.z.empty();
  InputKey k;
  k.add(app.model_generation).add(app.slerp);
  if (ready) k.add(app.slot_a.z).add(app.slot_b.z);
  if (k.value() == app.morph_key) return;
  app.morph_key = k.value();
  app.morph_codes.clear();
  app.morph_images.clear();
  if (ready) {
    app.morph_codes = morph_codes(app.slot_a.z, app.slot_b.z, App::kMorphFrames, app.slerp);
    decode_codes(app.infer, app.morph_codes, App::kMorphFrames, app.morph_images);
  }
  ++app.morph_version;
}

void update_map_probe(App& app) {
  if (!app.map_active) return;
  const std::vector<float> z = plane_to_latent(app.map, app.model.arch.Z, app.analysis.mu, app.map_ab[0], app.map_ab[1]);
  if (z == app.map_z) return;
  app.map_z = z;
  decode_codes(app.infer, app.map_z, 1, app.map_image);
  ++app.map_version;
}

}  // namespace

void app_update(App& app) {
  if (app.model_name.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  update_analysis(app);
  update_samples(app);
  update_morph(app);
  update_map_probe(app);
  update_grid(app, start);  // last: it takes what is left of the budget
}

bool app_busy(const App& app) { return !app.model_name.empty() && (app.grid_job.active || !grid_shows_view(app)); }

uint64_t slot_key(const Slot& slot, uint64_t model_generation) {
  return InputKey().add(slot.what).add(slot.z).add(model_generation).value();
}

bool app_slot_from_drawing(const App& app, Slot& slot) {
  if (app.analysis.empty) return false;
  slot.what = "drawing";
  slot.z = app.analysis.mu;
  slot.image = app.analysis.input;
  return true;
}

void app_slot_from_code(const App& app, const std::string& what, const float* z, Slot& slot) {
  slot.what = what;
  slot.z.assign(z, z + app.model.arch.Z);
  decode_codes(app.infer, slot.z, 1, slot.image);
}

void app_send_to_canvas(App& app, const std::vector<float>& image) {
  const vae::Arch& a = app.model.arch;
  if (int(image.size()) == a.D) drawing_from_image(image.data(), a.image_cols, a.image_rows, app.drawing);
}

void app_save(App& app, const std::string& what) {
  const int side = app.model.arch.image_rows, cols = app.model.arch.image_cols;
  std::vector<uint8_t> png;
  if (what == "drawing" && !app.raster.empty()) {
    png = png_encode_gray(app.raster, kRasterSide, kRasterSide, 1);
  } else if (what == "reconstruction" && !app.analysis.empty) {
    // The model's input beside its reconstruction, 8x.
    std::vector<float> pair = app.analysis.input;
    pair.insert(pair.end(), app.analysis.recon.begin(), app.analysis.recon.end());
    const Sheet sh = tile_images(pair, 2, side, 2);
    png = png_encode_gray(sh.pixels, sh.width, sh.height, 8);
  } else if (what == "grid" && !app.grid_images.empty()) {
    const int n = app.grid_done.n;
    const Sheet sh = tile_images(app.grid_images, n * n, side, n);
    png = png_encode_gray(sh.pixels, sh.width, sh.height, 2);
  } else if (what == "morph" && !app.morph_images.empty()) {
    // Every fourth frame of the morph, A to B, as a strip.
    std::vector<float> strip;
    int count = 0;
    for (int i = 0; i < App::kMorphFrames; i += 4, ++count)
      strip.insert(strip.end(), app.morph_images.begin() + std::ptrdiff_t(size_t(i) * side * cols),
                   app.morph_images.begin() + std::ptrdiff_t(size_t(i + 1) * side * cols));
    const Sheet sh = tile_images(strip, count, side, count);
    png = png_encode_gray(sh.pixels, sh.width, sh.height, 4);
  }
  if (png.empty()) {
    app.message = "nothing to save as " + what + " yet";
    return;
  }
  app.saves.emplace_back("vae-" + what + ".png", std::move(png));
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

std::string model_name_from_path(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".safetensors";
  if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
    base.resize(base.size() - ext.size());
  return base;
}

namespace {

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

std::string json_array(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + json_number(v[i]);
  return s + "]";
}

}  // namespace

std::string app_state_json(const App& app) {
  const Rect& r = app.canvas_rect;
  const Analysis& an = app.analysis;
  std::string j = "{";
  j += "\"frame\":" + std::to_string(app.frame);
  j += ",\"model\":" + vae::json_quote(app.model_name);
  j += ",\"arch\":" + vae::json_quote(app.model_name.empty() ? "" : app.model.arch.describe());
  j += ",\"loading\":" + vae::json_quote(app.loading_model);
  j += ",\"message\":" + vae::json_quote(app.message);
  j += ",\"canvas\":{\"x\":" + json_number(r.x) + ",\"y\":" + json_number(r.y) + ",\"w\":" + json_number(r.w) +
       ",\"h\":" + json_number(r.h) + "}";
  j += ",\"strokes\":" + std::to_string(app.drawing.strokes.size());
  const Drawing& d = app.drawing;
  const Stroke* last = d.stroke_open ? &d.current : d.strokes.empty() ? nullptr : &d.strokes.back();
  j += ",\"last_point\":";
  if (last && !last->points.empty())
    j += "[" + json_number(last->points.back().x) + "," + json_number(last->points.back().y) + "]";
  else
    j += "null";
  j += ",\"empty\":" + std::string(an.empty ? "true" : "false");
  j += ",\"z\":" + json_array(an.mu);
  j += ",\"sigma\":" + json_array(an.sigma);
  j += ",\"elbo\":" + (an.empty ? std::string("null") : json_number(an.elbo()));
  j += ",\"rec\":" + (an.empty ? std::string("null") : json_number(an.rec));
  j += ",\"kl\":" + (an.empty ? std::string("null") : json_number(an.kl));
  j += ",\"log_px\":" + (app.analysis_has_iw ? json_number(an.log_px) : std::string("null"));
  j += ",\"percentile\":" + (app.analysis_has_iw && an.percentile >= 0 ? json_number(an.percentile) : "null");
  j += ",\"grid\":{\"n\":" + std::to_string(app.grid_done.n) + ",\"cells\":" +
       std::to_string(app.grid_images.size() / size_t(std::max(1, app.model.arch.D))) + ",\"center\":[" +
       json_number(app.grid_done.center_a) + "," + json_number(app.grid_done.center_b) + "],\"zoom\":" +
       json_number(app.grid_done.zoom) + ",\"version\":" + std::to_string(app.grid_version) +
       ",\"pending\":" + (app_busy(app) ? "true" : "false") + "}";
  j += ",\"samples\":" + std::to_string(app.sample_images.size() / size_t(std::max(1, app.model.arch.D)));
  j += ",\"map_points\":" + std::to_string(app.map.count());
  j += ",\"morph\":" + std::to_string(app.morph_images.empty() ? 0 : App::kMorphFrames);
  j += ",\"widgets\":{";
  for (size_t i = 0; i < app.widgets.size(); ++i) {
    const Rect& w = app.widgets[i].second;
    j += (i ? "," : "") + vae::json_quote(app.widgets[i].first) + ":{\"x\":" + json_number(w.x) + ",\"y\":" +
         json_number(w.y) + ",\"w\":" + json_number(w.w) + ",\"h\":" + json_number(w.h) + "}";
  }
  j += "}}";
  return j;
}

}  // namespace app
