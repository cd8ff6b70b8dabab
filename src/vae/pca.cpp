// PCA of a data set's images (pca.hpp): the fit, encode/decode, probabilistic PCA's fill-in and samples, and the
// "pca.*" tensors. Not a general linear-algebra module: one covariance, one eigen-decomposition, K axes.
//
// Size letters: N images, D pixels, K components, O observed pixels.
#include "vae/pca.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "vae/prng.hpp"

namespace vae {

namespace {

constexpr const char* kMean = "pca.mean";
constexpr const char* kComponents = "pca.components";
constexpr const char* kVariances = "pca.variances";
constexpr const char* kMetaSource = "pca.source";
constexpr const char* kMetaNoise = "pca.noise_variance";
constexpr int kFitChunk = 1000;  // images converted to double at a time while accumulating the covariance

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

bool is_pca_tensor(const std::string& name) { return name.rfind(kPcaPrefix, 0) == 0; }

double pca_explained(const Pca& p) {
  double kept = 0;
  for (float v : p.variances) kept += double(v);
  const double total = kept + double(p.D - p.K) * p.noise_variance;
  return total > 0 ? kept / total : 0.0;
}

Status pca_fit(const float* images, int N, int D, int K, const std::string& source, Pca& out) {
  if (D < 1) return Status::error("PCA needs images of at least 1 pixel, not " + std::to_string(D));
  if (K < 1 || K > D)
    return Status::error("PCA of " + std::to_string(D) + "-pixel images needs 1 to " + std::to_string(D) +
                         " components, not " + std::to_string(K));
  if (N < 2) return Status::error("PCA needs at least 2 images, got " + std::to_string(N));
  for (size_t i = 0; i < size_t(N) * size_t(D); ++i)
    if (!std::isfinite(images[i]))
      return Status::error("pixel " + std::to_string(i % size_t(D)) + " of image " + std::to_string(i / size_t(D)) +
                           " is not finite");

  // mean = (1/N) sum_i x_i; C = (1/N) sum_i (x_i - mean)(x_i - mean)^T, both in double, a chunk of images at a
  // time (60000 x 784 doubles at once would be 376 MB). Only C's lower triangle is accumulated (rankUpdate).
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(D);  // (D)
  for (int i = 0; i < N; ++i) mean += Eigen::Map<const Eigen::VectorXf>(images + size_t(i) * D, D).cast<double>();
  mean /= double(N);
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(D, D);  // (D, D)
  for (int i0 = 0; i0 < N; i0 += kFitChunk) {
    const int b = std::min(kFitChunk, N - i0);
    // Row-major (b, D) images seen column-major as (D, b): one image per column.
    Eigen::MatrixXd Xc = Eigen::Map<const Eigen::MatrixXf>(images + size_t(i0) * D, D, b).cast<double>();  // (D, b)
    Xc.colwise() -= mean;
    C.selfadjointView<Eigen::Lower>().rankUpdate(Xc);
  }
  C = C.selfadjointView<Eigen::Lower>();
  C /= double(N);

  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
  if (es.info() != Eigen::Success) return Status::error("the eigen-decomposition of the images' covariance failed");

  Pca p;
  p.D = D;
  p.K = K;
  p.source = source;
  p.mean.resize(size_t(D));
  for (int d = 0; d < D; ++d) p.mean[size_t(d)] = float(mean(d));
  p.components.resize(size_t(K) * size_t(D));
  p.variances.resize(size_t(K));
  for (int k = 0; k < K; ++k) {
    const int col = D - 1 - k;  // eigenvalues come in increasing order
    Eigen::VectorXd u = es.eigenvectors().col(col);
    u /= u.norm();
    int big = 0;
    for (int d = 1; d < D; ++d)
      if (std::abs(u(d)) > std::abs(u(big))) big = d;
    if (u(big) < 0) u = -u;
    for (int d = 0; d < D; ++d) p.components[size_t(k) * D + d] = float(u(d));
    p.variances[size_t(k)] = float(std::max(0.0, es.eigenvalues()(col)));
  }
  // sigma^2 = (1 / (D - K)) sum of the discarded eigenvalues (Tipping & Bishop 1999, eq. 8); rounding can make
  // the smallest ones slightly negative, which count as 0.
  double rest = 0;
  for (int j = 0; j < D - K; ++j) rest += std::max(0.0, es.eigenvalues()(j));
  p.noise_variance = D > K ? rest / double(D - K) : 0.0;
  out = std::move(p);
  return Status::success();
}

Status pca_fit_dataset(const Dataset& ds, int K, int max_images, Pca& out) {
  const int n = std::max(0, std::min(max_images, ds.count));
  if (ds.images.size() < size_t(n) * size_t(ds.pixels()))
    return Status::error(ds.name + ": fewer pixels than " + std::to_string(n) + " images need");
  const Status s = pca_fit(ds.images.data(), n, ds.pixels(), K, ds.name + ", " + std::to_string(n) + " images", out);
  return ds.name.empty() ? s : s.with_context(ds.name);
}

void pca_encode(const Pca& p, const float* x, float* c) {
  const int D = p.D;
  for (int k = 0; k < p.K; ++k) {
    const float* u = p.components.data() + size_t(k) * D;
    double s = 0;
    for (int d = 0; d < D; ++d) s += double(u[d]) * (double(x[d]) - double(p.mean[size_t(d)]));
    c[k] = float(s);
  }
}

void pca_decode(const Pca& p, const float* c, float* x) {
  const int D = p.D;
  for (int d = 0; d < D; ++d) {
    double s = p.mean[size_t(d)];
    for (int k = 0; k < p.K; ++k) s += double(c[k]) * double(p.components[size_t(k) * D + d]);
    x[d] = float(std::min(1.0, std::max(0.0, s)));
  }
}

void pca_reconstruct(const Pca& p, const float* x, float* out) {
  std::vector<float> c(size_t(p.K));
  pca_encode(p, x, c.data());
  pca_decode(p, c.data(), out);
}

void pca_fill_observed(const Pca& p, const float* x, const uint8_t* observed, float* out) {
  const int D = p.D, K = p.K;
  // Probabilistic PCA, x = mean + U^T c + e, c ~ N(0, diag(variances)), e ~ N(0, sigma^2 I). Given the observed
  // pixels x_o the posterior mean of c is A^-1 U_o (x_o - mean_o), A = U_o U_o^T + sigma^2 diag(1 / variances)
  // (Tipping & Bishop 1999 §3.2, with the prior's scale kept per axis). An axis of zero variance has c_k = 0.
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(K, K);  // (K, K)
  Eigen::VectorXd r = Eigen::VectorXd::Zero(K);     // (K)
  Eigen::VectorXd u(K);
  for (int d = 0; d < D; ++d) {
    if (!observed[d]) continue;
    for (int k = 0; k < K; ++k) u(k) = p.components[size_t(k) * D + d];
    A.selfadjointView<Eigen::Lower>().rankUpdate(u);
    r += u * (double(x[d]) - double(p.mean[size_t(d)]));
  }
  A = A.selfadjointView<Eigen::Lower>();
  const double s2 = p.noise_variance;
  bool regularised = s2 > 0;
  for (int k = 0; k < K; ++k) {
    const double var = p.variances[size_t(k)];
    if (var > 0) {
      A(k, k) += s2 / var;
    } else {
      A.row(k).setZero();
      A.col(k).setZero();
      A(k, k) = 1;
      r(k) = 0;
    }
  }
  // With sigma^2 > 0, A is positive definite; with sigma^2 == 0 and fewer observed pixels than axes it can be
  // singular, and the least-norm solution is taken.
  Eigen::VectorXd c;
  if (regularised)
    c = A.ldlt().solve(r);
  else
    c = A.completeOrthogonalDecomposition().solve(r);
  std::vector<float> cf(static_cast<size_t>(K));
  for (int k = 0; k < K; ++k) cf[size_t(k)] = float(c(k));
  pca_decode(p, cf.data(), out);
  for (int d = 0; d < D; ++d)
    if (observed[d]) out[d] = x[d];
}

std::vector<float> pca_sample(const Pca& p, int count, float temperature, uint64_t seed) {
  if (count <= 0 || p.empty()) return {};
  // c_k = t sqrt(variance_k) n, n ~ N(0, 1) from the project PRNG, image after image, axis after axis.
  Pcg32 rng(seed);
  std::vector<float> out(size_t(count) * size_t(p.D)), c(size_t(p.K));
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < p.K; ++k)
      c[size_t(k)] = float(double(temperature) * std::sqrt(double(p.variances[size_t(k)])) * double(rng.normal()));
    pca_decode(p, c.data(), out.data() + size_t(i) * p.D);
  }
  return out;
}

