// The VAE beside PCA (compare.hpp).
#include "app/panels/compare.hpp"

#include <algorithm>
#include <cmath>

#include "app/input_key.hpp"
#include "app/panels/encoding.hpp"
#include "vae/latent.hpp"

namespace app {

std::vector<float> pca_plane_grid(const vae::Pca& pca, int n) {
  std::vector<float> images;
  if (pca.K != 2) return images;
  const std::vector<float> axis = vae::grid_axis(n, vae::GridSpacing::InverseCdf, 3.f);
  images.resize(size_t(n) * size_t(n) * size_t(pca.D));
  const float sa = std::sqrt(std::max(pca.variances[0], 0.f)), sb = std::sqrt(std::max(pca.variances[1], 0.f));
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const float code[2] = {axis[size_t(c)] * sa, axis[size_t(n - 1 - r)] * sb};
      vae::pca_decode(pca, code, images.data() + size_t(r * n + c) * size_t(pca.D));
    }
  return images;
}

bool panel_update(const Shared& s, ComparePanel& p) {
  const vae::Arch& a = s.model.arch;
  const uint64_t key = InputKey().add(s.model_generation).add(s.analysis_version).add(p.temperature).add(p.seed).value();
  if (key == p.key) return false;
  p.key = key;
  p.pca_recon.clear();
  p.pca_samples.clear();
  p.vae_grid.clear();
  p.pca_grid.clear();
  const Analysis& an = s.analysis;
  const bool have_pca = !s.pca.empty() && s.pca.D == a.D;
  if (!an.empty) {
    p.vae_errors = vae::image_errors(an.input.data(), an.recon.data(), a.D);
    texture_set(p.vae_recon_tex, an.recon, a.image_cols, a.image_rows);
    if (have_pca) {
      p.pca_recon.resize(size_t(a.D));
      vae::pca_reconstruct(s.pca, an.input.data(), p.pca_recon.data());
      p.pca_errors = vae::image_errors(an.input.data(), p.pca_recon.data(), a.D);
      texture_set(p.pca_recon_tex, p.pca_recon, a.image_cols, a.image_rows);
    }
  }
  // The same count, seed and temperature for both: z ~ N(0, t^2 I) decoded, c ~ N(0, t^2 diag(variances)).
  decode_codes(s.infer, prior_codes(a.Z, ComparePanel::kSamples, p.temperature, p.seed), ComparePanel::kSamples,
               p.vae_samples);
  Sheet sh = tile_images(p.vae_samples, ComparePanel::kSamples, a.image_rows, ComparePanel::kSamples / 2);
  texture_set(p.vae_samples_tex, sh.pixels, sh.width, sh.height);
  if (have_pca) {
    p.pca_samples = vae::pca_sample(s.pca, ComparePanel::kSamples, p.temperature, p.seed);
    sh = tile_images(p.pca_samples, ComparePanel::kSamples, a.image_rows, ComparePanel::kSamples / 2);
    texture_set(p.pca_samples_tex, sh.pixels, sh.width, sh.height);
  }
  if (have_pca && a.Z == 2 && s.pca.K == 2) {
    GridView g;
    g.n = ComparePanel::kGrid;
    std::vector<float> codes;
    grid_codes(s.map, a.Z, {}, g, codes);
    decode_codes(s.infer, codes, g.n * g.n, p.vae_grid);
    p.pca_grid = pca_plane_grid(s.pca, g.n);
    sh = tile_images(p.vae_grid, g.n * g.n, a.image_rows, g.n);
    texture_set(p.vae_grid_tex, sh.pixels, sh.width, sh.height);
    sh = tile_images(p.pca_grid, g.n * g.n, a.image_rows, g.n);
    texture_set(p.pca_grid_tex, sh.pixels, sh.width, sh.height);
  }
  return false;
}

void panel_draw(Shared& s, ComparePanel& p, const Space& space) {
  section("The VAE beside PCA");
  if (s.pca.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kDimText, "This model file ships no PCA to compare with (vae pca --model FILE adds one).");
    ImGui::PopTextWrapPos();
    return;
  }
  ImGui::TextColored(kDimText, "PCA with %d components (as many as the latent dimensions), fitted to %s", s.pca.K,
                     s.pca.source.empty() ? "the training images" : s.pca.source.c_str());
  const float side = std::min(96.f, (space.width - 16.f) / 3.f);
  if (s.analysis.empty) {
    ImGui::TextColored(kDimText, "Draw a digit to see both reconstructions.");
  } else {
    captioned(p.vae_recon_tex, side, "VAE");
    ImGui::SameLine();
    captioned(p.pca_recon_tex, side, "PCA");
    ImGui::Text("VAE %s", errors_line(p.vae_errors).c_str());
    ImGui::Text("PCA %s", errors_line(p.pca_errors).c_str());
  }
  ImGui::SetNextItemWidth(140);
  ImGui::SliderFloat("Temperature##compare", &p.temperature, 0.1f, 2.0f, "%.2f");
  ImGui::SameLine();
  if (ImGui::Button("New samples##compare")) ++p.seed;
  note_item(s, "compare_new_samples");
  const float w = std::min((space.width - 12.f) / 2.f, 200.f);
  const float h = w / (ComparePanel::kSamples / 2) * 2;
  ImGui::BeginGroup();
  show_texture(p.vae_samples_tex, w, h);
  ImGui::TextColored(kDimText, "VAE samples");
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  show_texture(p.pca_samples_tex, w, h);
  ImGui::TextColored(kDimText, "PCA samples");
  ImGui::EndGroup();
  if (!p.pca_grid.empty()) {
    ImGui::BeginGroup();
    show_texture(p.vae_grid_tex, w, w);
    ImGui::TextColored(kDimText, "VAE latent plane");
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    show_texture(p.pca_grid_tex, w, w);
    ImGui::TextColored(kDimText, "PCA plane");
    ImGui::EndGroup();
  }
}

void panel_json(const Shared& s, const ComparePanel& p, Json& j) {
  auto errors = [](bool known, const vae::ImageErrors& e) {
    return known ? Json{{"bce", e.bce}, {"mse", e.mse}, {"psnr", e.psnr}} : Json(nullptr);
  };
  const size_t D = size_t(std::max(1, s.model.arch.D));
  j["compare"] = {{"pca", s.pca.K},
                  {"vae_recon", errors(!s.analysis.empty, p.vae_errors)},
                  {"pca_recon", errors(!p.pca_recon.empty(), p.pca_errors)},
                  {"samples", {{"vae", p.vae_samples.size() / D}, {"pca", p.pca_samples.size() / D}}},
                  {"grid", p.pca_grid.size() / D}};
}

}  // namespace app
