// Per-row symmetric int8 weights (quant.hpp): the quantizer and the loaders' dequantization, with their checks.
#include "vae/quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <vector>

#include <Eigen/Cholesky>

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

namespace {

using MatD = Eigen::MatrixXd;
using RowMajorMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
RowMajorMap weight_map(Vae& m, const Linear& L) { return RowMajorMap(m.params.data() + L.w, L.out, L.in); }

// Cross-layer equalisation (Nagel et al. 2019) across the ReLU between layers A and B: output c of A (its weights
// and bias) times f_c > 0 and input column c of B divided by it leaves the network's function as it was, since
// relu(f h) = f relu(h). With f_c = sqrt(colmax_c / geometric mean of the colmax) B's columns come closer in size,
// so B's per-row scale serves every column better; A's rows scale with their own per-row scales, and its outputs
// (the next layer's per-image input step) grow by about 2x at most on the shipped models.
void equalise(Vae& m, const Linear& A, const Linear& B) {
  RowMajorMap wa = weight_map(m, A), wb = weight_map(m, B);
  const Eigen::VectorXf colmax = wb.cwiseAbs().colwise().maxCoeff().transpose();
  double log_sum = 0;
  int nonzero = 0;
  for (int c = 0; c < B.in; ++c)
    if (colmax[c] > 0) {
      log_sum += std::log(double(colmax[c]));
      ++nonzero;
    }
  if (nonzero == 0) return;
  const double mean = std::exp(log_sum / nonzero);
  for (int c = 0; c < B.in; ++c) {
    if (!(colmax[c] > 0)) continue;
    const float f = float(std::sqrt(double(colmax[c]) / mean));
    wb.col(c) /= f;
    wa.row(c) *= f;
    m.params[A.b + size_t(c)] *= f;
  }
}

// One layer's whole numbers and scales.
struct Wholes {
  std::vector<float> q, scale;
};

// GPTQ (Frantar et al. 2022) with quant_row's per-row scales, fixed first: the columns are rounded one after
// another, and each one's rounding error is spread over the columns not yet rounded through the inverse Hessian
// of the layer's squared output error on its calibration inputs X (in, n), H = X X^T, damped by 1 % of its mean
// diagonal. Round to nearest minimises each weight's error; this minimises the layer's output error on the data.
// The layer's weights in m become q * scale.
Wholes gptq(Vae& m, const Linear& L, const Matrix& X) {
  RowMajorMap w = weight_map(m, L);
  Wholes r;
  r.q.resize(size_t(L.out) * size_t(L.in));
  r.scale.resize(size_t(L.out));
  for (int o = 0; o < L.out; ++o)  // the scales of round to nearest; q here is overwritten below
    r.scale[size_t(o)] = quant_row(w.data() + size_t(o) * L.in, L.in, r.q.data() + size_t(o) * L.in);
  MatD W = w.cast<double>();
  const MatD Xd = X.cast<double>();
  MatD H = Xd * Xd.transpose();
  for (int i = 0; i < L.in; ++i)
    if (H(i, i) == 0) {  // an input that is always zero: its weights do nothing, round them to zero
      H(i, i) = 1;
      W.col(i).setZero();
    }
  H.diagonal().array() += 0.01 * H.diagonal().mean();
  const Eigen::LLT<MatD> h(H);
  const Eigen::LLT<MatD> inv(h.solve(MatD::Identity(L.in, L.in)));
  if (h.info() != Eigen::Success || inv.info() != Eigen::Success) return r;  // round to nearest as computed
  const MatD U = inv.matrixU();  // H^-1 = U^T U
  for (int i = 0; i < L.in; ++i) {
    Eigen::VectorXd err(L.out);
    for (int o = 0; o < L.out; ++o) {
      const double s = r.scale[size_t(o)];
      const double q = std::min(127.0, std::max(-127.0, std::nearbyint(W(o, i) / s)));
      r.q[size_t(o) * L.in + size_t(i)] = float(q);
      err[o] = (W(o, i) - q * s) / U(i, i);
    }
    if (i + 1 < L.in) W.rightCols(L.in - i - 1).noalias() -= err * U.row(i).tail(L.in - i - 1);
  }
  for (int o = 0; o < L.out; ++o)
    for (int i = 0; i < L.in; ++i) w(o, i) = r.q[size_t(o) * L.in + size_t(i)] * r.scale[size_t(o)];
  return r;
}

Matrix relu_layer(const Vae& m, const Linear& L, const Matrix& X) {
  Matrix Y;
  linear_forward(m.params.data(), L, MatrixRef(X), Y);
  return Y.cwiseMax(0.f);
}

// Equalises m and rounds its int8 layers by GPTQ, each on the inputs it sees once the layers before it are
// rounded: the encoder's on the calibration images, the decoder's on the codes (posterior means) the float
// encoder gives them. Returns each int8 layer's whole numbers and scales by weight name.
std::map<std::string, Wholes> calibrated(Vae& m, const QuantCalibration& calib) {
  Layout& lay = m.layout;
  for (size_t i = 0; i + 1 < lay.enc.size(); ++i) equalise(m, lay.enc[i], lay.enc[i + 1]);
  for (size_t i = 0; i + 1 < lay.dec.size(); ++i) equalise(m, lay.dec[i], lay.dec[i + 1]);
  if (!lay.dec.empty()) equalise(m, lay.dec.back(), lay.dec_out);
  const Vae ref = m;
  std::map<std::string, Wholes> out;
  auto round = [&](const Linear& L, const Matrix& X) {
    if (quant_layer_is_int8(lay, L)) out[layout_weight_name(lay, L)] = gptq(m, L, X);
  };
  Matrix x = Eigen::Map<const Matrix>(calib.images, m.arch.D, calib.count), xf = x;
  for (const Linear& L : lay.enc) {
    round(L, x);
    x = relu_layer(m, L, x);
    xf = relu_layer(ref, L, xf);
  }
  Matrix g;
  linear_forward(ref.params.data(), lay.enc_mu, MatrixRef(xf), g);
  for (const Linear& L : lay.dec) {
    round(L, g);
    g = relu_layer(m, L, g);
  }
  round(lay.dec_out, g);
  return out;
}

}  // namespace

