// The studio's panels (Dear ImGui): one function per panel, each with the Begin/End early-return pattern, drawing
// from App and changing only App's inputs; app_update does the computing. The canvas follows imgui_demo's "Canvas"
// recipe: an InvisibleButton takes the pointer, the window's ImDrawList draws.
#include "app/ui.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "imgui.h"
#include "imgui_internal.h"  // SetItemUsingMouseWheel (1.86 has it only here)

namespace app {

namespace {

const ImU32 kCanvasBorder = IM_COL32(255, 255, 255, 120);
const ImVec4 kErrorText = ImVec4(1.0f, 0.45f, 0.4f, 1.0f);
const ImVec4 kDimText = ImVec4(0.65f, 0.68f, 0.72f, 1.0f);
const ImVec4 kGoodText = ImVec4(0.45f, 0.85f, 0.5f, 1.0f);
const ImVec4 kWarnText = ImVec4(1.0f, 0.75f, 0.3f, 1.0f);

// Ten label colours (the "tab10" palette), digit d in colour d.
const ImU32 kLabelColours[10] = {
    IM_COL32(31, 119, 180, 255), IM_COL32(255, 127, 14, 255), IM_COL32(44, 160, 44, 255),
    IM_COL32(214, 39, 40, 255),  IM_COL32(148, 103, 189, 255), IM_COL32(140, 86, 75, 255),
    IM_COL32(227, 119, 194, 255), IM_COL32(160, 160, 160, 255), IM_COL32(188, 189, 34, 255),
    IM_COL32(23, 190, 207, 255)};

int image_side(const App& app) { return app.model.arch.image_rows; }

// One decoded image of a (count, D) block as its own texture-ready vector.
std::vector<float> image_at(const std::vector<float>& images, int index, int D) {
  return std::vector<float>(images.begin() + std::ptrdiff_t(size_t(index) * D),
                            images.begin() + std::ptrdiff_t(size_t(index + 1) * D));
}

void show_texture(const Texture& t, float w, float h) {
  if (t.id) ImGui::Image(texture_imgui_id(t), ImVec2(w, h));
  else ImGui::Dummy(ImVec2(w, h));
}

// Re-uploads the textures whose data changed since the last frame.
void refresh_textures(App& app) {
  Textures& tx = app.tex;
  const int side = image_side(app), D = app.model.arch.D;
  if (tx.canvas_v != app.drawing.revision && !app.raster.empty()) {
    texture_update(tx.canvas, app.raster, kRasterSide, kRasterSide, true);
    tx.canvas_v = app.drawing.revision;
  }
  if (tx.analysis_v != app.analysis_version) {
    const Analysis& an = app.analysis;
    texture_update(tx.input, an.input, side, side);
    if (!an.empty) {
      texture_update(tx.recon, an.recon, side, side);
      const Sheet sh = tile_images(an.samples, kPosteriorSamples, side, kPosteriorSamples);
    texture_update(tx.samples, sh.pixels, sh.width, sh.height);
    }
    tx.analysis_v = app.analysis_version;
  }
  if (tx.grid_v != app.grid_version && !app.grid_images.empty()) {
    const int n = app.grid_done.n;
    const Sheet sh = tile_images(app.grid_images, n * n, side, n);
    texture_update(tx.grid, sh.pixels, sh.width, sh.height);
    tx.grid_v = app.grid_version;
  }
  if (tx.samples_v != app.samples_version && !app.sample_images.empty()) {
    const int cols = int(std::ceil(std::sqrt(double(app.sample_count))));
    const Sheet sh = tile_images(app.sample_images, app.sample_count, side, cols);
    texture_update(tx.sheet, sh.pixels, sh.width, sh.height);
    tx.samples_v = app.samples_version;
  }
  if (tx.probe_v != app.map_version && !app.map_image.empty()) {
    texture_update(tx.probe, app.map_image, side, side);
    tx.probe_v = app.map_version;
  }
  const int frame = app.morph_images.empty() ? -1 : std::min(App::kMorphFrames - 1, int(app.morph_t * (App::kMorphFrames - 1) + 0.5f));
  if (tx.morph_v != app.morph_version) {
    if (!app.morph_images.empty()) {
      std::vector<float> strip;
      for (int i = 0; i < App::kMorphFrames; i += 4) {
        const std::vector<float> img = image_at(app.morph_images, i, D);
        strip.insert(strip.end(), img.begin(), img.end());
      }
      const Sheet sh = tile_images(strip, App::kMorphFrames / 4, side, App::kMorphFrames / 4);
    texture_update(tx.strip, sh.pixels, sh.width, sh.height);
    }
    tx.morph_v = app.morph_version;
    tx.morph_frame = -1;
  }
  if (frame >= 0 && frame != tx.morph_frame) {
    texture_update(tx.morph, image_at(app.morph_images, frame, D), side, side);
    tx.morph_frame = frame;
  }
  for (auto [slot, tex, key] : {std::tuple<Slot*, Texture*, uint64_t*>{&app.slot_a, &tx.slot_a, &tx.slot_a_key},
                                {&app.slot_b, &tx.slot_b, &tx.slot_b_key}}) {
    const uint64_t k = slot_key(*slot, app.model_generation);
    if (*key != k && !slot->image.empty()) {
      texture_update(*tex, slot->image, side, side);
      *key = k;
    }
  }
}

// Records the last item's rectangle under `name` in app.widgets (the state JSON lists them for tests).
void note_item(App& app, const char* name) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  app.widgets.emplace_back(name, Rect{a.x, a.y, b.x - a.x, b.y - a.y});
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "%s", title);
  ImGui::Separator();
}

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

