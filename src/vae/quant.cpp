// Per-row symmetric int8 weights (quant.hpp): the quantizer and the loaders' dequantization, with their checks.
#include "vae/quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "vae/cvae.hpp"
#include "vae/model_io.hpp"

namespace vae {

namespace {

constexpr const char* kScaleSuffix = ".weight_scale";

bool ends_with(const std::string& s, const char* tail) {
  const size_t n = std::char_traits<char>::length(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

std::string number(float x) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", double(x));
  return b;
}

}  // namespace

float quant_row(const float* w, int cols, float* q) {
  double amax = 0;
  for (int c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(double(w[c])));
  float s = 1.f;  // a row of zeros: q = 0 whatever s is, and the reader refuses s = 0
  if (amax > 0) {
    s = float(amax / 127.0);
    while (double(s) * 127.0 < amax) s = std::nextafter(s, std::numeric_limits<float>::infinity());
  }
  for (int c = 0; c < cols; ++c) q[c] = float(std::min(127.0, std::max(-127.0, std::round(double(w[c]) / s))));
  return s;
}

bool quant_layer_is_int8(const Layout& lay, const Linear& L) {
  const bool head = L.w == lay.enc_mu.w || L.w == lay.enc_logvar.w;
  const bool code_reader = !lay.dec.empty() && L.w == lay.dec.front().w;
  return !head && !code_reader;
}

std::string quant_scale_name(const std::string& weight) { return weight + "_scale"; }

bool quant_is_scale(const std::string& name) { return ends_with(name, kScaleSuffix); }

Status quant_file(StFile& f) {
  for (const StTensor& t : f.tensors)
    if (t.dtype == DType::I8 || quant_is_scale(t.name))
      return Status::error("already quantized (tensor \"" + t.name + "\" is " +
                           (t.dtype == DType::I8 ? "I8" : "a scale") + ")");
  if (!f.meta(kMetaQuantMethod).empty())
    return Status::error("already quantized (metadata quant.method \"" + f.meta(kMetaQuantMethod) + "\")");
  // The layer weights are those of the model the file loads as.
  Layout layout;
  Status s = Status::success();
  if (f.meta(kMetaClasses).empty()) {
    Vae m;
    if ((s = model_from_st(f, m))) layout = std::move(m.layout);
  } else {
    Cvae c;
    if ((s = cvae_from_st(f, c))) layout = std::move(c.net.layout);
  }
  if (!s) return s;

  std::vector<StTensor> out;
  out.reserve(f.tensors.size() + layout.slots.size());
  for (StTensor& t : f.tensors) {
    const auto slot = std::find_if(layout.slots.begin(), layout.slots.end(), [&](const TensorSlot& sl) {
      return sl.name == t.name && sl.cols > 0 && quant_layer_is_int8(layout, Linear{sl.cols, sl.rows, sl.offset, 0});
    });
    if (slot == layout.slots.end()) {
      out.push_back(std::move(t));
      continue;
    }
    StTensor scale{quant_scale_name(t.name), {slot->rows}, std::vector<float>(size_t(slot->rows)), DType::F32};
    for (int r = 0; r < slot->rows; ++r) {
      float* row = t.data.data() + size_t(r) * size_t(slot->cols);
      scale.data[size_t(r)] = quant_row(row, slot->cols, row);  // in place: q over w
    }
    t.dtype = DType::I8;
    out.push_back(std::move(t));
    out.push_back(std::move(scale));
  }
  f.tensors = std::move(out);
  f.set_meta(kMetaQuantMethod, kQuantMethod);
  return Status::success();
}

Status quant_weight_values(const StFile& f, const StTensor& w, int rows, int cols, float* out) {
  const std::string scale_name = quant_scale_name(w.name);
  const StTensor* scale = f.find(scale_name);
  if (w.data.size() != size_t(rows) * size_t(cols))
    return Status::error("tensor \"" + w.name + "\" holds " + std::to_string(w.data.size()) + " values, not " +
                         std::to_string(size_t(rows) * size_t(cols)));
  if (w.dtype != DType::I8) {
    if (scale)
      return Status::error("tensor \"" + scale_name + "\" scales a weight that is not quantized (\"" + w.name +
                           "\" is " + dtype_name(w.dtype) + ", not I8)");
    std::copy(w.data.begin(), w.data.end(), out);
    return Status::success();
  }
  if (!scale)
    return Status::error("tensor \"" + w.name + "\" is I8 but its per-row scales \"" + scale_name + "\" are missing");
  if (scale->dtype == DType::I8)
    return Status::error("tensor \"" + scale_name + "\" is I8; a scale must be a float (F32, F16 or BF16)");
  if (scale->shape != std::vector<int64_t>{rows} || scale->data.size() != size_t(rows))
    return Status::error("tensor \"" + scale_name + "\" has shape " + st_shape_str(scale->shape) + ", its weight \"" +
                         w.name + "\" " + st_shape_str(w.shape) + " needs " + st_shape_str({rows}));
  for (int r = 0; r < rows; ++r) {
    const float s = scale->data[size_t(r)];
    if (!(s > 0.f) || !std::isfinite(s))
      return Status::error("tensor \"" + scale_name + "\": the scale of row " + std::to_string(r) + " is " +
                           number(s) + "; a scale must be positive and finite");
  }
  for (int r = 0; r < rows; ++r) {
    const float s = scale->data[size_t(r)];
    const size_t at = size_t(r) * size_t(cols);
    for (int c = 0; c < cols; ++c) out[at + size_t(c)] = w.data[at + size_t(c)] * s;
  }
  return Status::success();
}

Status quant_check_meta(const StFile& f, bool any_weight_i8) {
  const std::string method = f.meta(kMetaQuantMethod);
  if (method.empty()) return Status::success();
  if (method != kQuantMethod)
    return Status::error("metadata quant.method \"" + method + "\" is not supported (" + kQuantMethod + ")");
  if (!any_weight_i8)
    return Status::error(std::string("metadata quant.method says ") + kQuantMethod + " but no weight is I8");
  return Status::success();
}

}  // namespace vae
