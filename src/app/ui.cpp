// The studio's layout (Dear ImGui): the header (what the page is, the model picker, the first-run hint), then
// every panel of panels.hpp in its column: three columns on a wide screen, two on a medium one, and on a phone one
// scrolling column with a section bar to jump between the panels. A finger scrolls a column by dragging anywhere a
// panel does not give the drag a meaning of its own (after ocornut/imgui issue 3379's recipe: Dear ImGui 1.86
// has no touch scrolling). The panels draw themselves.
#include "app/ui.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "app/panel_ui.hpp"
#include "app/style.hpp"
#include "imgui.h"
#include "imgui_internal.h"  // SetScrollY(window, y), ClearActiveID, FindWindowByID: 1.86 has them only here

namespace app {

namespace {

constexpr float kSlop = 8.f;  // units a finger moves before its drag is a swipe (a smaller move is a tap)

// What the page is, in three lines (Kingma & Welling 2013, "Auto-Encoding Variational Bayes", arXiv:1312.6114).
constexpr const char* kIntro =
    "A variational autoencoder learns to squeeze each image into a few numbers, a code z, and to rebuild the "
    "image from them. Its encoder gives your drawing a Gaussian q(z|x) = N(μ, σ²); its decoder turns any code back "
    "into a digit, so nearby codes draw alike and codes drawn at random are new digits. Both are trained together "
    "to maximise the evidence lower bound, the ELBO (Kingma & Welling 2013, arXiv:1312.6114).";

// A panel the model in use cannot feed: what it needs, and the model that has it.
void draw_unmet_need(App& app, const char* section_name, Needs needs) {
  section(section_name);
  ImGui::PushTextWrapPos(0);
  const bool conditional = needs == Needs::Conditional;
  const char* other = conditional ? "mnist-cvae" : kModelNames[0];
  if (conditional)
    ImGui::TextColored(kDimText, "Needs a label-conditioned model, which keeps which digit it is (a label) apart from "
                       "how it is written (the code z).");
  else
    ImGui::TextColored(kDimText, "%s is label-conditioned: this panel needs a plain VAE. The Style panel shows what it does.",
                       app.model_name.c_str());
  ImGui::PopTextWrapPos();
  const std::string button = std::string("Use ") + other;
  if (app.loading_model == other) ImGui::TextColored(kDimText, "loading %s ...", other);
  else if (ImGui::SmallButton(button.c_str())) app.requested_model = other;
  std::string widget = "need_" + std::string(section_name);
  std::transform(widget.begin(), widget.end(), widget.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  note_item(app, widget.c_str());
}

void draw_model_picker(App& app, float width) {
  ImGui::SetNextItemWidth(width);
  if (ImGui::BeginCombo("Model", app.model_name.empty() ? "(none)" : app.model_name.c_str())) {
    for (const char* name : kModelNames)
      if (ImGui::Selectable(name, app.model_name == name) && app.model_name != name) app.requested_model = name;
    ImGui::EndCombo();
  }
  note_item(app, "model_picker");
}

void draw_header(App& app, bool narrow) {
  ImGui::PushFont(style_title_font());
  ImGui::TextColored(kTitleText, "VAE Studio");
  ImGui::PopFont();
  const float top = ImGui::GetItemRectMin().y, title_h = ImGui::GetItemRectSize().y;
  if (!narrow) {  // the tagline on the title's baseline
    ImGui::SameLine(0, 14);
    ImGui::SetCursorScreenPos(ImVec2(ImGui::GetCursorScreenPos().x, top + title_h - ImGui::GetTextLineHeight() - 2.f));
    ImGui::TextColored(kDimText, "a variational autoencoder for handwritten digits, running entirely on your device");
  }
  // The model picker at the right end of the title's line, centred on it.
  const float picker = narrow ? 130.f : 160.f;
  const float picker_w = picker + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("Model").x;
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  ImGui::SameLine();
  ImGui::SetCursorScreenPos(ImVec2(std::max(ImGui::GetCursorScreenPos().x, right - picker_w),
                                   top + (title_h - ImGui::GetFrameHeight()) / 2));
  draw_model_picker(app, picker);
  if (narrow) {
    ImGui::TextColored(kDimText, "a variational autoencoder for handwritten digits");
    if (ImGui::TreeNode("What does it do?")) {
      ImGui::PushTextWrapPos(0.f);
      ImGui::TextColored(kDimText, "%s", kIntro);
      ImGui::PopTextWrapPos();
      ImGui::TreePop();
    }
  } else {
    ImGui::PushTextWrapPos(0.f);
    ImGui::TextColored(kDimText, "%s", kIntro);
    ImGui::PopTextWrapPos();
  }
  if (!app.loading_model.empty()) {
    char label[64];
    std::snprintf(label, sizeof label, "loading %s", app.loading_model.c_str());
    ImGui::ProgressBar(app.loading_progress >= 0 ? app.loading_progress : 0.f, ImVec2(std::min(240.f, picker_w), 0), label);
  }
  if (!app.message.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, kErrorText);
    ImGui::TextWrapped("%s", app.message.c_str());
    ImGui::PopStyleColor();
  }
}

// The one column's jump bar: one button per panel, the one at the top of the column lit.
void draw_section_bar(App& app) {
  ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(9, 5));
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(6, 6));
  int i = 0;
  for_each_panel(app.panels, [&](auto& p) {
    using P = std::decay_t<decltype(p)>;
    const bool current = i == app.layout.current;
    if (current) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyle().Colors[ImGuiCol_ButtonActive]);
    if (i) same_line_if_fits(button_width(P::kSection));
    if (ImGui::Button(P::kSection)) app.layout.jump = i;
    char name[32];
    std::snprintf(name, sizeof name, "section_%s", P::kSection);
    for (char* c = name; *c; ++c) *c = char(std::tolower(static_cast<unsigned char>(*c)));
    note_item(app, name);
    if (current) ImGui::PopStyleColor();
    ++i;
  });
  ImGui::PopStyleVar(2);
}