// ---- the drawing canvas ----

void draw_canvas_panel(App& app, float side) {
  ImGui::BeginGroup();
  if (ImGui::Button(app.eraser ? "Brush" : "Eraser")) app.eraser = !app.eraser;
  ImGui::SameLine();
  ImGui::BeginDisabled(!drawing_can_undo(app.drawing));
  if (ImGui::Button("Undo")) drawing_undo(app.drawing);
  note_item(app, "undo");
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!drawing_can_redo(app.drawing));
  if (ImGui::Button("Redo")) drawing_redo(app.drawing);
  note_item(app, "redo");
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Clear")) drawing_clear(app.drawing);
  note_item(app, "clear");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(std::max(60.f, side - ImGui::GetCursorPosX() + ImGui::GetWindowContentRegionMin().x - 60.f));
  ImGui::SliderFloat("Width", &app.brush_width, 0.02f, 0.2f, "%.2f");

  // Ctrl+Z / Ctrl+Y (or Ctrl+Shift+Z) anywhere outside a text field.
  const ImGuiIO& io = ImGui::GetIO();
  if (io.KeyCtrl && !io.WantTextInput) {
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z))) io.KeyShift ? drawing_redo(app.drawing) : drawing_undo(app.drawing);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y))) drawing_redo(app.drawing);
  }

  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + side, p0.y + side);
  ImGui::InvisibleButton("canvas", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft);
  if (ImGui::IsItemActivated()) drawing_begin_stroke(app.drawing, app.brush_width, app.eraser);
  if (ImGui::IsItemActive()) {
    const ImVec2 m = io.MousePos;
    drawing_add_point(app.drawing, std::clamp((m.x - p0.x) / side, 0.0f, 1.0f), std::clamp((m.y - p0.y) / side, 0.0f, 1.0f));
  }
  // A stroke also ends when the canvas lost the pointer without a release, e.g. when a resize moved the canvas
  // into another column (another ImGui id): otherwise it would stay open, and log p(x) waits for it to end.
  if (ImGui::IsItemDeactivated() || (app.drawing.stroke_open && !ImGui::IsItemActive())) drawing_end_stroke(app.drawing);
  app.canvas_rect = Rect{p0.x, p0.y, side, side};

  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 255));
  if (app.tex.canvas.id) dl->AddImage(texture_imgui_id(app.tex.canvas), p0, p1);
  if (app.analysis.empty && !app.drawing.stroke_open) {
    const char* hint = "Draw a digit here";
    const ImVec2 ts = ImGui::CalcTextSize(hint);
    dl->AddText(ImVec2(p0.x + (side - ts.x) / 2, p0.y + (side - ts.y) / 2), IM_COL32(150, 150, 150, 255), hint);
  }
  // The ink's bounding box that MNIST's preprocessing scales to 20x20.
  if (!app.mnist_input.empty && !app.plain_input) {
    const float* b = app.mnist_input.bbox;
    const float k = side / kRasterSide;
    dl->AddRect(ImVec2(p0.x + b[0] * k, p0.y + b[1] * k), ImVec2(p0.x + b[2] * k, p0.y + b[3] * k),
                IM_COL32(90, 160, 255, 90));
  }
  dl->AddRect(p0, p1, kCanvasBorder);
  if (ImGui::Button("Save drawing")) app_save(app, "drawing");
  ImGui::SameLine();
  if (ImGui::Button("Save reconstruction")) app_save(app, "reconstruction");
  note_item(app, "save_reconstruction");
  ImGui::EndGroup();
}

