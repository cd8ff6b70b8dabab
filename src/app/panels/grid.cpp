// The latent grid (grid.hpp).
#include "app/panels/grid.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "imgui_internal.h"  // SetItemUsingMouseWheel (1.86 has it only here)

namespace app {

namespace {

// For a model with more than two latent dimensions the grid's plane passes through the drawing's code.
std::vector<float> grid_anchor(const Shared& s) {
  return s.model.arch.Z > 2 ? s.analysis.mu : std::vector<float>();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

bool grid_shows_view(const Shared& s, const GridPanel& p) {
  return p.generation == s.model_generation && p.done == p.view && p.through == grid_anchor(s);
}

// The grid follows its view a slice of rows at a time: a job starts when the view, the model or the plane's
// anchor moves away from what is on show, decodes whole rows until the budget left in this app_update is spent
// (sized by the last slice's time per cell; at least one row, so it always finishes), and replaces the grid on
// show when its last row is done. A view that moves again meanwhile is taken up by the next job.
bool panel_update(const Shared& s, GridPanel& p) {
  if (s.model_name.empty()) return false;
  if (p.view_generation != s.model_generation) {  // a new model: the default view, nothing selected
    p.view = GridView{p.view.n, p.view.spacing, p.view.range};
    p.selected = -1;
    p.images.clear();  // the old model's grid is not shown while the new one's is decoded
    p.codes.clear();
    p.view_generation = s.model_generation;
  }
  const std::vector<float> through = grid_anchor(s);
  GridJob& job = p.job;
  if (job.active && job.generation != s.model_generation) job.active = false;  // its codes mean nothing now
  if (!job.active) {
    if (grid_shows_view(s, p)) return false;
    job.active = true;
    job.view = p.view;
    job.generation = s.model_generation;
    job.through = through;
    grid_codes(s.map, s.model.arch.Z, through, job.view, job.codes);
    job.images.resize(size_t(job.view.n) * size_t(job.view.n) * size_t(s.model.arch.D));
    job.rows_done = 0;
    // For the whole grid at once: however the frames slice it, the scratch is as large as the largest grid seen.
    vae::infer_reserve_decode(s.infer, job.view.n * job.view.n, job.scratch);
  }
  const int n = job.view.n, Z = s.model.arch.Z, D = s.model.arch.D;
  for (bool first = true; job.rows_done < n; first = false) {
    int rows = n - job.rows_done;
    if (s.work_budget_ms > 0) {
      const double left = s.work_budget_ms - app_update_ms(s);
      if (!first && left <= 0) break;
      const double per_row = p.ms_per_cell * n;
      if (per_row > 0) rows = std::max(1, std::min(rows, int(left / per_row)));
      else rows = 1;  // no estimate yet: one row measures it
    }
    const auto t0 = std::chrono::steady_clock::now();
    const size_t cell = size_t(job.rows_done) * size_t(n);
    vae::infer_decode(s.infer, job.codes.data() + cell * size_t(Z), rows * n, job.images.data() + cell * size_t(D),
                      job.scratch);
    p.ms_per_cell = ms_since(t0) / double(rows * n);
    job.rows_done += rows;
  }
  if (job.rows_done < n) return true;
  job.active = false;
  // Copied, not swapped: each buffer then keeps the capacity of the largest grid it has held, so memory stops
  // growing once the largest grid has been shown (a swap would pass that capacity back and forth).
  p.images.assign(job.images.begin(), job.images.end());
  p.codes.assign(job.codes.begin(), job.codes.end());
  p.done = job.view;
  p.generation = job.generation;
  p.through = job.through;
  if (p.selected >= n * n) p.selected = -1;
  ++p.version;
  const int side = s.model.arch.image_rows;
  const Sheet sh = tile_images(p.images, n * n, side, n);
  texture_set(p.texture, sh.pixels, sh.width, sh.height);
  return !grid_shows_view(s, p);  // the view moved meanwhile: the next call starts on it
}

void panel_draw(Shared& s, GridPanel& p, const Space& space) {
  const float width = space.columns == 3 ? std::min(space.width, space.height * 0.55f) : space.width;
  section("Latent grid");
  GridView& g = p.view;
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("N", &g.n, 5, 30);
  note_item(s, "grid_n");
  const float inner = ImGui::GetStyle().ItemInnerSpacing.x;
  same_line_if_fits(130 + inner + ImGui::CalcTextSize("Spacing").x);
  int spacing = g.spacing == vae::GridSpacing::InverseCdf ? 0 : 1;
  ImGui::SetNextItemWidth(130);
  if (ImGui::Combo("Spacing", &spacing, "inverse CDF\0linear\0")) g.spacing = spacing == 0 ? vae::GridSpacing::InverseCdf : vae::GridSpacing::Linear;
  if (g.spacing == vae::GridSpacing::Linear) {
    same_line_if_fits(90 + inner + ImGui::CalcTextSize("Range").x);
    ImGui::SetNextItemWidth(90);
    ImGui::SliderFloat("Range", &g.range, 0.5f, 5.f, "%.1f");
  }
  same_line_if_fits(button_width("Reset view"));
  if (ImGui::Button("Reset view")) {
    g.center_a = g.center_b = 0;
    g.zoom = 1;
  }
  note_item(s, "grid_reset");
  if (s.model.arch.Z > 2)
    ImGui::TextColored(kDimText, "%d-D model: the grid is the map's plane through your drawing's code", s.model.arch.Z);

  const float side = std::max(120.f, width - 16.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("grid", ImVec2(side, side));
  note_item(s, "grid");
  ImGui::SetItemUsingMouseWheel();  // the wheel over the grid zooms it and does not also scroll the column
  claim_drag(s);
  const ImGuiIO& io = ImGui::GetIO();
  // Plane units per screen pixel: the grid's extent over its side.
  const std::vector<float> axis = vae::grid_axis(g.n, g.spacing, g.range);
  const float extent = (axis.back() - axis.front()) * g.n / std::max(1, g.n - 1) / g.zoom;
  const float per_px = extent / side;
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 2.f)) {
    g.center_a -= io.MouseDelta.x * per_px;
    g.center_b += io.MouseDelta.y * per_px;
  }
  // The wheel under the cursor, or two fingers pinching about a point of the grid.
  const bool pinched = pinch_over_item(s);
  if ((ImGui::IsItemHovered() && io.MouseWheel != 0.f) || pinched) {
    // Zoom about that point.
    const ImVec2 at = pinched ? ImVec2(s.pinch_x, s.pinch_y) : io.MousePos;
    const float ma = g.center_a + (at.x - p0.x - side / 2) * per_px;
    const float mb = g.center_b - (at.y - p0.y - side / 2) * per_px;
    const float f = pinched ? s.pinch : std::pow(1.15f, io.MouseWheel);
    g.zoom = std::clamp(g.zoom * f, 0.25f, 64.f);
    g.center_a = ma + (g.center_a - ma) / f;
    g.center_b = mb + (g.center_b - mb) / f;
  }
  const int n = p.done.n;
  // A click or a tap, not a drag or a pinch.
  if (ImGui::IsItemDeactivated() && io.MouseDragMaxDistanceSqr[0] < 4.f && !s.gesture && n > 0 && !p.codes.empty()) {
    const int col = std::clamp(int((io.MousePos.x - p0.x) / side * n), 0, n - 1);
    const int row = std::clamp(int((io.MousePos.y - p0.y) / side * n), 0, n - 1);
    p.selected = row * n + col;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  if (texture_ready(p.texture) && !p.images.empty())
    dl->AddImage(texture_id(p.texture), p0, ImVec2(p0.x + side, p0.y + side));
  const int sel = p.selected;
  if (sel >= 0 && sel < n * n) {
    const float cell = side / n;
    const ImVec2 a(p0.x + (sel % n) * cell, p0.y + (sel / n) * cell);
    dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(255, 220, 0, 255), 0, 0, 2.f);
  }
  ImGui::TextColored(kDimText, s.touch ? "drag to pan, pinch to zoom, tap a cell" : "drag to pan, wheel to zoom, click a cell");
  if (sel >= 0 && sel < n * n && !p.codes.empty()) {
    const int Z = s.model.arch.Z;
    const float* z = &p.codes[size_t(sel) * Z];
    std::string zs;
    char buf[24];
    for (int j = 0; j < std::min(Z, 6); ++j) {
      std::snprintf(buf, sizeof buf, "%s%+.2f", j ? ", " : "", z[j]);
      zs += buf;
    }
    ImGui::Text("cell (%d, %d): z = (%s%s)", sel / n + 1, sel % n + 1, zs.c_str(), Z > 6 ? ", ..." : "");
    if (ImGui::Button("Send to canvas")) app_send_to_canvas(s, image_at(p.images, sel, s.model.arch.D));
    note_item(s, "grid_to_canvas");
    ImGui::SameLine();
    char what[48];
    std::snprintf(what, sizeof what, "grid cell (%d, %d)", sel / n + 1, sel % n + 1);
    if (ImGui::Button("To A##grid")) app_slot_from_code(s, what, z, s.slot_a);
    ImGui::SameLine();
    if (ImGui::Button("To B##grid")) app_slot_from_code(s, what, z, s.slot_b);
  }
  if (ImGui::Button("Save grid")) grid_save(s, p);
}

void grid_save(Shared& s, const GridPanel& p) {
  if (p.images.empty()) {
    s.message = "nothing to save as grid yet";
    return;
  }
  const int n = p.done.n;
  app_save_images(s, "vae-grid.png", p.images, n * n, n, 2);
}

void panel_json(const Shared& s, const GridPanel& p, Json& j) {
  j["grid"] = {{"n", p.done.n},
               {"cells", p.images.size() / size_t(std::max(1, s.model.arch.D))},
               {"center", {p.done.center_a, p.done.center_b}},
               {"zoom", p.done.zoom},
               {"version", p.version},
               {"selected", p.selected},
               {"pending", !s.model_name.empty() && (p.job.active || !grid_shows_view(s, p))}};
}

}  // namespace app
