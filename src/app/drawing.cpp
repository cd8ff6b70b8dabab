// The studio's drawing as data: stroke history with undo / redo, and the anti-aliased round-brush rasteriser.
// No window or input handling here; see drawing.hpp for the conventions.
#include "app/drawing.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace app {

namespace {

// No committed stroke since the last Clear (an Image counts as drawn).
bool picture_blank(const Drawing& d) {
  return d.strokes.empty() || d.strokes.back().kind == StrokeKind::Clear;
}

void commit(Drawing& d, Stroke s) {
  d.strokes.push_back(std::move(s));
  d.redo.clear();
}

float smoothstep(float e0, float e1, float x) {
  const float t = std::clamp((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

// Coverage of a pixel centre at distance dist (pixels) from a brush centre line of radius r (pixels).
float brush_coverage(float dist, float r) {
  if (!(r > 0.0f)) return 0.0f;
  const float fade = std::min(1.0f, 2.0f * r);  // sub-pixel strokes: keep the integral across at 2r
  const float re = std::max(r, 0.5f);
  return fade * (1.0f - smoothstep(re - 0.5f, re + 0.5f, dist));
}

// Max-coverage of one brush stroke into cov (size x size, all zero on entry), then composited into out; cov
// is zeroed again over the touched box.
void paint_brush(const Stroke& s, int size, std::vector<float>& cov, std::vector<float>& out) {
  const size_t n = s.points.size();
  if (n == 0) return;
  const float px_per_unit = float(size);
  const float half_width = 0.5f * s.width * px_per_unit;
  int bx0 = size, by0 = size, bx1 = -1, by1 = -1;  // touched box, inclusive

  for (size_t k = 0; k == 0 || k + 1 < n; ++k) {
    const StrokePoint& pa = s.points[k];
    const StrokePoint& pb = s.points[n == 1 ? k : k + 1];
    const float ax = pa.x * px_per_unit, ay = pa.y * px_per_unit;
    const float bx = pb.x * px_per_unit, by = pb.y * px_per_unit;
    const float ra = half_width * pa.pressure, rb = half_width * pb.pressure;
    const float reach = std::max({ra, rb, 0.5f}) + 0.5f;
    const int x0 = std::max(0, int(std::floor(std::min(ax, bx) - reach)));
    const int x1 = std::min(size - 1, int(std::ceil(std::max(ax, bx) + reach)));
    const int y0 = std::max(0, int(std::floor(std::min(ay, by) - reach)));
    const int y1 = std::min(size - 1, int(std::ceil(std::max(ay, by) + reach)));
    if (x0 > x1 || y0 > y1) continue;
    bx0 = std::min(bx0, x0), by0 = std::min(by0, y0), bx1 = std::max(bx1, x1), by1 = std::max(by1, y1);

    // Distance to the segment a + t (b - a), t in [0, 1], from the clamped projection; radius lerped by t.
    const float ux = bx - ax, uy = by - ay;
    const float len2 = ux * ux + uy * uy;
    for (int j = y0; j <= y1; ++j) {
      for (int i = x0; i <= x1; ++i) {
        float& slot = cov[size_t(j) * size_t(size) + size_t(i)];
        if (slot >= 1.0f) continue;
        const float qx = float(i) + 0.5f - ax, qy = float(j) + 0.5f - ay;
        const float t = len2 > 0.0f ? std::clamp((qx * ux + qy * uy) / len2, 0.0f, 1.0f) : 0.0f;
        const float ex = qx - t * ux, ey = qy - t * uy;
        const float d2 = ex * ex + ey * ey;
        const float r = ra + t * (rb - ra);
        const float outer = std::max(r, 0.5f) + 0.5f;
        if (d2 >= outer * outer) continue;  // coverage 0
        const float c = r >= 0.5f && d2 <= (r - 0.5f) * (r - 0.5f) ? 1.0f : brush_coverage(std::sqrt(d2), r);
        slot = std::max(slot, c);
      }
    }
  }

  for (int j = by0; j <= by1; ++j) {
    for (int i = bx0; i <= bx1; ++i) {
      const size_t idx = size_t(j) * size_t(size) + size_t(i);
      const float c = cov[idx];
      out[idx] = s.erase ? out[idx] * (1.0f - c) : out[idx] + c * (1.0f - out[idx]);
      cov[idx] = 0.0f;
    }
  }
}

// Bilinear sample of the bitmap at every pixel centre: bitmap index coordinate u = (i + 1/2) w / size - 1/2.
void paint_image(const Stroke& s, int size, std::vector<float>& out) {
  const int w = s.image_w, h = s.image_h;
  for (int j = 0; j < size; ++j) {
    const float v = std::clamp((float(j) + 0.5f) * float(h) / float(size) - 0.5f, 0.0f, float(h - 1));
    const int r0 = int(v), r1 = std::min(r0 + 1, h - 1);
    const float fy = v - float(r0);
    for (int i = 0; i < size; ++i) {
      const float u = std::clamp((float(i) + 0.5f) * float(w) / float(size) - 0.5f, 0.0f, float(w - 1));
      const int c0 = int(u), c1 = std::min(c0 + 1, w - 1);
      const float fx = u - float(c0);
      const float* row0 = s.image.data() + size_t(r0) * size_t(w);
      const float* row1 = s.image.data() + size_t(r1) * size_t(w);
      const float top = row0[c0] + fx * (row0[c1] - row0[c0]);
      const float bottom = row1[c0] + fx * (row1[c1] - row1[c0]);
      out[size_t(j) * size_t(size) + size_t(i)] = top + fy * (bottom - top);
    }
  }
}

}  // namespace

void drawing_begin_stroke(Drawing& d, float width, bool erase) {
  drawing_end_stroke(d);
  d.current = Stroke{};
  d.current.kind = StrokeKind::Brush;
  d.current.width = std::isfinite(width) ? std::max(width, 0.0f) : 0.0f;
  d.current.erase = erase;
  d.stroke_open = true;
}

void drawing_add_point(Drawing& d, float x, float y, float pressure) {
  if (!d.stroke_open || !std::isfinite(x) || !std::isfinite(y)) return;
  const float p = std::isfinite(pressure) ? std::clamp(pressure, 0.0f, 1.0f) : 1.0f;
  std::vector<StrokePoint>& pts = d.current.points;
  if (!pts.empty() && pts.back().x == x && pts.back().y == y && pts.back().pressure == p) return;
  pts.push_back({x, y, p});
  ++d.revision;
}

void drawing_end_stroke(Drawing& d) {
  if (!d.stroke_open) return;
  d.stroke_open = false;
  if (!d.current.points.empty()) commit(d, std::move(d.current));
  d.current = Stroke{};
}

namespace {

// Undo and redo: the newest entry of one list moves to the other (after ending an open stroke).
bool move_last(Drawing& d, std::vector<Stroke>& from, std::vector<Stroke>& to) {
  drawing_end_stroke(d);
  if (from.empty()) return false;
  to.push_back(std::move(from.back()));
  from.pop_back();
  ++d.revision;
  return true;
}

}  // namespace

bool drawing_undo(Drawing& d) { return move_last(d, d.strokes, d.redo); }

bool drawing_redo(Drawing& d) { return move_last(d, d.redo, d.strokes); }

bool drawing_clear(Drawing& d) {
  drawing_end_stroke(d);
  if (picture_blank(d)) return false;
  Stroke s;
  s.kind = StrokeKind::Clear;
  commit(d, std::move(s));
  ++d.revision;
  return true;
}

bool drawing_can_undo(const Drawing& d) {
  return !d.strokes.empty() || (d.stroke_open && !d.current.points.empty());
}

bool drawing_can_redo(const Drawing& d) { return !d.redo.empty(); }

bool drawing_from_image(const float* img, int w, int h, Drawing& d) {
  if (img == nullptr || w < 1 || h < 1) return false;
  drawing_end_stroke(d);
  Stroke s;
  s.kind = StrokeKind::Image;
  s.image_w = w;
  s.image_h = h;
  s.image.assign(img, img + size_t(w) * size_t(h));
  for (float& v : s.image) v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // also maps NaN to 0
  commit(d, std::move(s));
  ++d.revision;
  return true;
}

void drawing_rasterize(const Drawing& d, int size, std::vector<float>& out) {
  out.assign(size > 0 ? size_t(size) * size_t(size) : 0, 0.0f);
  if (size < 1) return;

  // Everything before the last Clear or Image is covered by it.
  size_t first = 0;
  for (size_t k = d.strokes.size(); k-- > 0;) {
    if (d.strokes[k].kind != StrokeKind::Brush) {
      first = k;
      break;
    }
  }
  std::vector<float> cov(out.size(), 0.0f);
  for (size_t k = first; k < d.strokes.size(); ++k) {
    const Stroke& s = d.strokes[k];
    if (s.kind == StrokeKind::Image) paint_image(s, size, out);
    if (s.kind == StrokeKind::Brush) paint_brush(s, size, cov, out);
  }
  if (d.stroke_open) paint_brush(d.current, size, cov, out);
}

}  // namespace app