// ---- what the model sees and makes of it ----

void draw_encoding_panel(App& app, float width) {
  const Analysis& an = app.analysis;
  const int Z = app.model.arch.Z;
  const float big = std::min(96.f, (width - 24.f) / 3.f);

  section("What the model sees");
  ImGui::Checkbox("Plain downscale", &app.plain_input);
  help_marker("MNIST's preprocessing scales the ink's bounding box to fit 20x20 keeping its aspect ratio and centres "
              "it by mass in 28x28. The plain downscale shrinks the whole canvas instead, for comparison.");
  ImGui::BeginGroup();
  show_texture(app.tex.input, big, big);
  ImGui::TextColored(kDimText, "input 28x28");
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  if (an.empty) ImGui::Dummy(ImVec2(big, big));
  else show_texture(app.tex.recon, big, big);
  ImGui::TextColored(kDimText, "reconstruction");
  ImGui::EndGroup();
  if (an.empty) {
    ImGui::TextColored(kDimText, "Nothing drawn yet: draw a digit on the canvas.");
    return;
  }
  show_texture(app.tex.samples, std::min(width - 8.f, 6.f * 48.f), std::min(width - 8.f, 6.f * 48.f) / kPosteriorSamples);
  ImGui::TextColored(kDimText, "decoded samples z ~ q(z|x)");

  section("ELBO (nats)");
  ImGui::Text("ELBO %.1f  =  -(reconstruction %.1f + KL %.1f)", an.elbo(), an.rec, an.kl);
  const float total = float(an.rec + an.kl);
  if (total > 0) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float w = width - 16.f, split = w * float(an.rec) / total;
    dl->AddRectFilled(p, ImVec2(p.x + split, p.y + 10), IM_COL32(70, 130, 200, 255));
    dl->AddRectFilled(ImVec2(p.x + split, p.y), ImVec2(p.x + w, p.y + 10), IM_COL32(220, 140, 60, 255));
    ImGui::Dummy(ImVec2(w, 12));
  }
  if (app.analysis_has_iw) {
    ImGui::Text("log p(x) %.1f nats", an.log_px);
    help_marker("Importance-weighted estimate (Burda et al. 2015, K = 500) on the drawing binarised as the test set "
                "was, compared with the model's test-set values stored in its file.");
    if (an.percentile >= 0) {
      const ImVec4 c = an.percentile < 1 ? kErrorText : an.percentile < 10 ? kWarnText : kGoodText;
      ImGui::TextColored(c, "%s: more likely than %.0f%% of test images", an.percentile < 1 ? "Unlike a digit"
                                                                         : an.percentile < 10 ? "Unusual" : "Typical",
                         an.percentile);
    }
  } else {
    ImGui::TextColored(kDimText, "log p(x): when the stroke ends");
  }

  section("Posterior q(z|x): mean and one sigma per dimension");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int shown = std::min(Z, 32);
  const float row = shown > 8 ? 6.f : 12.f, w = width - 70.f;
  ImVec2 p = ImGui::GetCursorScreenPos();
  auto x_of = [&](float v) { return p.x + 40.f + (std::clamp(v, -3.f, 3.f) + 3.f) / 6.f * w; };
  dl->AddLine(ImVec2(x_of(0), p.y), ImVec2(x_of(0), p.y + row * shown), IM_COL32(120, 120, 120, 255));
  for (int j = 0; j < shown; ++j) {
    const float y = p.y + row * (j + 0.5f), m = an.mu[size_t(j)], s = an.sigma[size_t(j)];
    dl->AddLine(ImVec2(x_of(m - s), y), ImVec2(x_of(m + s), y), IM_COL32(220, 140, 60, 255), 2.f);
    dl->AddCircleFilled(ImVec2(x_of(m), y), row > 6 ? 3.f : 2.f, IM_COL32(255, 255, 255, 255));
    if (shown <= 8) {
      char label[16];
      std::snprintf(label, sizeof label, "z%d", j + 1);
      dl->AddText(ImVec2(p.x, y - 7), IM_COL32(170, 170, 170, 255), label);
    }
  }
  ImGui::Dummy(ImVec2(width - 16.f, row * shown + 4));
  ImGui::TextColored(kDimText, "axis -3..3; %s", Z > 32 ? "first 32 dimensions" : "prior N(0, 1) for comparison");
  if (Z <= 4)
    for (int j = 0; j < Z; ++j) ImGui::Text("z%d: mu %+.3f  sigma %.3f", j + 1, an.mu[size_t(j)], an.sigma[size_t(j)]);
}