void pca_to_st(const Pca& p, StFile& f) {
  f.tensors.erase(std::remove_if(f.tensors.begin(), f.tensors.end(),
                                 [](const StTensor& t) { return is_pca_tensor(t.name); }),
                  f.tensors.end());
  // The metadata keys share the tensors' "pca." prefix.
  f.metadata.erase(std::remove_if(f.metadata.begin(), f.metadata.end(),
                                  [](const std::pair<std::string, std::string>& kv) { return is_pca_tensor(kv.first); }),
                   f.metadata.end());
  if (p.empty()) return;
  const DType dtype = st_file_dtype(f);
  auto add = [&f, dtype](const char* name, std::vector<int64_t> shape, std::vector<float> data) {
    StTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.data = std::move(data);
    t.dtype = dtype;
    f.tensors.push_back(std::move(t));
  };
  add(kMean, {p.D}, p.mean);
  add(kComponents, {p.K, p.D}, p.components);
  add(kVariances, {p.K}, p.variances);
  f.set_meta(kMetaSource, p.source);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", p.noise_variance);
  f.set_meta(kMetaNoise, buf);
}

Status pca_from_st(const StFile& f, int D, Pca& out) {
  const StTensor *mean = nullptr, *components = nullptr, *variances = nullptr;
  const Status picked = st_pick(f, is_pca_tensor, {{kMean, &mean}, {kComponents, &components}, {kVariances, &variances}},
                                [](const std::string& name) { return "unexpected pca tensor \"" + name + "\""; });
  if (!picked) return picked;
  const bool any_meta = std::any_of(f.metadata.begin(), f.metadata.end(),
                                    [](const std::pair<std::string, std::string>& kv) { return is_pca_tensor(kv.first); });
  if (!mean && !components && !variances) {
    if (any_meta) return Status::error("pca.* metadata without the pca tensors");
    out = Pca();
    return Status::success();
  }
  if (!mean) return Status::error(std::string(kMean) + " missing");
  if (!components) return Status::error(std::string(kComponents) + " missing");
  if (!variances) return Status::error(std::string(kVariances) + " missing");
  if (mean->shape != std::vector<int64_t>{D})
    return Status::error(std::string(kMean) + " has shape " + st_shape_str(mean->shape) + ", the model's images need " +
                         st_shape_str({D}));
  if (components->shape.size() != 2 || components->shape[1] != D || components->shape[0] < 1 ||
      components->shape[0] > D)
    return Status::error(std::string(kComponents) + " has shape " + st_shape_str(components->shape) + ", needs (K, " +
                         std::to_string(D) + ") with 1 <= K <= " + std::to_string(D));
  const int K = int(components->shape[0]);
  if (variances->shape != std::vector<int64_t>{K})
    return Status::error(std::string(kVariances) + " has shape " + st_shape_str(variances->shape) + ", " + kComponents +
                         " " + st_shape_str(components->shape) + " needs " + st_shape_str({K}));
  for (int k = 0; k < K; ++k) {
    const float v = variances->data[size_t(k)];
    if (!(v >= 0.f))
      return Status::error(std::string(kVariances) + "[" + std::to_string(k) + "] = " + num(v) + " is negative");
    if (k > 0 && v > variances->data[size_t(k - 1)])
      return Status::error(std::string(kVariances) + " are not in descending order: [" + std::to_string(k - 1) +
                           "] = " + num(variances->data[size_t(k - 1)]) + ", [" + std::to_string(k) + "] = " + num(v));
  }
  // Rows of unit length and mutually orthogonal, to within 1e-2 (an F16 file rounds each entry by ~2^-11).
  const Eigen::MatrixXd U = Eigen::Map<const RowMajorF>(components->data.data(), K, D).cast<double>();  // (K, D)
  const Eigen::MatrixXd G = U * U.transpose();                                                           // (K, K)
  for (int k = 0; k < K; ++k) {
    if (std::abs(std::sqrt(G(k, k)) - 1) > 1e-2)
      return Status::error(std::string(kComponents) + " row " + std::to_string(k) + " has length " +
                           num(std::sqrt(G(k, k))) + ", not 1");
    for (int j = 0; j < k; ++j)
      if (std::abs(G(k, j)) > 1e-2)
        return Status::error(std::string(kComponents) + " rows " + std::to_string(j) + " and " + std::to_string(k) +
                             " are not orthogonal: dot product " + num(G(k, j)));
  }
  const std::string noise = f.meta(kMetaNoise);
  if (noise.empty()) return Status::error(std::string(kMetaNoise) + " missing from __metadata__");
  char* end = nullptr;
  const double s2 = std::strtod(noise.c_str(), &end);
  if (*end != '\0' || !std::isfinite(s2) || s2 < 0)
    return Status::error(std::string(kMetaNoise) + " \"" + noise + "\" is not a number >= 0");

  Pca p;
  p.D = D;
  p.K = K;
  p.mean = mean->data;
  p.components = components->data;
  p.variances = variances->data;
  p.noise_variance = s2;
  p.source = f.meta(kMetaSource);
  out = std::move(p);
  return Status::success();
}

}  // namespace vae