// A finger on a column: past kSlop units of mostly vertical travel, with no panel claiming the drag and no pinch,
// the press stops being a press (nothing it went down on is clicked) and the column follows the finger; after the
// finger lifts the column glides on and slows down. A sideways drag keeps its meaning (a slider).
void swipe_update(App& app) {
  Layout::Swipe& sw = app.layout.swipe;
  if (!app.touch) {
    sw = Layout::Swipe{};
    return;
  }
  ImGuiContext& g = *GImGui;
  const ImGuiIO& io = g.IO;
  if (io.MouseClicked[0]) {
    sw = Layout::Swipe{};
    sw.tracking = true;
    sw.x0 = io.MousePos.x;
    sw.y0 = io.MousePos.y;
    for (ImGuiWindow* w = g.HoveredWindow; w; w = w->ParentWindow)
      if (w->ScrollMax.y > 0) {
        sw.window = w->ID;
        break;
      }
    return;
  }
  ImGuiWindow* w = sw.window ? ImGui::FindWindowByID(sw.window) : nullptr;
  if (!w) return;
  const float dt = std::max(io.DeltaTime, 1e-3f);
  if (!io.MouseDown[0]) {  // lifted: glide
    sw.tracking = sw.scrolling = false;
    if (std::abs(sw.velocity) < 30.f) {
      sw.velocity = 0;
      return;
    }
    ImGui::SetScrollY(w, std::clamp(w->Scroll.y - sw.velocity * dt, 0.f, w->ScrollMax.y));
    sw.velocity *= std::exp(-4.f * dt);
    return;
  }
  if (!sw.tracking) return;
  if (!sw.scrolling) {
    const float dx = io.MousePos.x - sw.x0, dy = io.MousePos.y - sw.y0;
    if (app.drag_claimed || app.gesture || (std::abs(dx) >= kSlop && std::abs(dx) > std::abs(dy))) {
      sw.tracking = false;
      return;
    }
    if (std::abs(dy) < kSlop) return;
    sw.scrolling = true;
    ImGui::ClearActiveID();  // what the finger went down on is not clicked
    ImGui::SetScrollY(w, std::clamp(w->Scroll.y - dy, 0.f, w->ScrollMax.y));  // the content stays under the finger
    return;
  }
  ImGui::SetScrollY(w, std::clamp(w->Scroll.y - io.MouseDelta.y, 0.f, w->ScrollMax.y));
  // The finger's speed over its last few frames; a finger held still before it lifts does not fling.
  sw.velocity = io.MouseDelta.y != 0.f ? 0.5f * sw.velocity + 0.5f * io.MouseDelta.y / dt
                                       : (sw.still += dt) > 0.05f ? 0.f : sw.velocity;
  if (io.MouseDelta.y != 0.f) sw.still = 0;
}

}  // namespace

