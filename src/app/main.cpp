// vae-studio's platform layer, the only file that knows the desktop from the browser: the GLFW window and GL
// context, Dear ImGui's backends, the frame loop, command-line flags and screenshots (desktop), and the bridge
// to web/index.html's JavaScript (browser). The studio itself is app.hpp (state) and ui.cpp (panels).
#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#include <emscripten/html5.h>
#include <malloc.h>
#define GLFW_INCLUDE_ES3
#endif
#include <GLFW/glfw3.h>

#include "app/app.hpp"
#include "app/damage.hpp"
#include "app/font_data.hpp"
#include "app/style.hpp"
#include "app/texture.hpp"
#include "app/texture_gl.hpp"
#include "app/ui.hpp"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"

#include "app/export.hpp"
#include "vae/safetensors.hpp"

namespace {

// Each build defines these five.
// After the GLFW backend's NewFrame: display size, scale, mouse, and app.pointer_trail (every pointer position
// since the last frame).
void fit_display_and_pointer(app::App& app);
// Hands app.requested_model (and the test digits) to the fetcher, app.open_file_requested to the file picker and
// app.share_requested to the page's link.
void start_model_request(app::App& app);
void deliver_saves(app::App& app);           // app.saves: files natively, downloads in the browser
// Draws the frame's ImGui draw data; returns the fraction of the window it drew (0 when nothing had changed).
double render(const app::App& app, ImDrawData* draw_data);
// After each frame: its times and the fraction of the window drawn.
void frame_done(const app::App& app, double ui_seconds, double seconds, double drawn);
// Pointer positions kept between two frames; past this (a stalled tab) the newest replaces the last one kept.
constexpr size_t kMaxTrail = 4096;

// The heavy work one frame may do for the latent grid (App::work_budget_ms): a 20x20 decode takes longer than
// a 60 Hz frame in the browser, so it is spread over a few frames while the grid is dragged or zoomed.
constexpr double kGridBudgetMs = 6.0;

// Clears the window to the panel's colour and draws the draw data. The studio's full-window panel has no
// background of its own (ui.cpp): the clear is its background, one full-window fill less per frame, which a
// software renderer notices.
void clear_and_draw(ImDrawData* draw_data) {
  const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  glClearColor(bg.x, bg.y, bg.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(draw_data);
}

// One frame, the same in both builds: input, panels, render. The desktop loop swaps buffers after it; the
// browser presents by itself when the callback returns (and keeps showing the last frame if nothing was drawn).
void frame(app::App& app) {
  const double start = glfwGetTime();
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  fit_display_and_pointer(app);
  app.time = glfwGetTime();
  ImGui::NewFrame();
  app::ui_draw(app);
  ImGui::Render();
  const double built = glfwGetTime();  // input, the app's updates and the panels' geometry are done

  const ImGuiIO& io = ImGui::GetIO();
  glViewport(0, 0, int(io.DisplaySize.x * io.DisplayFramebufferScale.x),
             int(io.DisplaySize.y * io.DisplayFramebufferScale.y));
  app::textures_resolve(ImGui::GetDrawData());  // the panels' images become GL textures
  const double drawn = render(app, ImGui::GetDrawData());

  start_model_request(app);
  deliver_saves(app);
  ++app.frame;
  frame_done(app, built - start, glfwGetTime() - start, drawn);
}

#ifdef __EMSCRIPTEN__
constexpr const char* kGlslVersion = "#version 300 es";
#else
constexpr const char* kGlslVersion = "#version 330";
#endif

bool fit_look(GLFWwindow* window);

// The window with a GL context (desktop: OpenGL 3.3 core; browser: WebGL2 = OpenGL ES 3.0) and ImGui on it.
GLFWwindow* create_window(int width, int height) {
  if (!glfwInit()) return nullptr;
#ifdef __EMSCRIPTEN__
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  // An opaque canvas without depth or stencil buffers: ImGui uses neither. web/index.html makes the canvas's
  // context with these same attributes, and the port gets that context back.
  glfwWindowHint(GLFW_ALPHA_BITS, 0);
  glfwWindowHint(GLFW_DEPTH_BITS, 0);
  glfwWindowHint(GLFW_STENCIL_BITS, 0);
#else
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
#endif
  GLFWwindow* window = glfwCreateWindow(width, height, "VAE Studio", nullptr, nullptr);
  if (!window) return nullptr;
  glfwMakeContextCurrent(window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is the code's, not a file's
  fit_look(window);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init(kGlslVersion);
  return window;
}

// The typeface rasterised at the screen's density and the theme at its scale (style.hpp), made again when either
// changes (a window moved to another monitor, the browser zoomed). Returns true when it made them.
float g_look_density = 0, g_look_scale = 0;
bool fit_look(GLFWwindow* window) {
#ifdef __EMSCRIPTEN__
  // ImGui's units are CSS pixels, the framebuffer's are device pixels: the density is devicePixelRatio.
  (void)window;
  const float density = std::max(1.0f, float(emscripten_get_device_pixel_ratio())), scale = 1.0f;
#else
  // Natively ImGui's units are window coordinates: where they are pixels (X11, Windows) the content scale
  // enlarges everything; where they are points (macOS, Wayland) the framebuffer is denser instead.
  float cx = 1, cy = 1;
  glfwGetWindowContentScale(window, &cx, &cy);
  int ww = 0, fw = 0, h = 0;
  glfwGetWindowSize(window, &ww, &h);
  glfwGetFramebufferSize(window, &fw, &h);
  const float fb = ww > 0 && fw > 0 ? float(fw) / float(ww) : 1.0f;
  const float scale = std::clamp(cx / fb, 1.0f, 4.0f), density = scale * fb;
#endif
  if (density == g_look_density && scale == g_look_scale) return false;
  ImGuiIO& io = ImGui::GetIO();
  const app::FontBytes bytes{app::kFontRegular, app::kFontRegularSize, app::kFontSemiBold, app::kFontSemiBoldSize};
  if (!app::style_fonts(io, density, scale, bytes)) app::style_fonts(io, density, scale, app::FontBytes{});
  app::style_theme(ImGui::GetStyle(), scale);
  const bool again = g_look_density > 0;
  g_look_density = density;
  g_look_scale = scale;
  if (again) {  // the backend's font texture holds the old atlas
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  return true;
}

}  // namespace

#ifdef __EMSCRIPTEN__
// ---------------------------------------------------------------------------------------------------------
// Browser: web/index.html downloads the models and forwards the pointer; these functions are its way in.

// Asks the page to fetch assets/NAME.safetensors; it answers with vae_studio_load_model or
// vae_studio_model_failed. 0 when the page has no fetcher.
EM_JS(int, js_fetch_model, (const char* name), {
  if (typeof Module.vaeStudioFetchModel !== 'function') return 0;
  Module.vaeStudioFetchModel(UTF8ToString(name));
  return 1;
});

// Asks the page to fetch assets/FILE (the test digits); it answers with vae_studio_load_digits or
// vae_studio_digits_failed. 0 when the page has no fetcher.
EM_JS(int, js_fetch_digits, (const char* file), {
  if (typeof Module.vaeStudioFetchDigits !== 'function') return 0;
  Module.vaeStudioFetchDigits(UTF8ToString(file));
  return 1;
});

// Shows the page's file picker for a model of the user's (web/index.html's openModelFile); the page answers with
// vae_studio_load_model under the file's name. 0 when the page has no picker.
EM_JS(int, js_pick_model_file, (), {
  if (typeof Module.vaeStudioPickModel !== 'function') return 0;
  Module.vaeStudioPickModel();
  return 1;
});

// Puts a share link's text in the page's URL fragment and on the clipboard (web/index.html's shareLink).
// 0 when the page cannot.
EM_JS(int, js_share, (const char* text), {
  if (typeof Module.vaeStudioShare !== 'function') return 0;
  Module.vaeStudioShare(UTF8ToString(text));
  return 1;
});

// Offers a PNG as a download (web/index.html's saveFile).
EM_JS(void, js_save_file, (const char* name, const uint8_t* bytes, int size), {
  if (typeof Module.vaeStudioSave === 'function') Module.vaeStudioSave(UTF8ToString(name), HEAPU8.slice(bytes, bytes + size));
});

// What web/tests/perf.mjs measures: performance.mark('vae-ready') once, after the first frame drawn with a model
// (the first one can draw on), and each frame's figures to Module.vaeStudioOnFrame(ui_ms, ms, drawn) when a tool
// sets it: input + app_update + the panels, the whole frame (the GL calls too, which can wait for the GPU
// process), and the fraction of the window it redrew.
EM_JS(void, js_frame_done, (double ui_ms, double ms, double drawn, int first_ready), {
  if (first_ready) performance.mark('vae-ready');
  if (typeof Module.vaeStudioOnFrame === 'function') Module.vaeStudioOnFrame(ui_ms, ms, drawn);
});

namespace {

app::App g_app;            // one for the page's lifetime; JavaScript may hand it a model before main runs
std::string g_reply;       // the last string returned to JavaScript, valid until the next call

// The pointer (mouse, pen or touch) in CSS pixels relative to the canvas, from the page's pointer events.
// Emscripten 3.1.6's GLFW port reports the mouse in canvas pixels (wrong when devicePixelRatio != 1) and
// loses touch positions, so ImGui's mouse comes from here. Its wheel too: the port passes WheelEvent.deltaY
// as it is (100 per notch in pixels, and down positive), where ImGui expects 1 per notch, up positive.
struct Pointer {
  float x = -FLT_MAX, y = -FLT_MAX;  // -FLT_MAX: not over the canvas
  int buttons = 0;                   // PointerEvent.buttons: 1 primary, 2 secondary, 4 middle
  int pressed = 0;                   // buttons that went down since the last frame (a tap shorter than a frame)
  float wheel_x = 0, wheel_y = 0;    // wheel notches since the last frame, ImGui's signs (up and left positive)
  std::vector<app::PointerSample> trail;  // every position on the canvas since the last frame, in order
  bool touch = false;                // the last event was a finger's
  int was_down = 0;                  // the buttons the last frame saw down
  bool leave_pending = false;        // the last frame saw a finger lift: the next one has no pointer
  float pinch = 1.f, pinch_x = 0, pinch_y = 0;  // two fingers' zoom since the last frame, and its centre
};
Pointer g_pointer;

// A notch is 100 pixels, 3 lines or one page (Emscripten's own convention); trackpads give fractions.
EM_BOOL on_wheel(int, const EmscriptenWheelEvent* e, void*) {
  const double per_notch = e->deltaMode == DOM_DELTA_PIXEL ? 100.0 : e->deltaMode == DOM_DELTA_LINE ? 3.0 : 1.0;
  g_pointer.wheel_x -= float(e->deltaX / per_notch);
  g_pointer.wheel_y -= float(e->deltaY / per_notch);
  return EM_TRUE;  // the page does not scroll
}

// Partial redraw. The page's WebGL context keeps its drawing buffer between frames (preserveDrawingBuffer, in
// web/index.html), so a frame draws only the tiles whose contents changed (damage.hpp): each damaged rectangle
// is cleared and every draw command is drawn again clipped to it, which gives the same pixels there as a full
// redraw. A frame that changes nothing draws nothing, and the browser keeps showing the last one. A software
// renderer (SwiftShader) pays for each pixel, so dragging the grid costs about the grid's area, not the window's.
app::DamageTracker g_damage;
std::vector<uint64_t> g_vertex_hash;  // render()'s buffers, kept from frame to frame
std::vector<ImVec4> g_clips;

// A lost WebGL context (a GPU reset, a driver update, the browser reclaiming memory) takes every GL object with
// it, but not the app: the drawing, the models and the panels' state are in wasm memory. While it is lost no
// frame is drawn; when the browser restores it, ImGui's GL objects and our textures are made anew from that
// state. web/index.html tells the user what is happening.
bool g_gl_lost = false;

// Deleting the objects is a no-op for a lost context but frees Emscripten's handles to them. Returning true
// calls preventDefault(), which is how a page tells the browser it will restore the context.
EM_BOOL on_context_lost(int, const void*, void*) {
  if (!g_gl_lost) {
    g_gl_lost = true;
    ImGui_ImplOpenGL3_Shutdown();
    app::textures_release_all();
  }
  return EM_TRUE;
}

EM_BOOL on_context_restored(int, const void*, void*) {
  if (g_gl_lost) {
    ImGui_ImplOpenGL3_Init(kGlslVersion);  // its device objects and the font texture follow on the next frame
    g_gl_lost = false;
    app::damage_invalidate(g_damage);      // the restored drawing buffer holds nothing
  }
  return EM_TRUE;
}

void deliver_saves(app::App& app) {
  for (const auto& [name, bytes] : app.saves) js_save_file(name.c_str(), bytes.data(), int(bytes.size()));
  app.saves.clear();
}

bool g_ready_marked = false;  // performance.mark('vae-ready') has been set

void frame_done(const app::App& app, double ui_seconds, double seconds, double drawn) {
  const bool first_ready = !g_ready_marked && !app.model_name.empty();
  g_ready_marked = g_ready_marked || first_ready;
  js_frame_done(ui_seconds * 1e3, seconds * 1e3, drawn, first_ready);
}


// The texture of a draw command and the version of its contents.
uint64_t texture_key(ImTextureID id) {
  const auto name = unsigned(reinterpret_cast<uintptr_t>(id));
  return app::damage_mix(name, app::texture_serial(name));
}

double render(const app::App&, ImDrawData* dd) {
  const ImGuiIO& io = ImGui::GetIO();
  app::damage_begin(g_damage, io.DisplaySize.x, io.DisplaySize.y);
  std::vector<uint64_t>& vertex_hash = g_vertex_hash;
  for (int l = 0; l < dd->CmdListsCount; ++l) {
    const ImDrawList* cl = dd->CmdLists[l];
    vertex_hash.resize(size_t(cl->VtxBuffer.Size));
    for (int v = 0; v < cl->VtxBuffer.Size; ++v) {
      const ImDrawVert& x = cl->VtxBuffer[v];
      uint64_t pos, uv;
      std::memcpy(&pos, &x.pos, sizeof pos);
      std::memcpy(&uv, &x.uv, sizeof uv);
      vertex_hash[size_t(v)] = app::damage_mix(app::damage_mix(pos, uv), x.col);
    }
    for (const ImDrawCmd& cmd : cl->CmdBuffer) {
      if (cmd.UserCallback) {  // the studio adds none; whatever one did is unknown
        app::damage_invalidate(g_damage);
        continue;
      }
      const float clip[4] = {cmd.ClipRect.x - dd->DisplayPos.x, cmd.ClipRect.y - dd->DisplayPos.y,
                             cmd.ClipRect.z - dd->DisplayPos.x, cmd.ClipRect.w - dd->DisplayPos.y};
      const uint64_t key = app::damage_mix(texture_key(cmd.GetTexID()), app::damage_hash(clip, sizeof clip));
      for (unsigned e = 0; e + 2 < cmd.ElemCount; e += 3) {
        float x[3], y[3];
        uint64_t h = key;
        for (int k = 0; k < 3; ++k) {
          const unsigned v = cmd.VtxOffset + cl->IdxBuffer[int(cmd.IdxOffset + e) + k];
          x[k] = cl->VtxBuffer[int(v)].pos.x - dd->DisplayPos.x;
          y[k] = cl->VtxBuffer[int(v)].pos.y - dd->DisplayPos.y;
          h = app::damage_mix(h, vertex_hash[v]);
        }
        app::damage_add_triangle(g_damage, x, y, clip, h);
      }
    }
  }
  const std::vector<app::DamageRect> rects = app::damage_end(g_damage);
  if (rects.empty()) return 0;
  const float sx = io.DisplayFramebufferScale.x, sy = io.DisplayFramebufferScale.y;
  const int fb_h = int(io.DisplaySize.y * sy);
  double area = 0;
  std::vector<ImVec4>& clips = g_clips;
  for (const app::DamageRect& r : rects) {
    // The rectangle in framebuffer pixels, rounded outwards (GL's y runs up).
    const int x0 = int(std::floor(r.x0 * sx)), x1 = int(std::ceil(r.x1 * sx));
    const int y0 = int(std::floor(r.y0 * sy)), y1 = int(std::ceil(r.y1 * sy));
    glEnable(GL_SCISSOR_TEST);
    glScissor(x0, fb_h - y1, x1 - x0, y1 - y0);
    // Every command's clip rectangle narrowed to this one (the backend sets the scissor per command).
    clips.clear();
    for (int l = 0; l < dd->CmdListsCount; ++l)
      for (ImDrawCmd& cmd : dd->CmdLists[l]->CmdBuffer) {
        clips.push_back(cmd.ClipRect);
        const ImVec2 o = dd->DisplayPos;
        cmd.ClipRect = ImVec4(std::max(cmd.ClipRect.x, o.x + float(x0) / sx), std::max(cmd.ClipRect.y, o.y + float(y0) / sy),
                              std::min(cmd.ClipRect.z, o.x + float(x1) / sx), std::min(cmd.ClipRect.w, o.y + float(y1) / sy));
      }
    clear_and_draw(dd);
    size_t i = 0;
    for (int l = 0; l < dd->CmdListsCount; ++l)
      for (ImDrawCmd& cmd : dd->CmdLists[l]->CmdBuffer) cmd.ClipRect = clips[i++];
    area += double(r.area());
  }
  glDisable(GL_SCISSOR_TEST);
  return std::min(1.0, area / std::max(1.0, double(io.DisplaySize.x) * double(io.DisplaySize.y)));
}

void start_model_request(app::App& app) {
  if (app.digits_state == app::Shared::Digits::Wanted) {
    app.digits_state = app::Shared::Digits::Loading;
    if (!js_fetch_digits(app::kDigitsFile)) app::app_digits_failed(app, "this page cannot fetch files");
  }
  if (app.open_file_requested) {
    app.open_file_requested = false;
    if (!js_pick_model_file()) app.message = "this page cannot open files";
  }
  if (app.share_requested) {
    app.share_requested = false;
    std::string note;
    const std::string text = app::app_share_text(app, note);
    app.message = !js_share(text.c_str()) ? "this page cannot make links"
                  : !note.empty()         ? "link copied; " + note
                                          : "link copied: it opens this page with this drawing and model";
  }
  if (app.requested_model.empty()) return;
  app.loading_model = app.requested_model;
  app.loading_progress = 0.f;
  app.requested_model.clear();
  if (!js_fetch_model(app.loading_model.c_str()))
    app::app_load_failed(app, app.loading_model, "this page cannot fetch models");
}

// Sizes the canvas's drawing buffer to its CSS size times devicePixelRatio, and gives ImGui CSS pixels as its
// units with that ratio as the framebuffer scale (the GLFW port has no HiDPI: its window size is its
// framebuffer size). Runs after ImGui_ImplGlfw_NewFrame, overriding its sizes and mouse.
void fit_display_and_pointer(app::App& app) {
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  css_w = std::max(css_w, 1.0);
  css_h = std::max(css_h, 1.0);
  const double dpr = emscripten_get_device_pixel_ratio();
  const int fb_w = std::max(1, int(std::lround(css_w * dpr))), fb_h = std::max(1, int(std::lround(css_h * dpr)));
  int cur_w = 0, cur_h = 0;
  emscripten_get_canvas_element_size("#canvas", &cur_w, &cur_h);
  if (cur_w != fb_w || cur_h != fb_h) {
    emscripten_set_canvas_element_size("#canvas", fb_w, fb_h);  // a new drawing buffer, cleared
    app::damage_invalidate(g_damage);
  }

  if (fit_look(nullptr)) app::damage_invalidate(g_damage);

  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(float(css_w), float(css_h));
  io.DisplayFramebufferScale = ImVec2(float(fb_w / css_w), float(fb_h / css_h));
  // A finger that lifted leaves nothing hovered: the frame after the one that saw its release.
  const int down = g_pointer.buttons | g_pointer.pressed;
  if (g_pointer.leave_pending && !down) g_pointer.x = g_pointer.y = -FLT_MAX;
  g_pointer.leave_pending = g_pointer.touch && (g_pointer.was_down & 1) && !(down & 1);
  g_pointer.was_down = down;
  io.MousePos = ImVec2(g_pointer.x, g_pointer.y);
  for (int b = 0; b < 3; ++b) io.MouseDown[b] = (down >> b) & 1;
  g_pointer.pressed = 0;
  app.pointer_trail.swap(g_pointer.trail);
  g_pointer.trail.clear();
  app.touch = g_pointer.touch;
  app.pinch = g_pointer.pinch;
  app.pinch_x = g_pointer.pinch_x;
  app.pinch_y = g_pointer.pinch_y;
  g_pointer.pinch = 1.f;
  io.MouseWheel = g_pointer.wheel_y;  // replaces what the GLFW port's scroll callback added
  io.MouseWheelH = g_pointer.wheel_x;
  g_pointer.wheel_x = g_pointer.wheel_y = 0;
}

}  // namespace

extern "C" {

// The bytes of model `name`, fetched by the page. Returns "" when it is now the current model, else the
// one-line reason (the app keeps its current model and shows the reason too).
EMSCRIPTEN_KEEPALIVE const char* vae_studio_load_model(const char* name, const uint8_t* bytes, int size) {
  const vae::Status s = app::app_load_model(g_app, name, bytes, size_t(std::max(size, 0)));
  g_reply = s ? "" : g_app.message;
  return g_reply.c_str();
}

// The page could not fetch model `name` (why: one line).
EMSCRIPTEN_KEEPALIVE void vae_studio_model_failed(const char* name, const char* why) {
  app::app_load_failed(g_app, name, why);
}

// The bytes of the test digits (app::kDigitsFile), fetched by the page; "" when loaded, else the reason.
EMSCRIPTEN_KEEPALIVE const char* vae_studio_load_digits(const uint8_t* bytes, int size) {
  const vae::Status s = app::app_load_digits(g_app, bytes, size_t(std::max(size, 0)));
  g_reply = s ? "" : g_app.digits_error;
  return g_reply.c_str();
}

// The page could not fetch the test digits (why: one line).
EMSCRIPTEN_KEEPALIVE void vae_studio_digits_failed(const char* why) { app::app_digits_failed(g_app, why); }

// Download progress of model `name`: fraction 0..1, or < 0 when the size is unknown.
EMSCRIPTEN_KEEPALIVE void vae_studio_model_progress(const char* name, double fraction) {
  if (g_app.loading_model == name) g_app.loading_progress = float(fraction);
}

// Asks for model `name` as the model picker does; the app fetches it through the page on its next frame.
EMSCRIPTEN_KEEPALIVE void vae_studio_request_model(const char* name) { g_app.requested_model = name; }

// Draws the whole window on the next frame (tests compare it with what the partial redraws left).
EMSCRIPTEN_KEEPALIVE void vae_studio_redraw_all() { app::damage_invalidate(g_damage); }

// app_state_json: read by window.vaeStudio.state().
EMSCRIPTEN_KEEPALIVE const char* vae_studio_state() {
  g_reply = app::app_state_json(g_app);
  return g_reply.c_str();
}

// Bytes of the wasm heap in use by malloc (dlmalloc's mallinfo); the heap's size is the page's Module.HEAP8.length.
EMSCRIPTEN_KEEPALIVE double vae_studio_heap_in_use() { return double(mallinfo().uordblks); }

// A share link's drawing (the text after "#draw=", base64url-decoded by the page), or why the page's fragment is
// none (why non-empty): "" when the drawing is on the canvas, else the one-line notice (also the app's message).
EMSCRIPTEN_KEEPALIVE const char* vae_studio_open_share(const char* text, const char* why) {
  if (*why) g_app.message = std::string(why) + "; the page opened as usual";
  const bool ok = !*why && app::app_open_share(g_app, text);
  g_reply = ok ? "" : g_app.message;
  return g_reply.c_str();
}

// The pointer in CSS pixels relative to the canvas (x < -1e30 when it left), PointerEvent.buttons, and whether it
// is a finger (pointerType "touch"). Called for every pointer event (each coalesced one too), in order: each
// position joins the frame's trail.
EMSCRIPTEN_KEEPALIVE void vae_studio_pointer(float x, float y, int buttons, int touch) {
  g_pointer.touch = touch != 0;
  g_pointer.leave_pending = false;
  g_pointer.pressed |= buttons & ~g_pointer.buttons;
  g_pointer.buttons = buttons;
  const bool left = x < -1e30f;
  g_pointer.x = left ? -FLT_MAX : x;
  g_pointer.y = left ? -FLT_MAX : y;
  if (left) return;
  if (g_pointer.trail.size() == kMaxTrail) g_pointer.trail.pop_back();
  g_pointer.trail.push_back({x, y, (buttons & 1) != 0});
}

// Two fingers on the page: the factor by which their distance grew since the last call, about their midpoint (CSS
// pixels relative to the canvas). The page calls it with factor 1 when the second finger lands; while two fingers
// are down it forwards no pointer moves, and the press they interrupted ends in no click (Shared::gesture).
EMSCRIPTEN_KEEPALIVE void vae_studio_pinch(float x, float y, float factor) {
  g_app.gesture = true;
  if (!(factor > 0.f) || !std::isfinite(factor)) return;
  g_pointer.pinch = std::clamp(g_pointer.pinch * factor, 1.f / 64, 64.f);
  g_pointer.pinch_x = x;
  g_pointer.pinch_y = y;
}

}  // extern "C"

int main(int, char**) {
  // The canvas as web/index.html sized it (its CSS size times devicePixelRatio): the GLFW port resizes the canvas
  // to the window's size, and resizing reallocates the drawing buffer, which costs a software renderer a frame.
  int width = 0, height = 0;
  emscripten_get_canvas_element_size("#canvas", &width, &height);
  if (!create_window(std::max(width, 1), std::max(height, 1))) {
    std::fprintf(stderr, "vae-studio: could not create a WebGL2 context\n");
    return 1;
  }
  g_app.work_budget_ms = kGridBudgetMs;
  g_app.can_pick_files = true;  // web/index.html's file picker (and a file dropped on the page)
  g_app.can_share = true;       // web/index.html's share links
  emscripten_set_wheel_callback("#canvas", nullptr, true, on_wheel);
  emscripten_set_webglcontextlost_callback("#canvas", nullptr, false, on_context_lost);
  emscripten_set_webglcontextrestored_callback("#canvas", nullptr, false, on_context_restored);
  emscripten_set_main_loop_arg([](void* a) { if (!g_gl_lost) frame(*static_cast<app::App*>(a)); }, &g_app, 0, true);
  return 0;
}

#else
// ---------------------------------------------------------------------------------------------------------
// Desktop: flags, models from files, the loop, screenshots.

namespace {

std::string g_assets_dir = "assets";  // where other models are looked up: the --model file's folder

// GLFW's backend already gives window coordinates and the HiDPI scale; the trail comes from our callbacks.
std::vector<app::PointerSample> g_trail;

void fit_display_and_pointer(app::App& app) {
  fit_look(glfwGetCurrentContext());
  app.pointer_trail.swap(g_trail);
  g_trail.clear();
}

// Every cursor position and every press and release of the primary button, in the order GLFW delivers them
// (window coordinates, as the backend's io.MousePos). The button callback replaces the backend's own, which it
// calls (Dear ImGui 1.86's documented way to share it); 1.86's backend installs no cursor callback.
void note_pointer(GLFWwindow* window, double x, double y) {
  if (g_trail.size() == kMaxTrail) g_trail.pop_back();
  g_trail.push_back({float(x), float(y), glfwGetMouseButton(window, GLFW_MOUSE_BUTTON_LEFT) == GLFW_PRESS});
}

void follow_pointer(GLFWwindow* window) {
  glfwSetCursorPosCallback(window, note_pointer);
  glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int button, int action, int mods) {
    ImGui_ImplGlfw_MouseButtonCallback(w, button, action, mods);
    double x = 0, y = 0;
    glfwGetCursorPos(w, &x, &y);
    if (button == GLFW_MOUSE_BUTTON_LEFT) note_pointer(w, x, y);
  });
}

void frame_done(const app::App&, double, double, double) {}

// The whole window every frame: a swap leaves the back buffer's contents undefined, and a GPU does not mind.
double render(const app::App&, ImDrawData* draw_data) {
  clear_and_draw(draw_data);
  return 1;
}

// The whole file, or the system's reason (a folder, a missing file, a read error).
vae::Status read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return vae::Status::error(path + ": cannot open: " + std::strerror(errno));
  out.clear();
  uint8_t buf[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + got);
  const int err = errno;
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  return failed ? vae::Status::error(path + ": read error: " + std::strerror(err)) : vae::Status::success();
}

// name: how the studio calls it (the shipped models' stems; a dropped file's own name).
vae::Status load_model_file(app::App& app, const std::string& path, const std::string& name) {
  std::vector<uint8_t> bytes;
  const vae::Status read = read_file(path, bytes);
  if (!read) {
    app::app_load_failed(app, name, read.message());
    return read;
  }
  return app::app_load_model(app, name, bytes.data(), bytes.size()).with_context(path);
}

// Files dropped on the window (GLFW's drop callback), opened at the next frame: the first one as a model.
std::vector<std::string> g_dropped;

void open_dropped_file(app::App& app) {
  if (g_dropped.empty()) return;
  const std::string path = g_dropped.front();
  g_dropped.clear();
  const size_t slash = path.find_last_of('/');
  load_model_file(app, path, slash == std::string::npos ? path : path.substr(slash + 1));
}

void start_model_request(app::App& app) {
  app.open_file_requested = false;  // no file dialog natively (can_pick_files is false): files are dropped
  app.share_requested = false;      // nor links (can_share is false)
  open_dropped_file(app);
  if (app.digits_state == app::Shared::Digits::Wanted) {
    std::vector<uint8_t> bytes;
    const std::string path = g_assets_dir + "/" + app::kDigitsFile;
    const vae::Status read = read_file(path, bytes);
    if (read) app::app_load_digits(app, bytes.data(), bytes.size());
    else app::app_digits_failed(app, read.message());
  }
  if (app.requested_model.empty()) return;
  app.loading_model = app.requested_model;
  app.requested_model.clear();
  load_model_file(app, g_assets_dir + "/" + app.loading_model + ".safetensors", app.loading_model);
}

// The app's "Save" buttons write into the current folder.
void deliver_saves(app::App& app) {
  for (const auto& [name, bytes] : app.saves) {
    const vae::Status s = vae::file_write_atomic(name, bytes);
    app.message = s ? "saved " + name : "could not save: " + s.message();
  }
  app.saves.clear();
}

// The back buffer (what the frame just drew) as an RGB PNG, top row first.
vae::Status write_screenshot(const std::string& path, int width, int height) {
  std::vector<uint8_t> rgb(size_t(width) * size_t(height) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, rgb.data());
  const size_t row = size_t(width) * 3;
  std::vector<uint8_t> flipped(rgb.size());  // GL's rows go bottom-up
  for (int y = 0; y < height; ++y)
    std::memcpy(&flipped[size_t(y) * row], &rgb[size_t(height - 1 - y) * row], row);
  const std::vector<uint8_t> png = app::png_encode_rgb(flipped, width, height);
  if (png.empty()) return vae::Status::error(path + ": PNG encoding failed");
  return vae::file_write_atomic(path, png);
}

// The state JSON (app_state_json) with what the last frame showed, for tests/e2e/png_check.py to compare with the
// screenshot: "shown" has, for every named grey panel texture the frame drew (the canvas, the model's input, the
// reconstruction, the latent grid, ...), where the frame's draw data put it (the union of its quads, clipped, in
// window pixels) and its contents as uploaded (bytes 0..255, row-major, top row first).
std::string native_state_json(const app::App& app) {
  std::string j = app::app_state_json(app);
  j.pop_back();  // its closing brace
  j += ",\"shown\":{";
  const ImDrawData* dd = ImGui::GetDrawData();
  struct Extent {
    float x0 = FLT_MAX, y0 = FLT_MAX, x1 = -FLT_MAX, y1 = -FLT_MAX;
  };
  std::vector<std::pair<const app::Texture*, Extent>> drawn;
  for (int l = 0; dd && l < dd->CmdListsCount; ++l) {
    const ImDrawList* cl = dd->CmdLists[l];
    for (const ImDrawCmd& cmd : cl->CmdBuffer) {
      const app::Texture* t = cmd.UserCallback ? nullptr : app::texture_from_gl(unsigned(reinterpret_cast<uintptr_t>(cmd.GetTexID())));
      if (!t || !t->name || !t->gray) continue;
      auto it = std::find_if(drawn.begin(), drawn.end(), [t](const auto& d) { return d.first == t; });
      if (it == drawn.end()) it = drawn.insert(drawn.end(), {t, Extent{}});
      Extent& e = it->second;
      for (unsigned k = 0; k < cmd.ElemCount; ++k) {
        const ImVec2 q = cl->VtxBuffer[int(cmd.VtxOffset + cl->IdxBuffer[int(cmd.IdxOffset + k)])].pos;
        e.x0 = std::min(e.x0, std::max(q.x, cmd.ClipRect.x)), e.x1 = std::max(e.x1, std::min(q.x, cmd.ClipRect.z));
        e.y0 = std::min(e.y0, std::max(q.y, cmd.ClipRect.y)), e.y1 = std::max(e.y1, std::min(q.y, cmd.ClipRect.w));
      }
    }
  }
  bool first = true;
  for (const auto& [t, e] : drawn) {
    char b[160];
    if (e.x0 < e.x1 && e.y0 < e.y1) std::snprintf(b, sizeof b, "{\"x\":%.6g,\"y\":%.6g,\"w\":%.6g,\"h\":%.6g}", e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0);
    else std::snprintf(b, sizeof b, "null");
    j += (first ? "\"" : ",\"") + std::string(t->name) + "\":{\"rect\":" + b + ",\"width\":" +
         std::to_string(t->width) + ",\"height\":" + std::to_string(t->height) + ",\"bytes\":[";
    for (size_t i = 0; i < t->pixels.size(); ++i) j += (i ? "," : "") + std::to_string(int(t->pixels[i]));
    j += "]}";
    first = false;
  }
  return j + "}}";
}

// A --screenshot or --state path checked before any work: in a folder that exists, not a folder, not the model.
vae::Status check_output(const std::string& path, const std::string& model_path, const char* option = "--screenshot") {
  namespace fs = std::filesystem;
  const std::string opt = option;
  std::error_code ec;
  const fs::path dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (path.empty()) return vae::Status::error(opt + " needs a file path");
  if (!fs::is_directory(dir, ec))
    return vae::Status::error(path + ": cannot write there: folder " + dir.string() + " does not exist");
  if (fs::is_directory(path, ec)) return vae::Status::error(path + ": is a folder; " + opt + " needs a file path");
  if (path == model_path || (fs::exists(path, ec) && fs::equivalent(path, model_path, ec)))
    return vae::Status::error(path + ": " + opt + " and --model name the same file; it would be overwritten");
  return vae::Status::success();
}

const char* kUsage =
    "usage: vae-studio [--model PATH] [--demo] [--screenshot OUT.png [--state OUT.json]] [--frames N]\n"
    "  --model PATH        the model to open (default assets/mnist-z2.safetensors); other models are looked up\n"
    "                      next to it\n"
    "  --demo              start with a drawing of a 7 already on the canvas\n"
    "  --screenshot FILE   render --frames frames, write the last one to FILE (PNG) and exit\n"
    "  --frames N          frames to render before exiting (default 10 with --screenshot, else run until closed)\n"
    "  --state FILE        with --screenshot: also write the app's state JSON, with what the last frame showed\n"
    "  --help              this text\n";

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = "assets/mnist-z2.safetensors", screenshot, state_path;
  long frames = 0;
  bool demo = false;
  // Every problem is one line on stderr: exit 2 for an option, 1 for a file, before any window opens.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool takes_value = a == "--model" || a == "--screenshot" || a == "--frames" || a == "--state";
    if (takes_value && i + 1 >= argc) {
      std::fprintf(stderr, "vae-studio: %s needs a value (try --help)\n", a.c_str());
      return 2;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--model") {
      model_path = argv[++i];
    } else if (a == "--demo") {
      demo = true;
    } else if (a == "--screenshot") {
      screenshot = argv[++i];
      if (screenshot.empty()) {
        std::fprintf(stderr, "vae-studio: --screenshot needs a file path\n");
        return 2;
      }
    } else if (a == "--state") {
      state_path = argv[++i];
      if (state_path.empty()) {
        std::fprintf(stderr, "vae-studio: --state needs a file path\n");
        return 2;
      }
    } else if (a == "--frames") {
      char* end = nullptr;
      errno = 0;
      frames = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || end == argv[i] || errno != 0 || frames < 1 || frames > 1000000000) {
        std::fprintf(stderr, "vae-studio: --frames needs a whole number from 1 to 1000000000, not '%s'\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "vae-studio: unknown option '%s' (try --help)\n", a.c_str());
      return 2;
    }
  }
  if (!screenshot.empty() && frames == 0) frames = 10;
  if (!state_path.empty() && screenshot.empty()) {
    std::fprintf(stderr, "vae-studio: --state needs --screenshot (it describes the screenshot's frame)\n");
    return 2;
  }
  if (!screenshot.empty()) {
    vae::Status out = check_output(screenshot, model_path);
    if (out && !state_path.empty()) out = check_output(state_path, model_path, "--state");
    if (out && state_path == screenshot) out = vae::Status::error(state_path + ": --state and --screenshot name the same file");
    if (!out) {
      std::fprintf(stderr, "vae-studio: %s\n", out.message().c_str());
      return 1;
    }
  }

