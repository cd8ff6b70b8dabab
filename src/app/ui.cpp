// The studio's layout (Dear ImGui): the header, then every panel of panels.hpp in its column (three columns on a
// wide screen, two on a medium one, one scrolling column on a narrow one). The panels draw themselves.
#include "app/ui.hpp"

#include <algorithm>
#include <cstdio>

#include "app/panel_ui.hpp"
#include "imgui.h"

namespace app {

namespace {

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

}  // namespace

void ui_draw(App& app) {
  app.widgets.clear();
  app_update(app);

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

  const float W = ImGui::GetContentRegionAvail().x;
  const int columns = W >= 1100 ? 3 : W >= 720 ? 2 : 1;
  const float col_w = (W - (columns - 1) * 8.f) / columns;
  const float H = columns == 1 ? 0 : ImGui::GetContentRegionAvail().y;
  const Space space{columns == 1 ? col_w - 8.f : col_w - 16.f, H, columns};
  static const char* const kColumnIds[] = {"left", "middle", "right"};
  for (int c = 0; c < columns; ++c) {
    if (c) ImGui::SameLine(0, 8);
    ImGui::BeginChild(columns == 1 ? "all" : kColumnIds[c], ImVec2(columns == 1 ? 0 : col_w, H), columns > 1,
                      ImGuiWindowFlags_AlwaysUseWindowPadding);
    for_each_panel(app.panels, [&](auto& p) {
      using P = std::decay_t<decltype(p)>;
      const int home = columns == 3 ? P::kWide : columns == 2 ? P::kMedium : 0;
      if (home != c) return;
      ImGui::PushID(&p);
      panel_draw(app, p, space);
      ImGui::PopID();
    });
    ImGui::EndChild();
  }
  ImGui::End();
}

}  // namespace app
