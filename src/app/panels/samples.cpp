// Samples from the prior (samples.hpp).
#include "app/panels/samples.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "app/input_key.hpp"

namespace app {

namespace {

int sheet_cols(int count) { return int(std::ceil(std::sqrt(double(count)))); }

}  // namespace

bool panel_update(const Shared& s, SamplesPanel& p) {
  const uint64_t key = InputKey().add(s.model_generation).add(p.seed).add(p.count).add(p.temperature).value();
  if (key == p.key) return false;
  p.codes = prior_codes(s.model.arch.Z, p.count, p.temperature, p.seed);
  decode_codes(s.infer, p.codes, p.count, p.images);
  p.key = key;
  ++p.version;
  const Sheet sh = tile_images(p.images, p.count, s.model.arch.image_rows, sheet_cols(p.count));
  texture_set(p.sheet, sh.pixels, sh.width, sh.height);
  return false;
}

void panel_draw(Shared& s, SamplesPanel& p, const Space& space) {
  const float width = space.width;
  section("Samples from the prior");
  ImGui::SetNextItemWidth(140);
  ImGui::SliderFloat("Temperature", &p.temperature, 0.1f, 2.0f, "%.2f");
  note_item(s, "temperature");
  help_marker(s, "samples", "z ~ N(0, t² I): below 1 the samples are more typical, above 1 more varied.");
  same_line_if_fits(button_width("New samples"));
  if (ImGui::Button("New samples")) ++p.seed;
  note_item(s, "new_samples");
  const int cols = sheet_cols(p.count);
  const float side = std::min(width, 260.f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  show_texture(p.sheet, side, side * float((p.count + cols - 1) / cols) / cols);
  if (ImGui::IsItemHovered() && !p.codes.empty()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = std::clamp(int((m.x - p0.x) / side * cols), 0, cols - 1), r = int((m.y - p0.y) / (side / cols));
    const int i = r * cols + c;
    if (i >= 0 && i < p.count) {
      ImGui::SetTooltip("sample %d: left-click for slot A, right-click for slot B", i + 1);
      const std::string what = "sample " + std::to_string(i + 1);
      const float* z = &p.codes[size_t(i) * s.model.arch.Z];
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) app_slot_from_code(s, what, z, s.slot_a);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) app_slot_from_code(s, what, z, s.slot_b);
    }
  }
}

void panel_json(const Shared& s, const SamplesPanel& p, Json& j) {
  j["samples"] = p.images.size() / size_t(std::max(1, s.model.arch.D));
}

}  // namespace app
