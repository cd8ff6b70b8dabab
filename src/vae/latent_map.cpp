// The latent map: PCA of the posterior means, projection onto its plane and back, and the "map.*" tensors.
#include "vae/latent_map.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "vae/infer.hpp"
#include "vae/model_io.hpp"

namespace vae {

namespace {

constexpr const char* kPoints = "map.points";
constexpr const char* kLabels = "map.labels";
constexpr const char* kCenter = "map.center";
constexpr const char* kBasis = "map.basis";
constexpr const char* kMetaKind = "map.kind";
constexpr const char* kMetaSource = "map.source";
constexpr const char* kMetaExplained = "map.explained";
constexpr int kEncodeBatch = 1000;

// "0.31,0.18": two fractions in [0, 1], the whole string.
bool parse_explained(const std::string& s, double out[2]) {
  const size_t comma = s.find(',');
  if (comma == std::string::npos) return false;
  const std::string parts[2] = {s.substr(0, comma), s.substr(comma + 1)};
  for (int k = 0; k < 2; ++k) {
    char* end = nullptr;
    const double v = std::strtod(parts[k].c_str(), &end);
    if (parts[k].empty() || *end != '\0' || !(v >= 0.0 && v <= 1.0)) return false;
    out[k] = v;
  }
  return true;
}

}  // namespace

namespace {

// The Gram matrix of the two rows u1, u2 of a (2, Z) basis: g11 = u1.u1, g12 = u1.u2, g22 = u2.u2.
void basis_gram(const float* basis, int Z, double& g11, double& g12, double& g22) {
  const float* u1 = basis;
  const float* u2 = basis + Z;
  g11 = g12 = g22 = 0;
  for (int j = 0; j < Z; ++j) {
    g11 += double(u1[j]) * u1[j];
    g12 += double(u1[j]) * u2[j];
    g22 += double(u2[j]) * u2[j];
  }
}

}  // namespace

void latent_map_project(const LatentMap& m, const float* z, int Z, float out[2]) {
  if (m.kind != "pca") {
    out[0] = z[0];
    out[1] = z[1];
    return;
  }
  const float* u1 = m.basis.data();
  const float* u2 = u1 + Z;
  double a = 0, b = 0;
  for (int j = 0; j < Z; ++j) {
    const double d = double(z[j]) - double(m.center[size_t(j)]);
    a += d * double(u1[j]);
    b += d * double(u2[j]);
  }
  out[0] = float(a);
  out[1] = float(b);
}

void latent_map_unproject(const LatentMap& m, float a, float b, const float* through, int Z, float* z_out) {
  if (m.kind != "pca") {
    z_out[0] = a;
    z_out[1] = b;
    return;
  }
  float ab0[2];
  latent_map_project(m, through, Z, ab0);
  const double da = double(a) - double(ab0[0]), db = double(b) - double(ab0[1]);
  const float* u1 = m.basis.data();
  const float* u2 = u1 + Z;
  double g11 = 0, g12 = 0, g22 = 0;
  basis_gram(m.basis.data(), Z, g11, g12, g22);
  // c = G^-1 (da, db); for a degenerate basis fall back to c = (da, db).
  const double det = g11 * g22 - g12 * g12;
  double c1 = da, c2 = db;
  if (det > 1e-12 * g11 * g22) {
    c1 = (g22 * da - g12 * db) / det;
    c2 = (g11 * db - g12 * da) / det;
  }
  for (int j = 0; j < Z; ++j) z_out[j] = float(double(through[j]) + c1 * u1[j] + c2 * u2[j]);
}

Status latent_map_from_means(const float* means, const uint8_t* labels, int count, int Z, const std::string& source,
                             LatentMap& out) {
  if (Z < 2) return Status::error("a latent map needs a latent of at least 2 dimensions, not " + std::to_string(Z));
  if (count < (Z == 2 ? 1 : 2))
    return Status::error("a latent map needs at least " + std::string(Z == 2 ? "1 point" : "2 points for PCA") +
                         ", got " + std::to_string(count));
  for (size_t i = 0; i < size_t(count) * size_t(Z); ++i)
    if (!std::isfinite(means[i]))
      return Status::error("posterior mean of point " + std::to_string(i / size_t(Z)) + " is not finite");

  LatentMap m;
  m.source = source;
  m.labels.assign(labels, labels + count);
  if (Z == 2) {
    m.kind = "latent";
    m.points.assign(means, means + 2 * size_t(count));
    out = std::move(m);
    return Status::success();
  }

  // PCA: C = (1/N) sum_i (mu_i - c)(mu_i - c)^T, the eigenvectors of the two largest eigenvalues as u1, u2.
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd X = Eigen::Map<const RowMajorF>(means, count, Z).cast<double>();  // (N, Z)
  const Eigen::RowVectorXd c = X.colwise().mean();                                        // (Z)
  const Eigen::MatrixXd Xc = X.rowwise() - c;
  const Eigen::MatrixXd C = (Xc.transpose() * Xc) / double(count);  // (Z, Z)
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
  if (es.info() != Eigen::Success) return Status::error("the eigen-decomposition of the means' covariance failed");
  const double total = C.trace();

  m.kind = "pca";
  m.center.resize(size_t(Z));
  for (int j = 0; j < Z; ++j) m.center[size_t(j)] = float(c(j));
  m.basis.resize(2 * size_t(Z));
  for (int k = 0; k < 2; ++k) {
    const int col = Z - 1 - k;  // eigenvalues come in increasing order
    Eigen::VectorXd u = es.eigenvectors().col(col);
    u /= u.norm();
    int big = 0;
    for (int j = 1; j < Z; ++j)
      if (std::abs(u(j)) > std::abs(u(big))) big = j;
    if (u(big) < 0) u = -u;
    for (int j = 0; j < Z; ++j) m.basis[size_t(k) * Z + j] = float(u(j));
    m.explained[k] = total > 0 ? std::max(0.0, es.eigenvalues()(col)) / total : 0.0;
  }
  m.points.resize(2 * size_t(count));
  for (int i = 0; i < count; ++i) latent_map_project(m, means + size_t(i) * Z, Z, &m.points[2 * size_t(i)]);
  out = std::move(m);
  return Status::success();
}

namespace {

// The first n of ds's images and labels, checked against the model's input size.
Status map_inputs(const Arch& arch, const Dataset& ds, int max_points, int& n) {
  if (ds.pixels() != arch.D)
    return Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                         std::to_string(arch.D));
  n = std::min(max_points, ds.count);
  if (n < 1) return Status::error(ds.name + ": no images to map");
  if (ds.labels.size() < size_t(n)) return Status::error(ds.name + ": fewer labels than images");
  return Status::success();
}

// The encoder means, kEncodeBatch images at a time: encode(first, count, mu) writes mu (Z, count) column-major,
// image after image, which is (N, Z) row-major when written in place.
template <class Encode>
std::vector<float> map_means(int n, int Z, Encode&& encode) {
  std::vector<float> means(size_t(n) * Z);
  for (int b0 = 0; b0 < n; b0 += kEncodeBatch) encode(b0, std::min(kEncodeBatch, n - b0), means.data() + size_t(b0) * Z);
  return means;
}

}  // namespace