// ---- the latent map ----

void draw_map_panel(App& app, float width) {
  section("Latent map");
  const vae::LatentMap& map = app.map;
  const int Z = app.model.arch.Z;
  if (map.count() == 0) {
    ImGui::TextColored(kDimText, "This model file ships no latent map (vae map writes one).");
    app.map_active = false;
    return;
  }
  ImGui::TextColored(kDimText, Z == 2 ? "test set's posterior means, coloured by label"
                                      : "plane of the test means' top two principal axes, through your drawing");
  const float ca = app.map_view[0], cb = app.map_view[1], span = app.map_view[2];
  const float side = std::max(120.f, width - 16.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), p1(p0.x + side, p0.y + side);
  auto to_screen = [&](float a, float b) {
    return ImVec2(p0.x + ((a - ca) / span + 0.5f) * side, p0.y + (0.5f - (b - cb) / span) * side);
  };
  ImGui::InvisibleButton("map", ImVec2(side, side));
  note_item(app, "map");
  const ImVec2 m = ImGui::GetIO().MousePos;
  app.map_active = ImGui::IsItemHovered() || ImGui::IsItemActive();
  if (app.map_active) {
    app.map_ab[0] = ca + ((m.x - p0.x) / side - 0.5f) * span;
    app.map_ab[1] = cb - ((m.y - p0.y) / side - 0.5f) * span;
  }
  // The points (2-pixel dots) as one texture at the screen's pixel density, redrawn only when the model, the
  // view or the panel's size changes: 10,000 rectangles every frame cost a software renderer more than the
  // rest of the frame together.
  Textures& tx = app.tex;
  const int px = std::max(1, int(std::lround(side * ImGui::GetIO().DisplayFramebufferScale.x)));
  if (tx.map_generation != app.model_generation || tx.map_side != px ||
      !std::equal(app.map_view, app.map_view + 3, tx.map_view)) {
    uint32_t palette[10];
    for (int d = 0; d < 10; ++d) palette[d] = kLabelColours[d] & 0xB0FFFFFF;
    texture_update_rgba(tx.map, map_raster(map, app.map_view, px, 2.f * px / side, palette, IM_COL32(12, 12, 16, 255)), px, px);
    tx.map_generation = app.model_generation;
    tx.map_side = px;
    std::copy(app.map_view, app.map_view + 3, tx.map_view);
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddImage(texture_imgui_id(tx.map), p0, p1);
  dl->PushClipRect(p0, p1, true);
  // The drawing's posterior: its mean and the 1 and 2 sigma ellipses, projected onto the map's plane.
  const Analysis& an = app.analysis;
  if (!an.empty) {
    float c[2];
    latent_to_plane(map, an.mu, c);
    // The posterior N(mu, diag sigma^2) projected onto the plane has covariance C = B diag(sigma^2) B^T
    // (B the plane's two axes; for Z == 2 and without a map, the first two coordinate axes). Its k-sigma
    // ellipse is c + k L (cos t, sin t) with L L^T = C (Cholesky).
    double C[3] = {0, 0, 0};  // C00, C01, C11
    for (int j = 0; j < Z; ++j) {
      const bool pca = Z != 2 && map.kind == "pca";
      const double u = pca ? map.basis[size_t(j)] : j == 0, v = pca ? map.basis[size_t(Z + j)] : j == 1;
      const double s2 = double(an.sigma[size_t(j)]) * an.sigma[size_t(j)];
      C[0] += u * u * s2;
      C[1] += u * v * s2;
      C[2] += v * v * s2;
    }
    const double l00 = std::sqrt(std::max(C[0], 1e-12)), l10 = C[1] / l00;
    const double l11 = std::sqrt(std::max(C[2] - l10 * l10, 1e-12));
    for (float k : {1.f, 2.f}) {
      ImVec2 pts[48];
      for (int t = 0; t < 48; ++t) {
        const double th = 6.283185307 * t / 48.0, ct = std::cos(th), st = std::sin(th);
        pts[t] = to_screen(float(c[0] + k * l00 * ct), float(c[1] + k * (l10 * ct + l11 * st)));
      }
      dl->AddPolyline(pts, 48, IM_COL32(255, 255, 255, k == 1.f ? 230 : 120), ImDrawFlags_Closed, 1.5f);
    }
    const ImVec2 q = to_screen(c[0], c[1]);
    dl->AddCircleFilled(q, 5.f, IM_COL32(255, 255, 255, 255));
    dl->AddCircle(q, 5.f, IM_COL32(0, 0, 0, 255));
  }
  if (app.map_active) {
    dl->AddCircle(m, 4.f, IM_COL32(255, 255, 0, 255));
    if (app.tex.probe.id) {
      const float s = 84.f;
      const ImVec2 at(m.x + 12.f + s > p1.x ? m.x - 12.f - s : m.x + 12.f, m.y + 12.f + s > p1.y ? m.y - 12.f - s : m.y + 12.f);
      dl->AddImage(texture_imgui_id(app.tex.probe), at, ImVec2(at.x + s, at.y + s));
      dl->AddRect(at, ImVec2(at.x + s, at.y + s), IM_COL32(255, 255, 0, 255));
    }
  }
  dl->PopClipRect();
  dl->AddRect(p0, p1, kCanvasBorder);
  // The legend.
  for (int d = 0; d < 10; ++d) {
    if (d) ImGui::SameLine();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kLabelColours[d]), "%d", d);
  }
  ImGui::SameLine();
  ImGui::TextColored(kDimText, " hover to decode");
}

