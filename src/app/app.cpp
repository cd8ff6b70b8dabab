// The studio's state changes that need no window: loading a model from bytes, and describing the app as JSON.
#include "app/app.hpp"

#include <cstdio>
#include <utility>

#include "vae/json.hpp"

namespace app {

vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size) {
  vae::Vae m;
  vae::Metadata meta;
  vae::Status s = vae::model_parse(bytes, size, m, &meta);
  if (app.loading_model == name) app.loading_model.clear();
  if (!s) {
    app.message = "could not load model " + name + ": " + s.message();
    return s;
  }
  app.model = std::move(m);
  app.model_meta = std::move(meta);
  app.model_name = name;
  app.message.clear();
  return s;
}

void app_load_failed(App& app, const std::string& name, const std::string& why) {
  if (app.loading_model == name) app.loading_model.clear();
  app.message = "could not load model " + name + ": " + why;
}

std::string model_name_from_path(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".safetensors";
  if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
    base.resize(base.size() - ext.size());
  return base;
}

std::string app_state_json(const App& app) {
  const Rect& r = app.canvas_rect;
  char canvas[160];
  std::snprintf(canvas, sizeof canvas, "{\"x\":%.2f,\"y\":%.2f,\"w\":%.2f,\"h\":%.2f}", r.x, r.y, r.w, r.h);
  std::string j = "{";
  j += "\"frame\":" + std::to_string(app.frame);
  j += ",\"model\":" + vae::json_quote(app.model_name);
  j += ",\"arch\":" + vae::json_quote(app.model_name.empty() ? "" : app.model.arch.describe());
  j += ",\"loading\":" + vae::json_quote(app.loading_model);
  j += ",\"message\":" + vae::json_quote(app.message);
  j += ",\"canvas\":" + std::string(canvas);
  j += ",\"strokes\":" + std::to_string(app.drawing.strokes.size());
  const Drawing& d = app.drawing;
  const Stroke* last = d.stroke_open ? &d.current : d.strokes.empty() ? nullptr : &d.strokes.back();
  if (last && !last->points.empty()) {
    char point[64];
    std::snprintf(point, sizeof point, "[%.4f,%.4f]", last->points.back().x, last->points.back().y);
    j += ",\"last_point\":" + std::string(point);
  } else {
    j += ",\"last_point\":null";
  }
  j += "}";
  return j;
}

}  // namespace app
