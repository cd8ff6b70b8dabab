// The latent map (map.hpp).
#include "app/panels/map.hpp"

#include <algorithm>
#include <cmath>

#include "imgui_internal.h"  // SetItemUsingMouseWheel (1.86 has it only here)

namespace app {

bool panel_update(const Shared& s, MapPanel& p) {
  if (p.view_generation != s.model_generation) {
    map_home(s.map, p.home);  // once per model, not per frame
    std::copy(p.home, p.home + 3, p.view);
    p.view_generation = s.model_generation;
    p.active = false;
    p.probe_z.clear();
  }
  if (!p.active) return false;
  const std::vector<float> z = plane_to_latent(s.map, s.model.arch.Z, s.analysis.mu, p.ab[0], p.ab[1]);
  if (z == p.probe_z) return false;
  p.probe_z = z;
  decode_codes(s.infer, p.probe_z, 1, p.probe_image);
  texture_set(p.probe, p.probe_image, s.model.arch.image_cols, s.model.arch.image_rows);
  return false;
}

void panel_draw(Shared& s, MapPanel& p, const Space& space) {
  const float width = space.columns == 3 ? std::min(space.width, space.height * 0.62f) : space.width;
  section("Latent map");
  const vae::LatentMap& map = s.map;
  const int Z = s.model.arch.Z;
  if (map.count() == 0) {
    ImGui::TextColored(kDimText, "This model file ships no latent map (vae map writes one).");
    p.active = false;
    return;
  }
  ImGui::TextColored(kDimText, Z == 2 ? "test set's posterior means, coloured by label"
                                      : "plane of the test means' top two principal axes, through your drawing");
  const float ca = p.view[0], cb = p.view[1], span = p.view[2];
  const float side = std::max(120.f, width - 16.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), p1(p0.x + side, p0.y + side);
  auto to_screen = [&](float a, float b) {
    return ImVec2(p0.x + ((a - ca) / span + 0.5f) * side, p0.y + (0.5f - (b - cb) / span) * side);
  };
  ImGui::InvisibleButton("map", ImVec2(side, side));
  note_item(s, "map");
  ImGui::SetItemUsingMouseWheel();  // the wheel over the map zooms it and does not also scroll the column
  claim_drag(s);
  const ImGuiIO& io = ImGui::GetIO();
  const ImVec2 m = io.MousePos;
  // The wheel under the cursor or a pinch zooms about that point (kept under it); a double click goes home.
  const bool pinched = pinch_over_item(s);
  if ((ImGui::IsItemHovered() && io.MouseWheel != 0.f) || pinched) {
    const ImVec2 at = pinched ? ImVec2(s.pinch_x, s.pinch_y) : m;
    const float f = std::clamp(pinched ? s.pinch : std::pow(1.15f, io.MouseWheel), 1.f / 64, 64.f);
    const float a = ca + ((at.x - p0.x) / side - 0.5f) * span, b = cb - ((at.y - p0.y) / side - 0.5f) * span;
    p.view[2] = std::clamp(span / f, p.home[2] / 64, p.home[2] * 4);
    const float k = p.view[2] / span;
    p.view[0] = a + (ca - a) * k;
    p.view[1] = b + (cb - b) * k;
  }
  if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) std::copy(p.home, p.home + 3, p.view);
  p.active = ImGui::IsItemHovered() || ImGui::IsItemActive();
  if (p.active) {
    p.ab[0] = ca + ((m.x - p0.x) / side - 0.5f) * span;
    p.ab[1] = cb - ((m.y - p0.y) / side - 0.5f) * span;
  }
  // The points (2-pixel dots) as one texture at the screen's pixel density, redrawn only when the model, the
  // view or the panel's size changes: 10,000 rectangles every frame cost a software renderer more than the
  // rest of the frame together.
  const int px = std::max(1, int(std::lround(side * ImGui::GetIO().DisplayFramebufferScale.x)));
  if (p.points_generation != s.model_generation || p.points_side != px ||
      !std::equal(p.view, p.view + 3, p.points_view)) {
    uint32_t palette[10];
    for (int d = 0; d < 10; ++d) palette[d] = kLabelColours[d] & 0xB0FFFFFF;
    texture_set_rgba(p.points, map_raster(map, p.view, px, 2.f * px / side, palette, IM_COL32(12, 12, 16, 255)), px, px);
    p.points_generation = s.model_generation;
    p.points_side = px;
    std::copy(p.view, p.view + 3, p.points_view);
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddImage(texture_id(p.points), p0, p1);
  dl->PushClipRect(p0, p1, true);
  // The drawing's posterior: its mean and the 1 and 2 sigma ellipses, projected onto the map's plane.
  const Analysis& an = s.analysis;
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
  if (p.active) {
    dl->AddCircle(m, 4.f, IM_COL32(255, 255, 0, 255));
    if (texture_ready(p.probe)) {
      const float s = 84.f;
      const ImVec2 at(m.x + 12.f + s > p1.x ? m.x - 12.f - s : m.x + 12.f, m.y + 12.f + s > p1.y ? m.y - 12.f - s : m.y + 12.f);
      dl->AddImage(texture_id(p.probe), at, ImVec2(at.x + s, at.y + s));
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
  ImGui::TextColored(kDimText, s.touch ? " touch to decode, pinch to zoom" : " hover to decode, wheel to zoom");
}

void panel_json(const Shared& s, const MapPanel& p, Json& j) {
  j["map_points"] = s.map.count();
  j["map_view"] = {p.view[0], p.view[1], p.view[2]};
}

}  // namespace app