// ---- the latent grid (Kingma & Welling 2013, Fig. 4) ----

void draw_grid_panel(App& app, float width) {
  section("Latent grid");
  GridView& g = app.grid;
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("N", &g.n, 5, 30);
  note_item(app, "grid_n");
  ImGui::SameLine();
  int spacing = g.spacing == vae::GridSpacing::InverseCdf ? 0 : 1;
  ImGui::SetNextItemWidth(130);
  if (ImGui::Combo("Spacing", &spacing, "inverse CDF\0linear\0")) g.spacing = spacing == 0 ? vae::GridSpacing::InverseCdf : vae::GridSpacing::Linear;
  if (g.spacing == vae::GridSpacing::Linear) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    ImGui::SliderFloat("Range", &g.range, 0.5f, 5.f, "%.1f");
  }
  ImGui::SameLine();
  if (ImGui::Button("Reset view")) {
    g.center_a = g.center_b = 0;
    g.zoom = 1;
  }
  note_item(app, "grid_reset");
  if (app.model.arch.Z > 2)
    ImGui::TextColored(kDimText, "%d-D model: the grid is the map's plane through your drawing's code", app.model.arch.Z);

  const float side = std::max(120.f, width - 16.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("grid", ImVec2(side, side));
  note_item(app, "grid");
  ImGui::SetItemUsingMouseWheel();  // the wheel over the grid zooms it and does not also scroll the column
  const ImGuiIO& io = ImGui::GetIO();
  // Plane units per screen pixel: the grid's extent over its side.
  const std::vector<float> axis = vae::grid_axis(g.n, g.spacing, g.range);
  const float extent = (axis.back() - axis.front()) * g.n / std::max(1, g.n - 1) / g.zoom;
  const float per_px = extent / side;
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 2.f)) {
    g.center_a -= io.MouseDelta.x * per_px;
    g.center_b += io.MouseDelta.y * per_px;
  }
  if (ImGui::IsItemHovered() && io.MouseWheel != 0.f) {
    // Zoom about the point under the cursor.
    const float ma = g.center_a + (io.MousePos.x - p0.x - side / 2) * per_px;
    const float mb = g.center_b - (io.MousePos.y - p0.y - side / 2) * per_px;
    const float f = std::pow(1.15f, io.MouseWheel);
    g.zoom = std::clamp(g.zoom * f, 0.25f, 64.f);
    g.center_a = ma + (g.center_a - ma) / f;
    g.center_b = mb + (g.center_b - mb) / f;
  }
  const int n = app.grid_done.n;
  if (ImGui::IsItemDeactivated() && io.MouseDragMaxDistanceSqr[0] < 4.f && n > 0 && !app.grid_codes.empty()) {  // a click, not a drag
    const int col = std::clamp(int((io.MousePos.x - p0.x) / side * n), 0, n - 1);
    const int row = std::clamp(int((io.MousePos.y - p0.y) / side * n), 0, n - 1);
    app.grid_selected = row * n + col;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  if (app.tex.grid.id && !app.grid_images.empty())
    dl->AddImage(texture_imgui_id(app.tex.grid), p0, ImVec2(p0.x + side, p0.y + side));
  const int sel = app.grid_selected;
  if (sel >= 0 && sel < n * n) {
    const float cell = side / n;
    const ImVec2 a(p0.x + (sel % n) * cell, p0.y + (sel / n) * cell);
    dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(255, 220, 0, 255), 0, 0, 2.f);
  }
  ImGui::TextColored(kDimText, "drag to pan, wheel to zoom, click a cell");
  if (sel >= 0 && sel < n * n && !app.grid_codes.empty()) {
    const int Z = app.model.arch.Z;
    const float* z = &app.grid_codes[size_t(sel) * Z];
    std::string zs;
    char buf[24];
    for (int j = 0; j < std::min(Z, 6); ++j) {
      std::snprintf(buf, sizeof buf, "%s%+.2f", j ? ", " : "", z[j]);
      zs += buf;
    }
    ImGui::Text("cell (%d, %d): z = (%s%s)", sel / n + 1, sel % n + 1, zs.c_str(), Z > 6 ? ", ..." : "");
    if (ImGui::Button("Send to canvas")) app_send_to_canvas(app, image_at(app.grid_images, sel, app.model.arch.D));
    note_item(app, "grid_to_canvas");
    ImGui::SameLine();
    char what[48];
    std::snprintf(what, sizeof what, "grid cell (%d, %d)", sel / n + 1, sel % n + 1);
    if (ImGui::Button("To A##grid")) app_slot_from_code(app, what, z, app.slot_a);
    ImGui::SameLine();
    if (ImGui::Button("To B##grid")) app_slot_from_code(app, what, z, app.slot_b);
  }
  if (ImGui::Button("Save grid")) app_save(app, "grid");
}