void ui_draw(App& app) {
  app.widgets.clear();
  app.drag_claimed = false;
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
  const float W = ImGui::GetContentRegionAvail().x;
  const int columns = W >= 1100 ? 3 : W >= 720 ? 2 : 1;
  Layout& layout = app.layout;
  layout.columns = columns;
  draw_header(app, columns == 1);
  if (app.model_name.empty()) {
    ImGui::TextColored(kDimText, app.loading_model.empty() ? "No model loaded." : "Loading the model ...");
    ImGui::End();
    return;
  }
  if (columns == 1) draw_section_bar(app);
  ImGui::Separator();

  const float col_w = (W - (columns - 1) * 8.f) / columns;
  const float H = columns == 1 ? 0 : ImGui::GetContentRegionAvail().y;
  // Each column's content width, room kept for its scroll bar.
  const ImGuiStyle& st = ImGui::GetStyle();
  const Space space{col_w - 2 * st.WindowPadding.x - st.ScrollbarSize, H, columns};
  layout.top = ImGui::GetCursorScreenPos().y;
  static const char* const kColumnIds[] = {"left", "middle", "right"};
  for (int c = 0; c < columns; ++c) {
    if (c) ImGui::SameLine(0, 8);
    ImGui::BeginChild(columns == 1 ? "all" : kColumnIds[c], ImVec2(columns == 1 ? 0 : col_w, H), columns > 1,
                      ImGuiWindowFlags_AlwaysUseWindowPadding);
    int i = 0;
    for_each_panel(app.panels, [&](auto& p) {
      using P = std::decay_t<decltype(p)>;
      const int home = columns == 3 ? P::kWide : columns == 2 ? P::kMedium : 0;
      if (home == c) {
        if (columns == 1) {
          layout.panel_y[i] = ImGui::GetCursorPosY();
          if (layout.jump == i) ImGui::SetScrollHereY(0.f);
        }
        ImGui::PushID(&p);
        if (app_model_meets(app, P::kNeeds)) panel_draw(app, p, space);
        else draw_unmet_need(app, P::kSection, P::kNeeds);
        ImGui::PopID();
      }
      ++i;
    });
    layout.scroll[c] = ImGui::GetScrollY();
    layout.scroll_max[c] = ImGui::GetScrollMaxY();
    if (columns == 1) {  // the section being read: the last one starting above the column's upper third, or
      layout.current = 0;  // at the column's end, the last one in sight
      const float h = ImGui::GetWindowHeight();
      const float reading = layout.scroll[0] + (layout.scroll[0] >= layout.scroll_max[0] - 1.f ? h - 40.f : h / 3);
      for (int k = 0; k < i; ++k)
        if (layout.panel_y[k] <= reading) layout.current = k;
    }
    ImGui::EndChild();
  }
  layout.jump = -1;
  ImGui::End();

  swipe_update(app);
  // A pinch's press ends with its release: the frame after it, the next press is a new one.
  if (!ImGui::IsMouseDown(ImGuiMouseButton_Left) && !ImGui::IsMouseReleased(ImGuiMouseButton_Left)) app.gesture = false;
}

}  // namespace app
