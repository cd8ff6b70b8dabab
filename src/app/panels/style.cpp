// The Style panel (style.hpp).
#include "app/panels/style.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/input_key.hpp"

namespace app {

namespace {

constexpr int kDigitCols = 5;  // the ten digits in two rows, wide enough to see on a phone
constexpr int kMapSide = 320;  // pixels of the style map's points texture, drawn once per model

int grid_label_of(const Shared& s, const StylePanel& p) {
  if (p.grid_label >= 0 && p.grid_label < s.cinfer.C) return p.grid_label;
  return s.analysis.label >= 0 ? s.analysis.label : 0;
}

// Standard normal CDF: where an inverse-CDF grid puts a code, in [0, 1] of its side.
float normal_cdf(float z) { return 0.5f * std::erfc(-z / std::sqrt(2.f)); }

// The picked image's code and label, and what a slot calls it; false when nothing is picked.
bool picked(const Shared& s, const StylePanel& p, const float*& z, int& label, std::string& what) {
  const int Z = s.model.arch.Z;
  char buf[64];
  if (p.pick == StylePanel::Pick::Digit && !p.digits.empty() && int(s.analysis.mu.size()) == Z) {
    z = s.analysis.mu.data();
    label = p.pick_index;
    std::snprintf(buf, sizeof buf, "your style as a %d", label);
  } else if (p.pick == StylePanel::Pick::Cell && size_t(p.pick_index + 1) * Z <= p.grid_codes.size()) {
    z = &p.grid_codes[size_t(p.pick_index) * Z];
    label = p.grid_shown_label;
    std::snprintf(buf, sizeof buf, "%d's style plane, cell (%d, %d)", label, p.pick_index / p.n + 1, p.pick_index % p.n + 1);
  } else {
    return false;
  }
  what = buf;
  return true;
}

std::vector<float> picked_image(const Shared& s, const StylePanel& p) {
  const int D = s.model.arch.D;
  return p.pick == StylePanel::Pick::Digit ? image_at(p.digits, p.pick_index, D) : image_at(p.grid_images, p.pick_index, D);
}

// An image button over a sheet of cols x rows cells: returns the cell a click or tap chose, else -1; outlines
// `selected` and `current`.
int sheet_button(Shared& s, const char* name, const Texture& t, float w, int cols, int rows, int selected, int current) {
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float cell = w / cols, h = cell * rows;
  ImGui::InvisibleButton(name, ImVec2(w, h));
  note_item(s, name);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  if (texture_ready(t)) dl->AddImage(texture_id(t), p0, ImVec2(p0.x + w, p0.y + h));
  auto outline = [&](int i, ImU32 colour, float thick) {
    if (i < 0 || i >= cols * rows) return;
    const ImVec2 a(p0.x + (i % cols) * cell, p0.y + (i / cols) * cell);
    dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), colour, 0, 0, thick);
  };
  outline(current, IM_COL32(120, 170, 255, 255), 1.5f);
  outline(selected, IM_COL32(255, 220, 0, 255), 2.f);
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemDeactivated() && io.MouseDragMaxDistanceSqr[0] < 16.f && !s.gesture && ImGui::IsItemHovered()) {
    const int col = std::clamp(int((io.MousePos.x - p0.x) / cell), 0, cols - 1);
    const int row = std::clamp(int((io.MousePos.y - p0.y) / cell), 0, rows - 1);
    return row * cols + col;
  }
  return -1;
}

void draw_class_bars(Shared& s, float width) {
  const Analysis& an = s.analysis;
  const int C = int(an.probs.size());
  const float h = 56, gap = 4, bar = (width - gap * float(C - 1)) / float(C);
  const float text_h = ImGui::GetTextLineHeight();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (int d = 0; d < C; ++d) {
    if (d) ImGui::SameLine(0, gap);
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    char id[24];
    std::snprintf(id, sizeof id, "style_bar_%d", d);
    if (ImGui::InvisibleButton(id, ImVec2(bar, h + text_h + 2))) s.style_label = s.style_label == d ? -1 : d;
    note_item(s, id);
    const float q = std::clamp(an.probs[size_t(d)], 0.f, 1.f);
    dl->AddRectFilled(p0, ImVec2(p0.x + bar, p0.y + h), IM_COL32(40, 42, 50, 255));
    dl->AddRectFilled(ImVec2(p0.x, p0.y + h * (1 - q)), ImVec2(p0.x + bar, p0.y + h), kLabelColours[d]);
    if (d == an.label) dl->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + bar + 1, p0.y + h + 1), IM_COL32(255, 255, 255, 220), 0, 0, 1.5f);
    char digit[4];
    std::snprintf(digit, sizeof digit, "%d", d);
    const float tw = ImGui::CalcTextSize(digit).x;
    dl->AddText(ImVec2(p0.x + (bar - tw) / 2, p0.y + h + 1), d == an.predicted ? IM_COL32(255, 255, 255, 255) : IM_COL32(160, 165, 175, 255), digit);
  }
  ImGui::Text("q(y|x): a %d, %.1f %%", an.predicted, 100.0 * double(an.probs[size_t(an.predicted)]));
  if (s.style_label >= 0) {
    ImGui::SameLine();
    ImGui::TextColored(kWarnText, "style read as a %d", s.style_label);
    same_line_if_fits(button_width("The classifier's"));
    if (ImGui::SmallButton("The classifier's")) s.style_label = -1;
    note_item(s, "style_auto");
  } else {
    ImGui::TextColored(kDimText, s.touch ? "tap a bar to read your style as that digit" : "click a bar to read your style as that digit");
  }
}

}  // namespace

