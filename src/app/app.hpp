// The studio's state: everything the panels show and edit lives in `App` (never in function-local statics).
// No GL, no ImGui and no platform code here: main.cpp owns the window and the frame loop and hands model bytes
// in; ui.cpp draws the panels from this state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "app/drawing.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/status.hpp"

namespace app {

// A rectangle in ImGui units: CSS pixels in the browser, window coordinates (points) on the desktop.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// The models the studio knows, by name: the page and the desktop app find them at assets/NAME.safetensors.
constexpr const char* kModelNames[] = {"mnist-z2", "mnist-z32", "fashion-z2"};

struct App {
  // The model in use. Only a load that succeeded replaces it; a failed one leaves it as it was.
  std::string model_name;  // the file's stem, e.g. "mnist-z2"; empty until a model has loaded
  vae::Vae model;
  vae::Metadata model_meta;

  // Asking for another model: a panel sets requested_model to a name ("mnist-z32"); the platform takes it,
  // moves it to loading_model, fetches assets/NAME.safetensors and then calls app_load_model or app_load_failed.
  std::string requested_model;
  std::string loading_model;
  std::string message;  // the last error or notice, one line, shown until replaced

  // The drawing canvas (canvas units, see drawing.hpp).
  Drawing drawing;
  float brush_width = 0.08f;  // canvas units
  Rect canvas_rect;           // where the canvas was drawn in the last frame

  uint64_t frame = 0;  // frames drawn so far
};

// Parses a model file's bytes and makes it the current model. On failure the current model is kept and
// app.message says why; the returned status carries the parser's message (the caller adds the file's path).
vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size);
// The platform could not fetch model `name` (why: one line). Sets app.message; the current model is kept.
void app_load_failed(App& app, const std::string& name, const std::string& why);

// "mnist-z2" from "assets/mnist-z2.safetensors".
std::string model_name_from_path(const std::string& path);

// The app as one JSON object, for tests and tools (window.vaeStudio.state() in the browser):
// {"frame":N,"model":"mnist-z2","arch":"784-512-256-[2]-256-512-784","loading":"","message":"",
//  "canvas":{"x":..,"y":..,"w":..,"h":..},"strokes":N,"last_point":[x,y] or null}; last_point is the newest
// drawn point in canvas units. Add fields here as the panels grow.
std::string app_state_json(const App& app);

}  // namespace app