  app::App app;
  const vae::Status loaded = load_model_file(app, model_path, app::model_name_from_path(model_path));
  if (!loaded) {
    std::fprintf(stderr, "vae-studio: %s\n", loaded.message().c_str());
    return 1;
  }
  if (demo) app::app_demo_drawing(app);
  app.work_budget_ms = screenshot.empty() ? kGridBudgetMs : 0;  // a screenshot shows the grid complete
  const size_t slash = model_path.find_last_of('/');
  g_assets_dir = slash == std::string::npos ? "." : model_path.substr(0, slash);

  glfwSetErrorCallback([](int code, const char* what) { std::fprintf(stderr, "vae-studio: GLFW %d: %s\n", code, what); });
  GLFWwindow* window = create_window(1280, 800);
  if (!window) {
    std::fprintf(stderr, "vae-studio: cannot open an OpenGL 3.3 window (no display? try xvfb-run)\n");
    return 1;
  }
  glfwSwapInterval(screenshot.empty() ? 1 : 0);
  follow_pointer(window);
  glfwSetDropCallback(window, [](GLFWwindow*, int count, const char** paths) {
    g_dropped.assign(paths, paths + count);
  });

  int status = 0;
  while (!glfwWindowShouldClose(window)) {
    frame(app);
    if (frames > 0 && app.frame >= uint64_t(frames)) {
      if (!screenshot.empty()) {
        int w = 0, h = 0;
        glfwGetFramebufferSize(window, &w, &h);
        vae::Status wrote = write_screenshot(screenshot, w, h);
        if (wrote && !state_path.empty()) {
          const std::string json = native_state_json(app);
          wrote = vae::file_write_atomic(state_path, std::vector<uint8_t>(json.begin(), json.end()));
        }
        if (!wrote) {
          std::fprintf(stderr, "vae-studio: %s\n", wrote.message().c_str());
          status = 1;
        }
      }
      break;
    }
    glfwSwapBuffers(window);
  }

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}

#endif