bool panel_update(const Shared& s, StylePanel& p) {
  const vae::Arch& a = s.model.arch;
  const int C = s.cinfer.C, Z = a.Z, side = a.image_rows;
  // The drawing's style drawn as every label: its code C times beside the labels 0..C-1, one decoder pass.
  const uint64_t dk = InputKey().add(s.model_generation).add(s.analysis_version).value();
  if (dk != p.digits_key) {
    p.digits_key = dk;
    p.digits.clear();
    if (!s.analysis.empty && int(s.analysis.mu.size()) == Z) {
      std::vector<float> codes, labels;
      for (int t = 0; t < C; ++t) {
        codes.insert(codes.end(), s.analysis.mu.begin(), s.analysis.mu.end());
        const std::vector<float> y = vae::onehot_labels(C, t, 1);
        labels.insert(labels.end(), y.begin(), y.end());
      }
      app_decode(s, codes, labels, C, p.digits);
      const Sheet sh = tile_images(p.digits, C, side, kDigitCols);
      texture_set(p.digits_sheet, sh.pixels, sh.width, sh.height);
    } else if (p.pick == StylePanel::Pick::Digit) {
      p.pick = StylePanel::Pick::None;
    }
    ++p.version;
  }
  // The style plane of one digit: an inverse-CDF grid over z (for Z > 2, the map's plane through the drawing).
  const int label = grid_label_of(s, p);
  InputKey gk;
  gk.add(s.model_generation).add(label).add(p.n);
  if (Z > 2) gk.add(s.analysis.mu);
  if (gk.value() != p.grid_key) {
    p.grid_key = gk.value();
    GridView g;
    g.n = p.n;
    grid_codes(s.map, Z, s.analysis.mu, g, p.grid_codes);
    app_decode(s, p.grid_codes, vae::onehot_labels(C, label, p.n * p.n), p.n * p.n, p.grid_images);
    const Sheet sh = tile_images(p.grid_images, p.n * p.n, side, p.n);
    texture_set(p.grid, sh.pixels, sh.width, sh.height);
    if (p.pick == StylePanel::Pick::Cell && (p.grid_shown_label != label || p.pick_index >= p.n * p.n))
      p.pick = StylePanel::Pick::None;
    p.grid_shown_label = label;
    ++p.version;
  }
  // The test set's style codes, once per model.
  const uint64_t mk = InputKey().add(s.model_generation).value();
  if (mk != p.map_key && s.map.count() > 0) {
    p.map_key = mk;
    float view[3];
    map_home(s.map, view);
    uint32_t palette[10];
    for (int d = 0; d < 10; ++d) palette[d] = kLabelColours[d] & 0xB0FFFFFF;
    texture_set_rgba(p.map, map_raster(s.map, view, kMapSide, 2.f, palette, IM_COL32(12, 12, 16, 255)), kMapSide, kMapSide);
  }
  return false;
}