Status latent_map_compute(const Vae& model, const Dataset& ds, int max_points, LatentMap& out) {
  const int Z = model.arch.Z;
  int n = 0;
  if (Status s = map_inputs(model.arch, ds, max_points, n); !s) return s;
  // The packed encoder (infer.hpp), as the studio encodes a drawing.
  const VaeInfer packed = infer_make(model);
  InferScratch scratch;
  std::vector<float> logvar(size_t(std::min(kEncodeBatch, n)) * Z);
  const std::vector<float> means = map_means(n, Z, [&](int first, int count, float* mu) {
    infer_encode(packed, ds.image(first), count, mu, logvar.data(), scratch);
  });
  return latent_map_from_means(means.data(), ds.labels.data(), n, Z,
                               ds.name + ", posterior means, " + std::to_string(n) + " images", out);
}

Status latent_map_compute_conditional(const Cvae& model, const Dataset& ds, int max_points, LatentMap& out) {
  const int Z = model.net.arch.Z;
  int n = 0;
  if (Status s = map_inputs(model.net.arch, ds, max_points, n); !s) return s;
  for (int i = 0; i < n; ++i)
    if (ds.labels[size_t(i)] >= model.C)
      return Status::error(ds.name + " image " + std::to_string(i) + " has label " + std::to_string(ds.labels[size_t(i)]) +
                           ", the model knows labels 0-" + std::to_string(model.C - 1));
  const CvaeInfer packed = infer_make_conditional(model);
  InferScratch scratch;
  std::vector<float> logvar(size_t(std::min(kEncodeBatch, n)) * Z);
  const std::vector<float> means = map_means(n, Z, [&](int first, int count, float* mu) {
    std::vector<float> Y(size_t(model.C) * size_t(count), 0.f);
    for (int i = 0; i < count; ++i) Y[size_t(i) * model.C + ds.labels[size_t(first + i)]] = 1.f;
    infer_encode_conditional(packed, ds.image(first), Y.data(), count, mu, logvar.data(), scratch);
  });
  return latent_map_from_means(means.data(), ds.labels.data(), n, Z,
                               ds.name + ", style codes read with each image's label, " + std::to_string(n) + " images",
                               out);
}

