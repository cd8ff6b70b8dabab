// What the model sees and makes of the drawing (encoding.hpp).
#include "app/panels/encoding.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/export.hpp"

namespace app {

std::vector<uint8_t> difference_rgba(const std::vector<float>& original, const std::vector<float>& estimate,
                                     float* lost, float* added) {
  const size_t n = std::min(original.size(), estimate.size());
  std::vector<uint8_t> rgba(n * 4);
  double sum_lost = 0, sum_added = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = std::clamp(estimate[i] - original[i], -1.f, 1.f);
    const uint8_t v = uint8_t(std::lround(std::fabs(d) * 255.f));
    if (d < 0) sum_lost -= d;
    else sum_added += d;
    rgba[4 * i] = d < 0 ? v : 0;       // red: ink lost
    rgba[4 * i + 1] = d > 0 ? v : 0;   // cyan: ink added
    rgba[4 * i + 2] = d > 0 ? v : 0;
    rgba[4 * i + 3] = 255;
  }
  if (lost) *lost = float(sum_lost);
  if (added) *added = float(sum_added);
  return rgba;
}

std::string errors_line(const vae::ImageErrors& e) {
  char b[96];
  std::snprintf(b, sizeof b, "BCE %.1f nats  MSE %.4f  PSNR %.1f dB", e.bce, e.mse, e.psnr);
  return b;
}

bool panel_update(const Shared& s, EncodingPanel& p) {
  if (p.shown_version == s.analysis_version) return false;
  p.shown_version = s.analysis_version;
  const Analysis& an = s.analysis;
  const int side = s.model.arch.image_rows, D = s.model.arch.D;
  texture_set(p.input, an.input, side, side);
  if (an.empty) return false;
  texture_set(p.recon, an.recon, side, side);
  const Sheet sh = tile_images(an.samples, kPosteriorSamples, side, kPosteriorSamples);
  texture_set(p.samples, sh.pixels, sh.width, sh.height);
  texture_set_rgba(p.difference, difference_rgba(an.input, an.recon, &p.lost, &p.added), side, side);
  p.errors = vae::image_errors(an.input.data(), an.recon.data(), D);
  return false;
}

void encoding_save(Shared& s) {
  if (s.analysis.empty) {
    s.message = "nothing to save as reconstruction yet";
    return;
  }
  // The model's input beside its reconstruction, 8x.
  std::vector<float> pair = s.analysis.input;
  pair.insert(pair.end(), s.analysis.recon.begin(), s.analysis.recon.end());
  app_save_images(s, "vae-reconstruction.png", pair, 2, 2, 8);
}

