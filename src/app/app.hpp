// The studio without a window: the shared inputs (shared.hpp) and every panel's state (panels.hpp), loading a
// model from bytes, the once-per-frame update, and the app as JSON. main.cpp owns the window and the frame loop
// and hands model bytes in; ui.cpp lays the panels out and draws them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>

#include "app/panels.hpp"
#include "app/shared.hpp"

namespace app {

// How the panels are laid out (ui.cpp): the columns, how far each is scrolled, the one-column layout's section
// bar, and a finger's swipe that scrolls a column.
struct Layout {
  static constexpr int kMaxColumns = 3;
  int columns = 0;                   // 3 on a wide window, 2 on a medium one, 1 on a phone; 0 before the first frame
  float top = 0;                     // where the columns start on screen (the header and section bar above)
  float scroll[kMaxColumns] = {};    // each column's scroll and its greatest, in ImGui units
  float scroll_max[kMaxColumns] = {};
  int jump = -1;                     // a section bar button was pressed: the panel (its index in Panels) to show
  int current = 0;                   // the panel at the top of the one column
  float panel_y[std::tuple_size_v<Panels>] = {};  // where each panel starts in the one column (content units)
  // A finger that went down on a column: once it has moved kSlop units without a panel claiming the drag, the
  // column follows it, and keeps gliding after the finger lifts (velocity, units per second, decaying).
  struct Swipe {
    bool tracking = false, scrolling = false;
    float x0 = 0, y0 = 0;
    unsigned window = 0;  // the ImGui id of the window it scrolls
    float velocity = 0;
    float still = 0;      // seconds the finger has held still
  } swipe;
};

struct App : Shared {
  Panels panels;
  Layout layout;
  bool busy = false;  // some panel_update of the last app_update had work left
};

// One panel's state: panel<GridPanel>(app).
template <class P>
P& panel(App& app) {
  return std::get<P>(app.panels);
}
template <class P>
const P& panel(const App& app) {
  return std::get<P>(app.panels);
}

// Parses a model file's bytes and makes it the current model (with its map, PCA and test percentiles). On failure
// the current model is kept and app.message says why; the returned status carries the parser's message.
vae::Status app_load_model(App& app, const std::string& name, const uint8_t* bytes, size_t size);
// The platform could not fetch model `name` (why: one line). Sets app.message; the current model is kept.
void app_load_failed(App& app, const std::string& name, const std::string& why);

// Recomputes the drawing's analysis if it changed, then every panel's derived data (panel_update). Cheap when
// nothing changed; called once per frame before the panels are drawn.
void app_update(App& app);
// Whether some panel has work left to catch up with its inputs (a grid view decoded over several calls when
// work_budget_ms is set).
bool app_busy(const App& app);

// A share link's drawing (share.hpp's text) put on the canvas. On a bad text the canvas is left as it was and
// app.message says so in one line; the model named in the link is the page's business (it fetches it first).
vae::Status app_open_share(App& app, const std::string& text);
// The text of a link to the drawing on the canvas and the model in use; note: why the link will open another
// model (a model opened from a file cannot travel in a link), or "".
std::string app_share_text(const App& app, std::string& note);

// Draws a "7" with two strokes, as a person would: the desktop app's --demo, and tests.
void app_demo_drawing(App& app);

// "mnist-z2" from "assets/mnist-z2.safetensors".
std::string model_name_from_path(const std::string& path);

// The app as one JSON object, for tests and tools (window.vaeStudio.state() in the browser): "frame", "model",
// "arch", "loading", "message", then each panel's fields (panels/<name>.hpp says which), then "widgets":
// {"undo": {"x":..,"y":..,"w":..,"h":..,"visible":..}, ...}, where the named widgets were drawn in the last frame
// and whether wholly in sight.
std::string app_state_json(const App& app);

}  // namespace app
