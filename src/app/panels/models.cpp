// The models panel (models.hpp).
#include "app/panels/models.hpp"

#include <algorithm>
#include <iterator>

namespace app {

bool panel_update(const Shared&, ModelsPanel&) { return false; }

void panel_draw(Shared& s, ModelsPanel&, const Space&) {
  section("Models");
  auto row = [](const vae::Metadata& meta, const char* label, const char* key, const char* unit) {
    const std::string v = vae::meta_get(meta, key);
    if (!v.empty()) ImGui::Text("  %-28s %s%s", label, v.c_str(), unit);
  };
  for (const char* name : kModelNames) {
    const auto seen = std::find_if(s.seen_models.begin(), s.seen_models.end(),
                                   [name](const ModelSummary& s) { return s.name == name; });
    const bool current = s.model_name == name;
    ImGui::PushID(name);
    if (current) ImGui::TextColored(kGoodText, "%s (in use)", name);
    else if (ImGui::SmallButton(name)) s.requested_model = name;
    if (seen == s.seen_models.end()) {
      ImGui::SameLine();
      ImGui::TextColored(kDimText, s.loading_model == name ? "loading ..." : "not loaded yet: click to load");
      ImGui::PopID();
      continue;
    }
    ImGui::SameLine();
    // A quantized file (vae quantize) says so on this line; `vae info` gives its method and rounding.
    const bool int8 = !vae::meta_get(seen->meta, "quant.method").empty();
    ImGui::Text("%s, %zu parameters%s", seen->arch.c_str(), seen->parameters, int8 ? ", int8 weights" : "");
    row(seen->meta, "data set", "dataset", "");
    row(seen->meta, "epochs", "train.epochs", "");
    row(seen->meta, "test NLL (IW bound)", "test.nll", " nats");
    row(seen->meta, "  -log p(x|y), given the label", "test.nll_given_label", " nats");
    row(seen->meta, "classifier q(y|x) error", "test.classifier_error", " %");
    row(seen->meta, "generative classifier error", "test.generative_error", " %");
    row(seen->meta, "analogies read as their label", "test.analogy_agreement", " %");
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
  if (s.can_pick_files) {
    if (ImGui::SmallButton("Open a model file...")) s.open_file_requested = true;
    note_item(s, "open_model_file");
  }
  const char* drop = s.can_pick_files ? "or drop a .safetensors file on the page"
                                      : "drop a .safetensors file on the window to open it";
  if (s.can_pick_files) same_line_if_fits(ImGui::CalcTextSize(drop).x);
  ImGui::TextColored(kDimText, "%s", drop);
  help_marker(s, "open_file", "Any file of this architecture opens: ours, or a PyTorch state dict saved with safetensors "
              "(tools/pytorch/vae.py trains and exports one). It stays on this computer.");
  // A model opened from elsewhere (the desktop's --model, a file opened or dropped) is listed too.
  if (std::none_of(std::begin(kModelNames), std::end(kModelNames), [&s](const char* n) { return s.model_name == n; }))
    ImGui::TextColored(kGoodText, "%s (in use) %s", s.model_name.c_str(), s.model.arch.describe().c_str());
  if (!s.model_name.empty() && !vae::meta_is_ours(s.model_meta)) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kWarnText, "  %s is a plain state dict: its architecture was read from its tensors' names "
                       "and shapes; it carries no test figures, training command, latent map or PCA.",
                       s.model_name.c_str());
    ImGui::PopTextWrapPos();
  }
}

void panel_json(const Shared& s, const ModelsPanel&, Json& j) {
  // A file without our metadata (a PyTorch state dict) has no figures or training command: said, not invented.
  j["model_metadata"] = s.model_name.empty() ? Json(nullptr) : Json(vae::meta_is_ours(s.model_meta));
  // How many of the model's layers run on the int8 kernel (a quantized file's), the rest on the float one.
  j["int8_layers"] = s.conditional ? s.cinfer.int8_layers() : s.infer.int8_layers();
}

}  // namespace app