void panel_draw(Shared& s, EncodingPanel& p, const Space& space) {
  const Analysis& an = s.analysis;
  const int Z = s.model.arch.Z;
  const float width = space.width;
  const float big = std::min(96.f, (width - 24.f) / 3.f);

  section("What the model sees");
  ImGui::Checkbox("Plain downscale", &s.plain_input);
  help_marker(s, "input", "MNIST's preprocessing scales the ink's bounding box to fit 20x20 keeping its aspect ratio and centres "
              "it by mass in 28x28. The plain downscale shrinks the whole canvas instead, for comparison.");
  captioned(p.input, big, "input 28x28");
  ImGui::SameLine();
  ImGui::BeginGroup();
  if (an.empty) ImGui::Dummy(ImVec2(big, big));
  else show_texture(p.recon, big, big);
  ImGui::TextColored(kDimText, "reconstruction");
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  if (an.empty) ImGui::Dummy(ImVec2(big, big));
  else show_texture(p.difference, big, big);
  note_item(s, "difference");
  ImGui::TextColored(kDimText, "difference");
  ImGui::EndGroup();
  if (an.empty) {
    ImGui::TextColored(kDimText, "Nothing drawn yet: draw a digit on the canvas.");
    return;
  }
  ImGui::TextColored(ImVec4(1.f, 0.35f, 0.3f, 1.f), "red");
  ImGui::SameLine(0, 4);
  ImGui::TextColored(kDimText, "ink lost %.1f,", p.lost);
  ImGui::SameLine(0, 6);
  ImGui::TextColored(ImVec4(0.3f, 0.9f, 0.95f, 1.f), "cyan");
  ImGui::SameLine(0, 4);
  ImGui::TextColored(kDimText, "ink added %.1f", p.added);
  ImGui::Text("%s", errors_line(p.errors).c_str());
  help_marker(s, "metrics", "The reconstruction (the decoder's mean at z = μ) against the model's input, over all 784 pixels: "
              "binary cross-entropy (the ELBO's reconstruction term at z = μ), mean squared error, and "
              "PSNR = 10 log₁₀(1 / MSE) with peak value 1.");
  if (ImGui::Button("Save reconstruction")) encoding_save(s);
  note_item(s, "save_reconstruction");
  const float strip = std::min(width, 6.f * 48.f);
  show_texture(p.samples, strip, strip / kPosteriorSamples);
  ImGui::TextColored(kDimText, "decoded samples z ~ q(z|x)");

  section("ELBO (nats)");
  ImGui::Text("ELBO %.1f  =  -(reconstruction %.1f + KL %.1f)", an.elbo(), an.rec, an.kl);
  const float total = float(an.rec + an.kl);
  if (total > 0) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float w = width, split = w * float(an.rec) / total;
    dl->AddRectFilled(at, ImVec2(at.x + split, at.y + 10), IM_COL32(70, 130, 200, 255));
    dl->AddRectFilled(ImVec2(at.x + split, at.y), ImVec2(at.x + w, at.y + 10), IM_COL32(220, 140, 60, 255));
    ImGui::Dummy(ImVec2(w, 12));
  }
  if (s.analysis_has_iw) {
    ImGui::Text("log p(x) %.1f nats", an.log_px);
    help_marker(s, "log_px", "Importance-weighted estimate (Burda et al. 2015, K = 500) on the drawing binarised as the test set "
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

  section("Posterior q(z|x): mean μ and one σ per dimension");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int shown = std::min(Z, 32);
  const float row = shown > 8 ? 6.f : 12.f, w = width - 70.f;
  const ImVec2 at = ImGui::GetCursorScreenPos();
  auto x_of = [&](float v) { return at.x + 40.f + (std::clamp(v, -3.f, 3.f) + 3.f) / 6.f * w; };
  dl->AddLine(ImVec2(x_of(0), at.y), ImVec2(x_of(0), at.y + row * shown), IM_COL32(120, 120, 120, 255));
  for (int j = 0; j < shown; ++j) {
    const float y = at.y + row * (j + 0.5f), m = an.mu[size_t(j)], sd = an.sigma[size_t(j)];
    dl->AddLine(ImVec2(x_of(m - sd), y), ImVec2(x_of(m + sd), y), IM_COL32(220, 140, 60, 255), 2.f);
    dl->AddCircleFilled(ImVec2(x_of(m), y), row > 6 ? 3.f : 2.f, IM_COL32(255, 255, 255, 255));
    if (shown <= 8) {
      char label[16];
      std::snprintf(label, sizeof label, "z%d", j + 1);
      dl->AddText(ImVec2(at.x, y - 7), IM_COL32(170, 170, 170, 255), label);
    }
  }
  ImGui::Dummy(ImVec2(width, row * shown + 4));
  ImGui::TextColored(kDimText, "axis -3..3; %s", Z > 32 ? "first 32 dimensions" : "prior N(0, 1) for comparison");
  if (Z <= 4)
    for (int j = 0; j < Z; ++j) ImGui::Text("z%d:  μ %+.3f   σ %.3f", j + 1, an.mu[size_t(j)], an.sigma[size_t(j)]);
}

void panel_json(const Shared& s, const EncodingPanel& p, Json& j) {
  const Analysis& an = s.analysis;
  j["empty"] = an.empty;
  j["z"] = an.mu;
  j["sigma"] = an.sigma;
  j["elbo"] = json_or_null(!an.empty, an.elbo());
  j["rec"] = json_or_null(!an.empty, an.rec);
  j["kl"] = json_or_null(!an.empty, an.kl);
  j["log_px"] = json_or_null(s.analysis_has_iw, an.log_px);
  j["percentile"] = json_or_null(s.analysis_has_iw && an.percentile >= 0, an.percentile);
  j["difference"] = an.empty ? Json(nullptr)
                             : Json{{"bce", p.errors.bce}, {"mse", p.errors.mse}, {"psnr", p.errors.psnr},
                                    {"lost", p.lost}, {"added", p.added}};
}

}  // namespace app