void latent_map_to_st(const LatentMap& m, StFile& f) {
  f.tensors.erase(std::remove_if(f.tensors.begin(), f.tensors.end(),
                                 [](const StTensor& t) { return is_map_tensor(t.name); }),
                  f.tensors.end());
  // The metadata keys share the tensors' "map." prefix.
  f.metadata.erase(std::remove_if(f.metadata.begin(), f.metadata.end(),
                                  [](const std::pair<std::string, std::string>& kv) { return is_map_tensor(kv.first); }),
                   f.metadata.end());
  if (m.kind.empty()) return;
  const DType dtype = st_file_dtype(f);
  auto add = [&f, dtype](const char* name, std::vector<int64_t> shape, std::vector<float> data) {
    StTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.data = std::move(data);
    t.dtype = dtype;
    f.tensors.push_back(std::move(t));
  };
  const int64_t n = m.count();
  add(kPoints, {n, 2}, m.points);
  add(kLabels, {n}, std::vector<float>(m.labels.begin(), m.labels.end()));
  if (m.kind == "pca") {
    const int64_t Z = int64_t(m.center.size());
    add(kCenter, {Z}, m.center);
    add(kBasis, {2, Z}, m.basis);
  }
  f.set_meta(kMetaKind, m.kind);
  f.set_meta(kMetaSource, m.source);
  if (m.kind == "pca") {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f,%.4f", m.explained[0], m.explained[1]);
    f.set_meta(kMetaExplained, buf);
  }
}

Status latent_map_from_st(const StFile& f, int Z, LatentMap& out) {
  const StTensor *points = nullptr, *labels = nullptr, *center = nullptr, *basis = nullptr;
  const Status picked = st_pick(f, is_map_tensor,
                                {{kPoints, &points}, {kLabels, &labels}, {kCenter, &center}, {kBasis, &basis}},
                                [](const std::string& name) { return "unexpected map tensor \"" + name + "\""; });
  if (!picked) return picked;
  const std::string kind = f.meta(kMetaKind);
  if (kind.empty() && !points && !labels && !center && !basis) {
    out = LatentMap();
    return Status::success();
  }
  if (kind.empty()) return Status::error("map tensors without map.kind in __metadata__");
  if (kind != "latent" && kind != "pca") return Status::error("map.kind \"" + kind + "\" is not latent or pca");
  if (kind == "latent" && Z != 2)
    return Status::error("map.kind latent needs a 2-D latent, the model's has " + std::to_string(Z));
  if (kind == "pca" && Z <= 2)
    return Status::error("map.kind pca needs a latent of more than 2 dimensions, the model's has " + std::to_string(Z));
  if (kind == "latent" && (center || basis))
    return Status::error(std::string(center ? kCenter : kBasis) + " belongs to map.kind pca, not latent");
  if (!points) return Status::error(std::string(kPoints) + " missing for map.kind " + kind);
  if (!labels) return Status::error(std::string(kLabels) + " missing for map.kind " + kind);
  if (kind == "pca" && !center) return Status::error(std::string(kCenter) + " missing for map.kind pca");
  if (kind == "pca" && !basis) return Status::error(std::string(kBasis) + " missing for map.kind pca");

  if (points->shape.size() != 2 || points->shape[1] != 2 || points->shape[0] < 1)
    return Status::error(std::string(kPoints) + " has shape " + st_shape_str(points->shape) + ", needs (N, 2) with N >= 1");
  const int64_t n = points->shape[0];
  if (labels->shape != std::vector<int64_t>{n})
    return Status::error(std::string(kLabels) + " has shape " + st_shape_str(labels->shape) + ", " + kPoints + " " +
                         st_shape_str(points->shape) + " needs " + st_shape_str({n}));
  for (size_t i = 0; i < labels->data.size(); ++i) {
    const float v = labels->data[i];
    if (!(v >= 0.f && v <= 255.f && v == std::floor(v))) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", double(v));
      return Status::error(std::string(kLabels) + "[" + std::to_string(i) + "] = " + buf +
                           " is not a whole number from 0 to 255");
    }
  }
  LatentMap m;
  m.kind = kind;
  m.source = f.meta(kMetaSource);
  m.points = points->data;
  m.labels.assign(labels->data.begin(), labels->data.end());
  if (kind == "pca") {
    if (center->shape != std::vector<int64_t>{Z})
      return Status::error(std::string(kCenter) + " has shape " + st_shape_str(center->shape) + ", the model's latent needs " +
                           st_shape_str({Z}));
    if (basis->shape != std::vector<int64_t>{2, Z})
      return Status::error(std::string(kBasis) + " has shape " + st_shape_str(basis->shape) + ", the model's latent needs " +
                           st_shape_str({2, Z}));
    double n1 = 0, n2 = 0, d12 = 0;
    basis_gram(basis->data.data(), Z, n1, d12, n2);
    if (std::abs(std::sqrt(n1) - 1) > 1e-2 || std::abs(std::sqrt(n2) - 1) > 1e-2 || std::abs(d12) > 1e-2) {
      char buf[128];
      std::snprintf(buf, sizeof buf, " rows are not orthonormal: |u1| = %.4g, |u2| = %.4g, u1.u2 = %.4g",
                    std::sqrt(n1), std::sqrt(n2), d12);
      return Status::error(kBasis + std::string(buf));
    }
    m.center = center->data;
    m.basis = basis->data;
    const std::string ex = f.meta(kMetaExplained);
    if (!ex.empty() && !parse_explained(ex, m.explained))
      return Status::error(std::string(kMetaExplained) + " \"" + ex + "\" is not two fractions like 0.31,0.18");
  }
  out = std::move(m);
  return Status::success();
}

}  // namespace vae
