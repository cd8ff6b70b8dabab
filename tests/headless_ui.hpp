// The studio headless, for tests: Dear ImGui with no renderer drawing whole frames of panels, a finger on it, the
// widgets the last frame noted, and the state JSON parsed.
#pragma once
#include <catch2/catch.hpp>

#include <cfloat>
#include <string>

#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "app/ui.hpp"
#include "imgui.h"
#include "vae/safetensors.hpp"

namespace headless {

using namespace app;

// A studio with the model file f loaded under `name`.
inline App app_from_file(const vae::StFile& f, const std::string& name) {
  std::vector<uint8_t> bytes;
  REQUIRE(vae::st_serialize(f, vae::DType::F32, bytes).ok());
  App app;
  REQUIRE(app_load_model(app, name, bytes.data(), bytes.size()).ok());
  return app;
}

// Dear ImGui with no backend: a font atlas built on the CPU and a display size, so that whole frames of panels can
// be laid out and drawn into draw lists that nothing renders.
struct HeadlessUi {
  explicit HeadlessUi(float width, float height = 900) {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(width, height);
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(intptr_t(1)));
  }
  ~HeadlessUi() { ImGui::DestroyContext(); }
  void frame(App& app, float dt = 1.f / 60) {
    ImGui::GetIO().DeltaTime = dt;
    app.time += dt;
    ImGui::NewFrame();
    ui_draw(app);
    ImGui::Render();
  }
};

inline bool has_widget(const App& app, const std::string& name) {
  for (const auto& w : app.widgets)
    if (w.first == name) return true;
  return false;
}

// The state JSON, parsed by nlohmann/json (a discarded value when it is not JSON).
inline nlohmann::json state(const App& app) { return nlohmann::json::parse(app_state_json(app), nullptr, false); }

// A finger on the headless studio: each call is one frame with the finger at (x, y), down or lifted.
struct Finger {
  App& app;
  HeadlessUi& ui;
  void frame(float x, float y, bool down) {
    ImGuiIO& io = ImGui::GetIO();
    app.touch = true;
    app.pointer_trail = {PointerSample{x, y, down}};
    io.MousePos = ImVec2(x, y);
    io.MouseDown[0] = down;
    ui.frame(app);
  }
  // Down at `from`, `steps` frames of moves to `to`, lifted there, then a frame with nothing under the pointer.
  void drag(ImVec2 from, ImVec2 to, int steps = 8) {
    for (int k = 0; k <= steps; ++k)
      frame(from.x + (to.x - from.x) * k / steps, from.y + (to.y - from.y) * k / steps, true);
    frame(to.x, to.y, false);
    frame(-FLT_MAX, -FLT_MAX, false);
  }
  void tap(ImVec2 at) { drag(at, at, 1); }
};

inline Rect widget(const App& app, const std::string& name) {
  if (name == "canvas") return panel<CanvasPanel>(app).rect;
  for (const auto& w : app.widgets)
    if (w.first == name) return w.second.rect;
  FAIL("widget " << name << " was not drawn");
  return {};
}
inline ImVec2 centre(const Rect& r) { return ImVec2(r.x + r.w / 2, r.y + r.h / 2); }


}  // namespace headless