// ---- prior samples and the morph ----

void draw_sample_panel(App& app, float width) {
  section("Samples from the prior");
  ImGui::SetNextItemWidth(140);
  ImGui::SliderFloat("Temperature", &app.temperature, 0.1f, 2.0f, "%.2f");
  note_item(app, "temperature");
  help_marker("z ~ N(0, t^2 I): below 1 the samples are more typical, above 1 more varied.");
  ImGui::SameLine();
  if (ImGui::Button("New samples")) ++app.sample_seed;
  note_item(app, "new_samples");
  const int cols = int(std::ceil(std::sqrt(double(app.sample_count))));
  const float side = std::min(width - 16.f, 260.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  show_texture(app.tex.sheet, side, side * float((app.sample_count + cols - 1) / cols) / cols);
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = std::clamp(int((m.x - p0.x) / side * cols), 0, cols - 1), r = int((m.y - p0.y) / (side / cols));
    const int i = r * cols + c;
    if (i >= 0 && i < app.sample_count) {
      ImGui::SetTooltip("sample %d: left-click for slot A, right-click for slot B", i + 1);
      const std::string what = "sample " + std::to_string(i + 1);
      const float* z = &app.sample_codes[size_t(i) * app.model.arch.Z];
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) app_slot_from_code(app, what, z, app.slot_a);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) app_slot_from_code(app, what, z, app.slot_b);
    }
  }

  section("Morph between A and B");
  for (int k = 0; k < 2; ++k) {
    Slot& s = k == 0 ? app.slot_a : app.slot_b;
    ImGui::PushID(k);
    ImGui::BeginGroup();
    show_texture(k == 0 ? app.tex.slot_a : app.tex.slot_b, 56, 56);
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::Text("%s: %s", k == 0 ? "A" : "B", s.what.empty() ? "empty" : s.what.c_str());
    ImGui::BeginDisabled(app.analysis.empty);
    if (ImGui::Button("From drawing")) app_slot_from_drawing(app, s);
    note_item(app, k == 0 ? "a_from_drawing" : "b_from_drawing");
    ImGui::EndDisabled();
    ImGui::EndGroup();
    ImGui::PopID();
    if (k == 0) ImGui::SameLine(0, 24);
  }
  if (app.morph_images.empty()) {
    ImGui::TextColored(kDimText, "Fill A and B from the drawing, a sample or a grid cell.");
    return;
  }
  ImGui::Checkbox("Play", &app.morph_play);
  ImGui::SameLine();
  ImGui::Checkbox("Spherical", &app.slerp);
  help_marker("Spherical interpolation (slerp) keeps codes at a typical distance from the origin, where a Gaussian "
              "prior puts its mass; linear interpolation passes closer to the origin.");
  if (app.morph_play) app.morph_t = float(0.5 - 0.5 * std::cos(app.time * 1.6));  // ease A -> B -> A
  ImGui::SetNextItemWidth(std::max(80.f, width - 130.f));
  if (ImGui::SliderFloat("t", &app.morph_t, 0.f, 1.f, "%.2f")) app.morph_play = false;
  show_texture(app.tex.morph, 112, 112);
  const float strip_w = std::max(80.f, width - 16.f);
  show_texture(app.tex.strip, strip_w, strip_w / (App::kMorphFrames / 4));
  if (ImGui::Button("Save morph")) app_save(app, "morph");
}

