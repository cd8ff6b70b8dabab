// Share links' drawings (share.hpp).
#include "app/share.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace app {

namespace {

using Json = nlohmann::ordered_json;

// x as the double nearest its nine-digit decimal: nlohmann/json then writes those nine digits at most, and
// reading them back and rounding to float gives x again (nine significant digits identify every float).
double nine_digits(float x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", double(x));
  return std::strtod(b, nullptr);
}

// The strokes from the last Clear (after it) or Image (from it) on: what the canvas shows.
size_t first_shown(const Drawing& d) {
  for (size_t i = d.strokes.size(); i-- > 0;) {
    if (d.strokes[i].kind == StrokeKind::Clear) return i + 1;
    if (d.strokes[i].kind == StrokeKind::Image) return i;
  }
  return 0;
}

bool model_name_ok(const std::string& m) {
  if (m.size() > 64) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

// A number in [0, 1] (as float), or false.
bool unit_value(const Json& v, float& out) {
  if (!v.is_number()) return false;
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0 || x > 1) return false;
  out = float(x);
  return true;
}

// Only the keys allowed; returns the first other one, or "".
std::string unknown_key(const Json& o, std::initializer_list<const char*> allowed) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool ok = false;
    for (const char* k : allowed) ok = ok || it.key() == k;
    if (!ok) return it.key();
  }
  return "";
}

vae::Status brush_from(const Json& o, size_t& points, Stroke& s) {
  const std::string extra = unknown_key(o, {"w", "e", "p", "q"});
  if (!extra.empty()) return vae::Status::error("unknown key \"" + extra + "\"");
  const auto w = o.find("w"), e = o.find("e"), p = o.find("p"), q = o.find("q");
  if (w == o.end() || !unit_value(*w, s.width)) return vae::Status::error("width \"w\" is not a number in [0, 1]");
  if (e == o.end() || !e->is_boolean()) return vae::Status::error("\"e\" (eraser) is not true or false");
  s.erase = e->get<bool>();
  if (p == o.end() || !p->is_array() || p->empty() || p->size() % 2 != 0)
    return vae::Status::error("points \"p\" are not a non-empty list of x, y pairs");
  const size_t n = p->size() / 2;
  if (n > kShareMaxPoints - points) return vae::Status::error("more than " + std::to_string(kShareMaxPoints) + " points");
  points += n;
  if (q != o.end() && (!q->is_array() || q->size() != n))
    return vae::Status::error("pressures \"q\" are not one number per point");
  s.points.resize(n);
  for (size_t i = 0; i < n; ++i) {
    StrokePoint& pt = s.points[i];
    if (!unit_value((*p)[2 * i], pt.x) || !unit_value((*p)[2 * i + 1], pt.y))
      return vae::Status::error("point " + std::to_string(i) + " is not in the canvas [0, 1] x [0, 1]");
    if (q != o.end() && !unit_value((*q)[i], pt.pressure))
      return vae::Status::error("pressure " + std::to_string(i) + " is not in [0, 1]");
  }
  return vae::Status::success();
}

vae::Status image_from(const Json& o, Stroke& s) {
  const std::string extra = unknown_key(o, {"image", "px"});
  if (!extra.empty()) return vae::Status::error("unknown key \"" + extra + "\"");
  const auto size = o.find("image"), px = o.find("px");
  auto side = [](const Json& v, int& out) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 || v.get<uint64_t>() > uint64_t(kShareMaxImageSide)) return false;
    out = int(v.get<uint64_t>());
    return true;
  };
  if (size == o.end() || !size->is_array() || size->size() != 2 || !side((*size)[0], s.image_w) ||
      !side((*size)[1], s.image_h))
    return vae::Status::error("\"image\" is not [width, height], each 1 to " + std::to_string(kShareMaxImageSide));
  const size_t n = size_t(s.image_w) * size_t(s.image_h);
  if (px == o.end() || !px->is_array() || px->size() != n)
    return vae::Status::error("\"px\" does not hold width x height = " + std::to_string(n) + " values");
  s.image.resize(n);
  for (size_t i = 0; i < n; ++i)
    if (!unit_value((*px)[i], s.image[i])) return vae::Status::error("pixel " + std::to_string(i) + " is not in [0, 1]");
  s.kind = StrokeKind::Image;
  return vae::Status::success();
}

}  // namespace

std::string share_encode(const Drawing& d, const std::string& model) {
  Json strokes = Json::array();
  for (size_t i = first_shown(d); i < d.strokes.size(); ++i) {
    const Stroke& s = d.strokes[i];
    if (s.kind == StrokeKind::Image) {
      Json px = Json::array();
      for (float v : s.image) px.push_back(nine_digits(v));
      strokes.push_back({{"image", {s.image_w, s.image_h}}, {"px", std::move(px)}});
      continue;
    }
    Json p = Json::array(), q = Json::array();
    bool pressures = false;
    for (const StrokePoint& pt : s.points) {
      p.push_back(nine_digits(pt.x));
      p.push_back(nine_digits(pt.y));
      q.push_back(nine_digits(pt.pressure));
      pressures = pressures || pt.pressure != 1.f;
    }
    Json o = {{"w", nine_digits(s.width)}, {"e", s.erase}, {"p", std::move(p)}};
    if (pressures) o["q"] = std::move(q);
    strokes.push_back(std::move(o));
  }
  const Json j = {{"v", 1}, {"model", model}, {"strokes", std::move(strokes)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

vae::Status share_decode(const std::string& text, Drawing& out, std::string& model) {
  if (text.size() > kShareMaxBytes)
    return vae::Status::error("the drawing is " + std::to_string(text.size()) + " bytes, over the limit of " +
                              std::to_string(kShareMaxBytes));
  // nlohmann/json's parser keeps its nesting on the heap, and without exceptions a bad text is "discarded".
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return vae::Status::error("not the JSON of a drawing");
  if (!j.is_object()) return vae::Status::error("not a drawing (no object)");
  const std::string extra = unknown_key(j, {"v", "model", "strokes"});
  if (!extra.empty()) return vae::Status::error("unknown key \"" + extra + "\"");
  const auto v = j.find("v"), m = j.find("model"), st = j.find("strokes");
  if (v == j.end() || !v->is_number_unsigned() || v->get<uint64_t>() != 1)
    return vae::Status::error("not version 1 of the drawing format");
  if (m == j.end() || !m->is_string() || !model_name_ok(m->get<std::string>()))
    return vae::Status::error("\"model\" is not a model name");
  if (st == j.end() || !st->is_array()) return vae::Status::error("\"strokes\" is not a list");
  Drawing d;
  size_t points = 0;
  for (size_t i = 0; i < st->size(); ++i) {
    const Json& o = (*st)[i];
    Stroke s;
    vae::Status ok = vae::Status::error("not an object");
    if (o.is_object()) ok = o.contains("image") ? image_from(o, s) : brush_from(o, points, s);
    if (!ok) return vae::Status::error("stroke " + std::to_string(i) + ": " + ok.message());
    d.strokes.push_back(std::move(s));
  }
  d.revision = out.revision + 1;  // a new picture for every cache keyed on the revision
  out = std::move(d);
  model = m->get<std::string>();
  return vae::Status::success();
}

}  // namespace app