void panel_draw(Shared& s, StylePanel& p, const Space& space) {
  const float width = std::max(160.f, std::min(space.width, 420.f));
  const int C = s.cinfer.C, Z = s.model.arch.Z;
  section("Style and class");
  ImGui::TextColored(kDimText, "which digit it is, and your style as every digit");
  help_marker(s, "style",
              "This model (Kingma, Rezende, Mohamed & Welling 2014, M2) is told the digit's label y beside the image, "
              "so its code z keeps only the style: slant, width, stroke. A classifier q(y|x), trained with it, reads "
              "the label from the image. Keep z and change y, and your handwriting becomes any digit.");
  if (s.analysis.empty) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kDimText, "Draw a digit: the model says which it is and redraws it as 0 to %d.", C - 1);
    ImGui::PopTextWrapPos();
  } else {
    draw_class_bars(s, width);
    ImGui::TextUnformatted("Your style as every digit");
    const int rows = (C + kDigitCols - 1) / kDigitCols;
    const int hit = sheet_button(s, "style_digits", p.digits_sheet, width, kDigitCols, rows,
                                 p.pick == StylePanel::Pick::Digit ? p.pick_index : -1, s.analysis.label);
    if (hit >= 0 && hit < C) {
      p.pick = StylePanel::Pick::Digit;
      p.pick_index = hit;
    }
  }

  // The style plane of one digit.
  const int label = grid_label_of(s, p);
  bool follow = p.grid_label < 0;
  if (ImGui::Checkbox("As drawn", &follow)) p.grid_label = follow ? -1 : label;
  note_item(s, "style_follow");
  same_line_if_fits(150);
  ImGui::SetNextItemWidth(110);
  int shown = label;
  if (ImGui::SliderInt("Digit", &shown, 0, C - 1)) p.grid_label = shown;
  note_item(s, "style_grid_label");
  same_line_if_fits(110);
  ImGui::SetNextItemWidth(70);
  ImGui::SliderInt("N##style", &p.n, 4, 15);
  note_item(s, "style_grid_n");
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kDimText, Z == 2 ? "the style plane of a %d: z over the prior, inverse-CDF spaced"
                                      : "the style plane of a %d: the map's plane through your style code", label);
  ImGui::PopTextWrapPos();
  const ImVec2 g0 = ImGui::GetCursorScreenPos();
  const int cell = sheet_button(s, "style_grid", p.grid, width, p.n, p.n, p.pick == StylePanel::Pick::Cell ? p.pick_index : -1, -1);
  if (cell >= 0) {
    p.pick = StylePanel::Pick::Cell;
    p.pick_index = cell;
  }
  if (Z == 2 && !s.analysis.empty && int(s.analysis.mu.size()) == 2) {  // where the drawing's style sits
    const ImVec2 at(g0.x + normal_cdf(s.analysis.mu[0]) * width, g0.y + (1 - normal_cdf(s.analysis.mu[1])) * width);
    ImGui::GetWindowDrawList()->AddCircle(at, 5.f, IM_COL32(255, 90, 90, 255), 12, 2.f);
  }

  // What was picked: to the canvas or a morph slot.
  const float* z = nullptr;
  int y = -1;
  std::string what;
  if (picked(s, p, z, y, what)) {
    ImGui::Text("%s", what.c_str());
    if (ImGui::Button("Send to canvas##style")) app_send_to_canvas(s, picked_image(s, p));
    note_item(s, "style_to_canvas");
    ImGui::SameLine();
    if (ImGui::Button("To A##style")) app_slot_from_code(s, what, z, s.slot_a, y);
    note_item(s, "style_to_a");
    ImGui::SameLine();
    if (ImGui::Button("To B##style")) app_slot_from_code(s, what, z, s.slot_b, y);
    note_item(s, "style_to_b");
  } else {
    ImGui::TextColored(kDimText, s.touch ? "tap a digit or a cell to use it" : "click a digit or a cell to use it");
  }

  // The test set's style codes coloured by label.
  if (s.map.count() > 0 && texture_ready(p.map)) {
    ImGui::TextColored(kDimText, "%d test digits' style codes, coloured by label", s.map.count());
    help_marker(s, "style_map",
                "Each dot is a test digit's style code z, read with its own label. The colours lie on top of each "
                "other: the label carries the class, so z is free to hold how the digit was written, the same for "
                "every digit. A plain VAE's map (mnist-z2) sorts the classes into regions instead.");
    const ImVec2 m0 = ImGui::GetCursorScreenPos();
    show_texture(p.map, width, width);
    note_item(s, "style_map");
    if (!s.analysis.empty) {
      float view[3], ab[2];
      map_home(s.map, view);
      latent_to_plane(s.map, s.analysis.mu, ab);
      const ImVec2 at(m0.x + ((ab[0] - view[0]) / view[2] + 0.5f) * width, m0.y + (0.5f - (ab[1] - view[1]) / view[2]) * width);
      ImGui::GetWindowDrawList()->AddCircle(at, 6.f, IM_COL32(255, 255, 255, 255), 12, 2.f);
    }
  }
}

void panel_json(const Shared& s, const StylePanel& p, Json& j) {
  if (!s.conditional) {
    j["style"] = nullptr;
    return;
  }
  const Analysis& an = s.analysis;
  const char* kinds[] = {"none", "digit", "cell"};
  j["style"] = {{"probs", Json(an.probs)},
                {"predicted", an.predicted},
                {"label", an.label},
                {"picked", s.style_label},
                {"classes", s.cinfer.C},
                {"images", p.digits.size() / size_t(std::max(1, s.model.arch.D))},
                {"grid", {{"label", p.grid_shown_label}, {"n", p.n}, {"cells", p.grid_images.size() / size_t(std::max(1, s.model.arch.D))}}},
                {"map_points", s.map.count()},
                {"pick", {{"kind", kinds[int(p.pick)]}, {"index", p.pick_index}}},
                {"version", p.version}};
}

}  // namespace app