// ---- the model ----

void draw_model_panel(App& app) {
  section("Models");
  auto row = [](const vae::Metadata& meta, const char* label, const char* key, const char* unit) {
    const std::string v = vae::meta_get(meta, key);
    if (!v.empty()) ImGui::Text("  %-28s %s%s", label, v.c_str(), unit);
  };
  for (const char* name : kModelNames) {
    const auto seen = std::find_if(app.seen_models.begin(), app.seen_models.end(),
                                   [name](const ModelSummary& s) { return s.name == name; });
    const bool current = app.model_name == name;
    ImGui::PushID(name);
    if (current) ImGui::TextColored(kGoodText, "%s (in use)", name);
    else if (ImGui::SmallButton(name)) app.requested_model = name;
    if (seen == app.seen_models.end()) {
      ImGui::SameLine();
      ImGui::TextColored(kDimText, app.loading_model == name ? "loading ..." : "not loaded yet: click to load");
      ImGui::PopID();
      continue;
    }
    ImGui::SameLine();
    ImGui::Text("%s, %zu parameters", seen->arch.c_str(), seen->parameters);
    row(seen->meta, "data set", "dataset", "");
    row(seen->meta, "epochs", "train.epochs", "");
    row(seen->meta, "test NLL (IW bound)", "test.nll", " nats");
    row(seen->meta, "test ELBO, binarised", "test.elbo_binary", " nats");
    row(seen->meta, "test ELBO, grey", "test.elbo_grey", " nats");
    row(seen->meta, "  reconstruction, grey", "test.rec_grey", " nats");
    row(seen->meta, "  KL, grey", "test.kl_grey", " nats");
    const std::string cmd = vae::meta_get(seen->meta, "train.command");
    if (current && !cmd.empty()) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(kDimText, "  trained with: %s", cmd.c_str());
      ImGui::PopTextWrapPos();
    }
    ImGui::PopID();
  }
  // A model opened from elsewhere (the desktop's --model) is listed too.
  if (std::none_of(std::begin(kModelNames), std::end(kModelNames), [&app](const char* n) { return app.model_name == n; }))
    ImGui::TextColored(kGoodText, "%s (in use) %s", app.model_name.c_str(), app.model.arch.describe().c_str());
}

