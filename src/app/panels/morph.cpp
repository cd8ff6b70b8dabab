// The morph between the two slots (morph.hpp).
#include "app/panels/morph.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "app/input_key.hpp"

namespace app {

namespace {

// Every fourth frame, A to B.
std::vector<float> strip_images(const MorphPanel& p, int D) {
  std::vector<float> strip;
  for (int i = 0; i < MorphPanel::kFrames; i += 4) {
    const std::vector<float> img = image_at(p.images, i, D);
    strip.insert(strip.end(), img.begin(), img.end());
  }
  return strip;
}

}  // namespace

bool panel_update(const Shared& s, MorphPanel& p) {
  const int side = s.model.arch.image_rows, D = s.model.arch.D;
  const bool ready = !s.slot_a.z.empty() && !s.slot_b.z.empty();
  InputKey k;
  k.add(s.model_generation).add(p.slerp);
  if (ready) k.add(s.slot_a.z).add(s.slot_b.z).add(s.slot_a.label).add(s.slot_b.label);
  if (k.value() != p.key) {
    p.key = k.value();
    p.codes.clear();
    p.images.clear();
    if (ready) {
      p.codes = morph_codes(s.slot_a.z, s.slot_b.z, MorphPanel::kFrames, p.slerp);
      // A conditional model's label goes from A's to B's linearly beside the code: its first layers are linear
      // in the label, so halfway is a half-and-half mix of the two.
      const std::vector<float> labels = s.slot_a.label.size() == s.slot_b.label.size()
                                            ? morph_codes(s.slot_a.label, s.slot_b.label, MorphPanel::kFrames, false)
                                            : std::vector<float>();
      app_decode(s, p.codes, labels, MorphPanel::kFrames, p.images);
      const Sheet sh = tile_images(strip_images(p, D), MorphPanel::kFrames / 4, side, MorphPanel::kFrames / 4);
      texture_set(p.strip, sh.pixels, sh.width, sh.height);
    }
    ++p.version;
    p.frame_shown = -1;
  }
  const int frame = p.images.empty() ? -1 : std::min(MorphPanel::kFrames - 1, int(p.t * (MorphPanel::kFrames - 1) + 0.5f));
  if (frame >= 0 && frame != p.frame_shown) {
    texture_set(p.frame, image_at(p.images, frame, D), side, side);
    p.frame_shown = frame;
  }
  for (auto [slot, tex, key] : {std::tuple<const Slot*, Texture*, uint64_t*>{&s.slot_a, &p.slot_a, &p.slot_a_key},
                                {&s.slot_b, &p.slot_b, &p.slot_b_key}}) {
    const uint64_t sk = slot_key(*slot, s.model_generation);
    if (*key != sk && !slot->image.empty()) {
      texture_set(*tex, slot->image, side, side);
      *key = sk;
    }
  }
  return false;
}

void morph_save(Shared& s, const MorphPanel& p) {
  if (p.images.empty()) {
    s.message = "nothing to save as morph yet";
    return;
  }
  app_save_images(s, "vae-morph.png", strip_images(p, s.model.arch.D), MorphPanel::kFrames / 4,
                  MorphPanel::kFrames / 4, 4);
}

void panel_draw(Shared& s, MorphPanel& p, const Space& space) {
  const float width = space.width;
  section("Morph between A and B");
  for (int k = 0; k < 2; ++k) {
    Slot& slot = k == 0 ? s.slot_a : s.slot_b;
    const std::string label = std::string(k == 0 ? "A: " : "B: ") + (slot.what.empty() ? "empty" : slot.what);
    if (k == 1) {  // B beside A where it fits (a phone puts it under)
      const float w = 56 + ImGui::GetStyle().ItemSpacing.x +
                      std::max(ImGui::CalcTextSize(label.c_str()).x, button_width("From drawing"));
      if (ImGui::GetItemRectMax().x + 24 + w <= ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x)
        ImGui::SameLine(0, 24);
    }
    ImGui::PushID(k);
    ImGui::BeginGroup();
    show_texture(k == 0 ? p.slot_a : p.slot_b, 56, 56);
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextUnformatted(label.c_str());
    ImGui::BeginDisabled(s.analysis.empty);
    if (ImGui::Button("From drawing")) app_slot_from_drawing(s, slot);
    note_item(s, k == 0 ? "a_from_drawing" : "b_from_drawing");
    ImGui::EndDisabled();
    ImGui::EndGroup();
    ImGui::PopID();
  }
  if (p.images.empty()) {
    ImGui::TextColored(kDimText, s.conditional ? "Fill A and B from the drawing or the Style panel's digits and cells."
                                               : "Fill A and B from the drawing, a sample or a grid cell.");
    return;
  }
  ImGui::Checkbox("Play", &p.play);
  ImGui::SameLine();
  ImGui::Checkbox("Spherical", &p.slerp);
  help_marker(s, "morph", "Spherical interpolation (slerp) keeps codes at a typical distance from the origin, where a Gaussian "
              "prior puts its mass; linear interpolation passes closer to the origin.");
  if (p.play) p.t = float(0.5 - 0.5 * std::cos(s.time * 1.6));  // ease A -> B -> A
  ImGui::SetNextItemWidth(std::max(80.f, width - 130.f));
  if (ImGui::SliderFloat("t", &p.t, 0.f, 1.f, "%.2f")) p.play = false;
  show_texture(p.frame, 112, 112);
  const float strip_w = std::max(80.f, width - 16.f);
  show_texture(p.strip, strip_w, strip_w / (MorphPanel::kFrames / 4));
  if (ImGui::Button("Save morph")) morph_save(s, p);
}

void panel_json(const Shared&, const MorphPanel& p, Json& j) {
  j["morph"] = p.images.empty() ? 0 : MorphPanel::kFrames;
}

}  // namespace app