Status quant_file(StFile& f, const QuantCalibration& calib) {
  for (const StTensor& t : f.tensors)
    if (t.dtype == DType::I8 || quant_is_scale(t.name))
      return Status::error("already quantized (tensor \"" + t.name + "\" is " +
                           (t.dtype == DType::I8 ? "I8" : "a scale") + ")");
  if (!f.meta(kMetaQuantMethod).empty())
    return Status::error("already quantized (metadata quant.method \"" + f.meta(kMetaQuantMethod) + "\")");
  if (calib.count > 0 && !calib.images) return Status::error("calibration: no images");
  // The layer weights are those of the model the file loads as.
  Vae m;
  Status s = Status::success();
  const bool conditional = !f.meta(kMetaClasses).empty();
  if (!conditional) {
    s = model_from_st(f, m);
  } else {
    Cvae c;
    if ((s = cvae_from_st(f, c))) m = std::move(c.net);
  }
  if (!s) return s;
  if (calib.count > 0 && !conditional && calib.dims != m.arch.D)
    return Status::error("calibration images have " + std::to_string(calib.dims) + " pixels, the model takes " +
                         std::to_string(m.arch.D));
  // GPTQ for a plain model with calibration images; round to nearest otherwise.
  const bool gptq_rounded = calib.count > 0 && !conditional;
  const std::map<std::string, Wholes> wholes = gptq_rounded ? calibrated(m, calib) : std::map<std::string, Wholes>();
  const Layout& layout = m.layout;

  std::vector<StTensor> out;
  out.reserve(f.tensors.size() + layout.slots.size());
  for (StTensor& t : f.tensors) {
    const auto slot = std::find_if(layout.slots.begin(), layout.slots.end(),
                                   [&](const TensorSlot& sl) { return sl.name == t.name; });
    if (slot == layout.slots.end()) {
      out.push_back(std::move(t));
      continue;
    }
    const bool int8 = slot->cols > 0 && quant_layer_is_int8(layout, Linear{slot->cols, slot->rows, slot->offset, 0});
    if (!int8) {
      // Kept, or (equalised) rewritten in its own dtype.
      if (gptq_rounded) std::copy(m.params.begin() + std::ptrdiff_t(slot->offset),
                                  m.params.begin() + std::ptrdiff_t(slot->offset + slot->size()), t.data.begin());
      out.push_back(std::move(t));
      continue;
    }
    StTensor scale{quant_scale_name(t.name), {slot->rows}, std::vector<float>(size_t(slot->rows)), DType::F32};
    if (gptq_rounded) {
      const Wholes& w = wholes.at(t.name);
      t.data = w.q;
      scale.data = w.scale;
    } else {
      for (int r = 0; r < slot->rows; ++r) {
        float* row = t.data.data() + size_t(r) * size_t(slot->cols);
        scale.data[size_t(r)] = quant_row(row, slot->cols, row);  // in place: q over w
      }
    }
    t.dtype = DType::I8;
    out.push_back(std::move(t));
    out.push_back(std::move(scale));
  }
  f.tensors = std::move(out);
  f.set_meta(kMetaQuantMethod, kQuantMethod);
  f.set_meta(kMetaQuantRounding, gptq_rounded ? "gptq, cross-layer equalisation (" + std::to_string(calib.count) +
                                                   " calibration images)"
                                              : "round to nearest");
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
