// The Repair panel (repair.hpp).
#include "app/panels/repair.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/input_key.hpp"
#include "app/panels/encoding.hpp"

namespace app {

namespace {

constexpr vae::Restore kMethods[] = {vae::Restore::OnePass,  vae::Restore::PosteriorMean, vae::Restore::PseudoGibbs,
                                     vae::Restore::MetropolisGibbs, vae::Restore::Map,   vae::Restore::MeanImage,
                                     vae::Restore::Pca,      vae::Restore::Median};
constexpr const char* kDamageLabels[] = {"noise", "salt & pepper", "missing pixels", "block", "mask"};

// The clean image the damage is applied to, or why there is none.
std::string original_of(const Shared& s, const RepairPanel& p, std::vector<float>& out) {
  out.clear();
  if (p.source == RepairPanel::kDrawing) {
    if (s.analysis.empty) return "nothing drawn: draw a digit, or pick a test digit";
    out = s.analysis.input;
    return "";
  }
  switch (s.digits_state) {
    case Shared::Digits::Failed: return s.digits_error;
    case Shared::Digits::Ready: break;
    default: return "loading the test digits ...";
  }
  if (s.digits.pixels() != s.model.arch.D) return "the test digits are MNIST's; this model's images are not 28x28";
  const int i = std::clamp(p.digit, 0, s.digits.count - 1);
  out.assign(s.digits.image(i), s.digits.image(i) + s.digits.pixels());
  return "";
}

uint64_t inputs_key(const Shared& s, const RepairPanel& p, const std::vector<float>& original, bool with_method) {
  InputKey k;
  k.add(s.model_generation).add(original).add(int(p.damage.kind)).add(p.damage.amount).add(int(p.damage.block))
      .add(p.damage.seed).add(p.options.iterations).add(p.options.seed);
  if (p.damage.kind == vae::Damage::Mask)
    k.add(std::vector<float>(p.mask.begin(), p.mask.end()));
  if (with_method) k.add(int(p.method));
  return k.value();
}

vae::RepairModels models_of(const Shared& s) { return {&s.model, &s.infer, &s.pca}; }

// The panel's options with the burn-in following the iterations: a fifth of them (20 of the default 100, as
// `vae restore` has it).
vae::RestoreOptions options_of(const RepairPanel& p) {
  vae::RestoreOptions o = p.options;
  o.burn_in = o.iterations / 5;
  return o;
}

}  // namespace

std::vector<uint8_t> damaged_rgba(const vae::Damaged& d) {
  std::vector<uint8_t> rgba(d.image.size() * 4);
  for (size_t i = 0; i < d.image.size(); ++i) {
    const uint8_t v = uint8_t(std::lround(std::clamp(d.image[i], 0.f, 1.f) * 255.f));
    const bool hidden = !d.observed.empty() && !d.observed[i];
    rgba[4 * i] = hidden ? 40 : v;
    rgba[4 * i + 1] = hidden ? 60 : v;
    rgba[4 * i + 2] = hidden ? 120 : v;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

void mask_paint(std::vector<uint8_t>& mask, int rows, int cols, float x, float y, float r, bool erase) {
  if (mask.size() != size_t(rows) * size_t(cols)) mask.assign(size_t(rows) * size_t(cols), 0);
  for (int row = std::max(0, int(y - r - 1)); row < std::min(rows, int(y + r + 2)); ++row)
    for (int col = std::max(0, int(x - r - 1)); col < std::min(cols, int(x + r + 2)); ++col) {
      const float dx = col + 0.5f - x, dy = row + 0.5f - y;
      if (dx * dx + dy * dy <= r * r) mask[size_t(row) * size_t(cols) + size_t(col)] = erase ? 0 : 1;
    }
}

bool panel_update(const Shared& s, RepairPanel& p) {
  const vae::Arch& a = s.model.arch;
  if (p.mask.size() != size_t(a.D)) p.mask.assign(size_t(a.D), 0);
  std::vector<float> original;
  const std::string why = original_of(s, p, original);
  const uint64_t key = InputKey().add(inputs_key(s, p, original, true)).add(why).value();
  if (key != p.key) {
    p.key = key;
    p.original = original;
    p.error = why;
    p.restored = vae::Restored{};
    p.damaged = vae::Damaged{};
    p.frame_shown = -2;
    p.started = s.time;
    if (why.empty() && p.damage.kind == vae::Damage::Mask &&
        std::none_of(p.mask.begin(), p.mask.end(), [](uint8_t v) { return v != 0; }))
      p.error = "the mask hides nothing yet: paint over the digit to hide part of it";
    if (p.error.empty()) {
      vae::Status st = vae::damage_apply(original.data(), a.image_rows, a.image_cols, p.damage, p.mask.data(), p.damaged);
      if (st && !vae::restore_applies(p.method, p.damaged, !s.pca.empty()))
        st = vae::Status::error(std::string(vae::restore_label(p.method)) + " does not apply to this damage");
      if (st) st = vae::restore(models_of(s), p.damaged, p.method, options_of(p), p.restored);
      if (!st) {
        p.error = st.message();
        p.damaged = vae::Damaged{};
      }
    }
    if (p.error.empty()) {
      p.errors = vae::image_errors(p.original.data(), p.restored.image.data(), a.D, p.damaged.damaged.data());
      texture_set_rgba(p.damaged_tex, damaged_rgba(p.damaged), a.image_cols, a.image_rows);
      texture_set(p.original_tex, p.original, a.image_cols, a.image_rows);
      texture_set_rgba(p.difference_tex, difference_rgba(p.original, p.restored.image), a.image_cols, a.image_rows);
    }
  }
  // Every method on the same damage, once the inputs have settled (not while a mask stroke is being painted).
  const uint64_t tkey = inputs_key(s, p, original, false);
  if (tkey != p.table_key && !p.painting) {
    p.table_key = tkey;
    p.table.clear();
    if (p.error.empty())
      for (vae::Restore r : kMethods) {
        if (!vae::restore_applies(r, p.damaged, !s.pca.empty())) continue;
        vae::Restored out;
        if (!vae::restore(models_of(s), p.damaged, r, options_of(p), out)) continue;
        p.table.push_back({r, vae::image_errors(p.original.data(), out.image.data(), a.D, p.damaged.damaged.data()),
                           out.acceptance});
      }
  }
  if (!p.error.empty()) return false;
  // The animation: the iterations' estimates over kAnimationSeconds, then the result.
  const int T = p.restored.iterations;
  int frame = -1;
  if (T > 0) {
    const double t = (s.time - p.started) / RepairPanel::kAnimationSeconds;
    frame = t >= 1 ? -1 : std::clamp(int(t * T), 0, T - 1);
  }
  if (frame != p.frame_shown) {
    const std::vector<float> img = frame < 0 ? p.restored.image : image_at(p.restored.frames, frame, a.D);
    texture_set(p.restored_tex, img, a.image_cols, a.image_rows);
    p.frame_shown = frame;
  }
  return false;
}

void panel_draw(Shared& s, RepairPanel& p, const Space& space) {
  const vae::Arch& a = s.model.arch;
  section("Repair: damage a digit, let the model restore it");
  if (p.source == RepairPanel::kTestDigit && s.digits_state == Shared::Digits::None)
    s.digits_state = Shared::Digits::Wanted;  // the platform fetches them
  ImGui::TextUnformatted("Input");
  ImGui::SameLine();
  ImGui::RadioButton("your drawing", &p.source, RepairPanel::kDrawing);
  note_item(s, "repair_from_drawing");
  ImGui::SameLine();
  ImGui::RadioButton("a test digit", &p.source, RepairPanel::kTestDigit);
  note_item(s, "repair_from_digit");
  if (p.source == RepairPanel::kTestDigit && s.digits_state == Shared::Digits::Ready) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    ImGui::SliderInt("##digit", &p.digit, 0, s.digits.count - 1, "#%d");
    same_line_if_fits(button_width("Next"));
    if (ImGui::Button("Next")) p.digit = (p.digit + 1) % std::max(1, s.digits.count);
    note_item(s, "repair_next");
    same_line_if_fits(ImGui::CalcTextSize("label 0").x);
    ImGui::TextColored(kDimText, "label %d", int(s.digits.labels[size_t(std::clamp(p.digit, 0, s.digits.count - 1))]));
  }

  // One radio button per damage kind, each keeping its own amount.
  static constexpr const char* kWidgetNames[] = {"repair_damage_gaussian", "repair_damage_salt_pepper",
                                                 "repair_damage_missing_pixels", "repair_damage_block",
                                                 "repair_damage_mask"};
  ImGui::TextUnformatted("Damage");
  for (int k = 0; k < 5; ++k) {
    same_line_if_fits(toggle_width(kDamageLabels[k]));
    if (ImGui::RadioButton(kDamageLabels[k], int(p.damage.kind) == k) && int(p.damage.kind) != k) {
      p.amounts[int(p.damage.kind)] = p.damage.amount;
      p.damage.kind = vae::Damage(k);
      p.damage.amount = p.amounts[k];
    }
    note_item(s, kWidgetNames[k]);
  }
  ImGui::SetNextItemWidth(150);
  switch (p.damage.kind) {
    case vae::Damage::Gaussian: ImGui::SliderFloat("σ", &p.damage.amount, 0.05f, 1.5f, "%.2f"); break;
    case vae::Damage::SaltPepper:
    case vae::Damage::MissingPixels: ImGui::SliderFloat("rate", &p.damage.amount, 0.05f, 0.95f, "%.2f"); break;
    case vae::Damage::MissingBlock: {
      int b = int(p.damage.block);
      if (ImGui::Combo("block", &b, "top half\0bottom half\0left half\0right half\0centred square\0"))
        p.damage.block = vae::Block(b);
      if (p.damage.block == vae::Block::Centre) {
        ImGui::SetNextItemWidth(150);
        ImGui::SliderFloat("square side", &p.damage.amount, 0.1f, 0.9f, "%.2f");
      }
      break;
    }
    case vae::Damage::Mask:
      ImGui::SliderFloat("brush", &p.brush, 0.5f, 4.f, "%.1f px");
      ImGui::SameLine();
      if (ImGui::Button("Clear mask")) std::fill(p.mask.begin(), p.mask.end(), uint8_t(0));
      note_item(s, "repair_clear_mask");
      break;
  }
  if (p.damage.kind != vae::Damage::MissingBlock && p.damage.kind != vae::Damage::Mask) {
    ImGui::SameLine();
    ImGui::Text("seed %llu", static_cast<unsigned long long>(p.damage.seed));
    ImGui::SameLine();
    if (ImGui::SmallButton("new")) ++p.damage.seed;
  }

  int m = int(std::find(std::begin(kMethods), std::end(kMethods), p.method) - std::begin(kMethods));
  ImGui::SetNextItemWidth(260);
  if (ImGui::BeginCombo("Restore", vae::restore_label(p.method))) {
    for (int i = 0; i < int(std::size(kMethods)); ++i) {
      const bool ok = p.damaged.D() == 0 || vae::restore_applies(kMethods[i], p.damaged, !s.pca.empty());
      ImGui::BeginDisabled(!ok);
      if (ImGui::Selectable(vae::restore_label(kMethods[i]), i == m)) p.method = kMethods[i];
      ImGui::EndDisabled();
    }
    ImGui::EndCombo();
  }
  note_item(s, "repair_method");
  help_marker(s, "repair_method", "One pass: encode the damaged image, decode its mean. Posterior mean: the decoded mean over samples "
              "z ~ q(z|x). Pseudo-Gibbs (Rezende et al. 2014): alternately encode the current image and redraw the "
              "hidden pixels from the decoder, the seen ones clamped. Metropolis-within-Gibbs (Mattei & Frellsen "
              "2018): the same proposals, accepted or rejected so that the chain samples the right posterior. "
              "MAP: gradient ascent on log p(seen pixels | z) + log p(z). Baselines: the training set's mean "
              "image, PCA with as many components as the model has latent dimensions fitted to the seen pixels, "
              "and a 3x3 median filter for noise.");
  ImGui::SetNextItemWidth(150);
  ImGui::SliderInt("iterations", &p.options.iterations, 10, 400);

  if (!p.error.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kWarnText, "%s", p.error.c_str());
    ImGui::PopTextWrapPos();
    if (p.damage.kind != vae::Damage::Mask) return;
  }
  // damaged | restored | original | difference, the damaged one taking the mask brush.
  // The column's room left of its scrollbar, for four images and three gaps.
  const float room = std::min(space.width, ImGui::GetContentRegionAvail().x);
  const float side = std::min(110.f, (room - 3 * ImGui::GetStyle().ItemSpacing.x) / 4.f);
  ImGui::BeginGroup();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  if (p.damage.kind == vae::Damage::Mask) {
    ImGui::InvisibleButton("mask", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    note_item(s, "repair_mask");
    const bool was_painting = p.painting;
    p.painting = ImGui::IsItemActive();
    if (p.painting) {
      // Along the segment from the last frame's pointer, so that a quick stroke leaves no gaps.
      const ImVec2 mp = ImGui::GetIO().MousePos;
      const float x = (mp.x - p0.x) / side * a.image_cols, y = (mp.y - p0.y) / side * a.image_rows;
      const float x0 = was_painting ? p.last_paint[0] : x, y0 = was_painting ? p.last_paint[1] : y;
      const int steps = 1 + int(std::hypot(x - x0, y - y0) / 0.5f);
      for (int k = 1; k <= steps; ++k)
        mask_paint(p.mask, a.image_rows, a.image_cols, x0 + (x - x0) * k / steps, y0 + (y - y0) * k / steps, p.brush,
                   ImGui::IsMouseDown(ImGuiMouseButton_Right));
      p.last_paint[0] = x;
      p.last_paint[1] = y;
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p1(p0.x + side, p0.y + side);
    if (texture_ready(p.damaged_tex) && p.error.empty()) dl->AddImage(texture_id(p.damaged_tex), p0, p1);
    else dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 255));
    // The mask itself, over whatever is shown (also while it hides nothing or everything).
    const float px = side / a.image_cols;
    for (int i = 0; i < a.D; ++i)
      if (p.mask[size_t(i)])
        dl->AddRectFilled(ImVec2(p0.x + (i % a.image_cols) * px, p0.y + (i / a.image_cols) * px),
                          ImVec2(p0.x + (i % a.image_cols + 1) * px, p0.y + (i / a.image_cols + 1) * px),
                          IM_COL32(60, 90, 200, 110));
    dl->AddRect(p0, p1, kCanvasBorder);
    ImGui::TextColored(kDimText, "paint to hide");
  } else {
    show_texture(p.damaged_tex, side, side);
    ImGui::TextColored(kDimText, "damaged");
  }
  ImGui::EndGroup();
  if (!p.error.empty()) return;
  ImGui::SameLine();
  captioned(p.restored_tex, side, p.frame_shown >= 0 ? "restoring ..." : "restored");
  ImGui::SameLine();
  captioned(p.original_tex, side, "original");
  ImGui::SameLine();
  captioned(p.difference_tex, side, "difference");
  ImGui::Text("on the %d damaged pixels: %s", p.errors.pixels, errors_line(p.errors).c_str());
  if (p.restored.acceptance >= 0) ImGui::TextColored(kDimText, "acceptance rate %.2f", p.restored.acceptance);
  if (p.restored.iterations > 0) {
    ImGui::SameLine();
    if (ImGui::SmallButton("replay")) p.started = s.time, p.frame_shown = -2;
  }
  if (!p.table.empty() && ImGui::BeginTable("methods", 4, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
    ImGui::TableSetupColumn("method");
    ImGui::TableSetupColumn("BCE (nats)");
    ImGui::TableSetupColumn("MSE");
    ImGui::TableSetupColumn("PSNR (dB)");
    ImGui::TableHeadersRow();
    for (const RepairPanel::Row& r : p.table) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (r.method == p.method) ImGui::TextColored(kGoodText, "%s", vae::restore_name(r.method));
      else ImGui::TextUnformatted(vae::restore_name(r.method));
      ImGui::TableNextColumn();
      ImGui::Text("%.1f", r.errors.bce);
      ImGui::TableNextColumn();
      ImGui::Text("%.4f", r.errors.mse);
      ImGui::TableNextColumn();
      ImGui::Text("%.1f", r.errors.psnr);
    }
    ImGui::EndTable();
  }
}

void panel_json(const Shared&, const RepairPanel& p, Json& j) {
  int mask_pixels = 0;
  for (uint8_t v : p.mask) mask_pixels += v != 0;
  const bool ok = p.error.empty();
  Json table = Json::array();
  for (const RepairPanel::Row& r : p.table)
    table.push_back({{"method", vae::restore_name(r.method)}, {"bce", r.errors.bce}, {"mse", r.errors.mse},
                     {"psnr", r.errors.psnr}});
  j["repair"] = {{"source", p.source == RepairPanel::kDrawing ? "drawing" : "test digit"},
                 {"digit", p.digit},
                 {"damage", vae::damage_name(p.damage.kind)},
                 {"amount", p.damage.amount},
                 {"block", vae::block_name(p.damage.block)},
                 {"seed", p.damage.seed},
                 {"method", vae::restore_name(p.method)},
                 {"error", json_or_null(!ok, p.error)},
                 {"mask_pixels", mask_pixels},
                 {"damaged_pixels", ok ? p.errors.pixels : 0},
                 {"bce", json_or_null(ok, p.errors.bce)},
                 {"mse", json_or_null(ok, p.errors.mse)},
                 {"psnr", json_or_null(ok, p.errors.psnr)},
                 {"acceptance", p.restored.acceptance},
                 {"frames", p.restored.iterations},
                 {"frame", p.frame_shown},
                 {"table", std::move(table)}};
}

}  // namespace app