void draw_header(App& app) {
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "VAE Studio");
  ImGui::SameLine();
  ImGui::TextColored(kDimText, "draw a digit and watch a variational autoencoder encode it, rebuild it and place it");
  ImGui::SameLine(0, 30);
  ImGui::SetNextItemWidth(160);
  if (ImGui::BeginCombo("Model", app.model_name.empty() ? "(none)" : app.model_name.c_str())) {
    for (const char* name : kModelNames)
      if (ImGui::Selectable(name, app.model_name == name) && app.model_name != name) app.requested_model = name;
    ImGui::EndCombo();
  }
  if (!app.loading_model.empty()) {
    ImGui::SameLine();
    char label[64];
    std::snprintf(label, sizeof label, "loading %s", app.loading_model.c_str());
    ImGui::ProgressBar(app.loading_progress >= 0 ? app.loading_progress : 0.f, ImVec2(200, 0), label);
  }
  if (!app.message.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, kErrorText);
    ImGui::TextWrapped("%s", app.message.c_str());
    ImGui::PopStyleColor();
  }
  ImGui::Separator();
}

// Every panel texture, for Textures or const Textures.
template <class T>
std::array<decltype(&std::declval<T&>().canvas), 12> all_textures(T& tx) {
  return {&tx.canvas, &tx.input, &tx.recon, &tx.samples, &tx.grid, &tx.sheet, &tx.morph, &tx.strip,
          &tx.probe, &tx.slot_a, &tx.slot_b, &tx.map};
}

}  // namespace

void ui_release_textures(App& app) {
  for (Texture* t : all_textures(app.tex)) texture_release(*t);
  app.tex = Textures{};
}

uint64_t ui_texture_uploads(const App& app, unsigned id) {
  for (const Texture* t : all_textures(app.tex))
    if (t->id == id && id != 0) return t->uploads;
  return 0;
}

void ui_draw(App& app) {
  app.widgets.clear();
  app_update(app);
  if (!app.model_name.empty()) refresh_textures(app);

  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  // No background: main.cpp clears the window to its colour.
  const ImGuiWindowFlags host = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                ImGuiWindowFlags_NoBackground;
  ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0.f);
  const bool open = ImGui::Begin("VAE Studio", nullptr, host);
  ImGui::PopStyleVar();
  if (!open) {
    ImGui::End();
    return;
  }
  draw_header(app);
  if (app.model_name.empty()) {
    ImGui::TextColored(kDimText, app.loading_model.empty() ? "No model loaded." : "Loading the model ...");
    ImGui::End();
    return;
  }

  // Three columns on a wide screen, one below the other on a narrow one.
  const float W = ImGui::GetContentRegionAvail().x;
  const int columns = W >= 1100 ? 3 : W >= 720 ? 2 : 1;
  const float col_w = (W - (columns - 1) * 8.f) / columns;
  const ImGuiWindowFlags child = ImGuiWindowFlags_AlwaysUseWindowPadding;
  const float H = columns == 1 ? 0 : ImGui::GetContentRegionAvail().y;
  auto column = [&](const char* id, int k) {
    if (k) ImGui::SameLine(0, 8);
    ImGui::BeginChild(id, ImVec2(col_w, H > 0 ? H : 0), columns > 1, child);
  };
  if (columns == 1) {
    // Narrow: everything in one scrolling column.
    ImGui::BeginChild("all", ImVec2(0, 0), false, child);
    const float side = std::min(col_w - 16.f, 420.f);
    draw_canvas_panel(app, side);
    draw_encoding_panel(app, col_w - 8.f);
    draw_map_panel(app, col_w - 8.f);
    draw_grid_panel(app, col_w - 8.f);
    draw_sample_panel(app, col_w - 8.f);
    draw_model_panel(app);
    ImGui::EndChild();
  } else {
    column("left", 0);
    const float side = std::min(col_w - 16.f, H * 0.46f);
    draw_canvas_panel(app, side);
    draw_encoding_panel(app, col_w - 16.f);
    ImGui::EndChild();
    column("middle", 1);
    draw_map_panel(app, std::min(col_w - 16.f, columns == 3 ? H * 0.62f : col_w));
    if (columns == 2) draw_grid_panel(app, col_w - 16.f);
    draw_model_panel(app);
    if (columns == 2) draw_sample_panel(app, col_w - 16.f);
    ImGui::EndChild();
    if (columns == 3) {
      column("right", 2);
      draw_grid_panel(app, std::min(col_w - 16.f, H * 0.55f));
      draw_sample_panel(app, col_w - 16.f);
      ImGui::EndChild();
    }
  }
  ImGui::End();
}

}  // namespace app
