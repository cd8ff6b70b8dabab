// The model: ops against hand-computed values, every parameter tensor's gradient against central differences,
// batching, and the importance-weighted bound against log p(x) integrated numerically.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grad_check.hpp"
#include "tiny_arch.hpp"
#include "vae/model.hpp"
#include "vae/train.hpp"

using namespace vae;

namespace {

// Loss as vae_backward defines it: scale * sum_b (rec_b + beta * kl_b), in double precision.
double loss_of(const VaeT<double>& m, const Mat<double>& X, const Mat<double>& eps, double beta, double scale) {
  WorkspaceT<double> ws;
  vae_forward(m, X, eps, ws);
  return scale * (ws.rec.sum() + beta * ws.kl.sum());
}

}  // namespace

TEST_CASE("closed-form KL matches a hand computation") {
  Matrix mu(2, 1), logvar(2, 1);
  mu << 1.f, 0.f;
  logvar << 0.f, std::log(4.f);
  Eigen::RowVectorXf kl;
  kl_forward(mu, logvar, kl);
  // 1/2 (1 + 1 - 1 - 0) + 1/2 (0 + 4 - 1 - ln 4)
  CHECK(kl[0] == Approx(0.5 + 0.5 * (3.0 - std::log(4.0))).epsilon(1e-6));
}

TEST_CASE("Bernoulli reconstruction term from logits matches -log p by hand, for binary and grey targets") {
  Matrix logits(3, 1), x(3, 1);
  logits << 0.f, 2.f, -3.f;
  x << 1.f, 0.f, 0.25f;
  Eigen::RowVectorXf rec;
  bce_forward(logits, x, rec);
  auto sp = [](double l) { return std::log1p(std::exp(l)); };
  const double expected = (sp(0) - 0) + (sp(2) - 0) + (sp(-3) - 0.25 * -3);
  CHECK(rec[0] == Approx(expected).epsilon(1e-6));
  // Large logits do not overflow.
  logits << 100.f, -100.f, 0.f;
  x << 1.f, 0.f, 0.f;
  bce_forward(logits, x, rec);
  CHECK(rec[0] == Approx(std::log(2.0)).epsilon(1e-5));
}

TEST_CASE("linear layer computes W x + b with W stored row-major (out, in)") {
  Arch a = tiny_arch(3, {2}, 1);
  Vae m = vae_make(a, 1);
  const Linear& L = m.layout.enc[0];
  // W = [[1 2 3], [4 5 6]] in row-major order, b = [0.5, -1].
  const float w[] = {1, 2, 3, 4, 5, 6};
  std::copy(w, w + 6, m.params.begin() + std::ptrdiff_t(L.w));
  m.params[L.b] = 0.5f;
  m.params[L.b + 1] = -1.f;
  Matrix x(3, 2), y;
  x << 1, 0, 1, 1, 1, 2;  // columns (1, 1, 1) and (0, 1, 2)
  linear_forward(m.params.data(), L, x, y);
  CHECK(y(0, 0) == Approx(6.5));
  CHECK(y(1, 0) == Approx(14));
  CHECK(y(0, 1) == Approx(8.5));
  CHECK(y(1, 1) == Approx(16));
}

TEST_CASE("the reparameterisation uses sigma = exp(logvar / 2): z and its gradients by hand") {
  Matrix mu(2, 2), logvar(2, 2), eps(2, 2), z;
  mu << 1.f, 0.f, -2.f, 3.f;
  logvar << 0.f, std::log(0.25f), std::log(4.f), 0.f;  // sigma 1, 0.5 / 2, 1
  eps << 0.5f, 2.f, -1.f, 0.f;
  reparam_forward(mu, logvar, eps, z);
  CHECK(z(0, 0) == Approx(1.5));       // 1 + 1 * 0.5
  CHECK(z(0, 1) == Approx(1.0));       // 0 + 0.5 * 2
  CHECK(z(1, 0) == Approx(-4.0));      // -2 + 2 * -1
  CHECK(z(1, 1) == Approx(3.0));       // 3 + 1 * 0
  Matrix dz(2, 2), dmu = Matrix::Constant(2, 2, 10.f), dlogvar = Matrix::Constant(2, 2, 10.f);
  dz << 1.f, 4.f, 3.f, -2.f;
  reparam_backward(logvar, eps, dz, dmu, dlogvar);
  // dmu += dz; dlogvar += dz * eps * sigma / 2 (dz/dlogvar = eps * d exp(logvar / 2) / dlogvar).
  CHECK(dmu(0, 0) == Approx(11));
  CHECK(dmu(1, 1) == Approx(8));
  CHECK(dlogvar(0, 0) == Approx(10 + 1 * 0.5 * 1 / 2.0));
  CHECK(dlogvar(0, 1) == Approx(10 + 4 * 2 * 0.5 / 2.0));
  CHECK(dlogvar(1, 0) == Approx(10 + 3 * -1 * 2 / 2.0));
  CHECK(dlogvar(1, 1) == Approx(10));
}

TEST_CASE("ReLU, the BCE and KL gradients and the linear layer's backward match hand-computed values") {
  Matrix y(2, 2);
  y << -1.f, 2.f, 0.f, 0.5f;
  relu_forward(y);
  CHECK(y(0, 0) == 0.f);
  CHECK(y(0, 1) == 2.f);
  CHECK(y(1, 0) == 0.f);
  CHECK(y(1, 1) == 0.5f);
  Matrix dy = Matrix::Constant(2, 2, 3.f);
  relu_backward(y, dy);  // passes only where the output is positive
  CHECK(dy(0, 0) == 0.f);
  CHECK(dy(0, 1) == 3.f);
  CHECK(dy(1, 0) == 0.f);
  CHECK(dy(1, 1) == 3.f);

  Matrix logits(2, 1), x(2, 1), dl;
  logits << 0.f, std::log(3.f);  // sigmoid 1/2 and 3/4
  x << 1.f, 0.25f;
  bce_backward(logits, x, 2.f, dl);
  CHECK(dl(0, 0) == Approx(2 * (0.5 - 1)));
  CHECK(dl(1, 0) == Approx(2 * (0.75 - 0.25)));

  Matrix mu(2, 1), logvar(2, 1), dmu = Matrix::Zero(2, 1), dlv = Matrix::Zero(2, 1);
  mu << 1.5f, -2.f;
  logvar << std::log(3.f), 0.f;
  kl_backward(mu, logvar, 0.5f, dmu, dlv);
  CHECK(dmu(0, 0) == Approx(0.75));             // 0.5 * mu
  CHECK(dmu(1, 0) == Approx(-1.0));
  CHECK(dlv(0, 0) == Approx(0.5 * (3 - 1) / 2.0));  // 0.5 * (sigma^2 - 1) / 2
  CHECK(dlv(1, 0) == Approx(0.0).margin(1e-7));

  // Y = W X + b with W = [[1 2 3], [4 5 6]]: dW = dY X^T, db = row sums of dY, dX = W^T dY.
  Vae m = vae_make(tiny_arch(3, {2}, 1), 1);
  const Linear& L = m.layout.enc[0];
  const float w[] = {1, 2, 3, 4, 5, 6};
  std::copy(w, w + 6, m.params.begin() + std::ptrdiff_t(L.w));
  Matrix X(3, 2), dY(2, 2), dX;
  X << 1, 0, 1, 1, 1, 2;
  dY << 1, 2, -1, 0.5f;
  Buffer<float> grads(m.layout.total, 0.f);
  linear_backward(m.params.data(), L, X, dY, grads.data(), &dX);
  const float* dW = grads.data() + L.w;
  // dW row 0 = 1 * (1, 1, 1) + 2 * (0, 1, 2) = (1, 3, 5); row 1 = -1 * (1, 1, 1) + 0.5 * (0, 1, 2) = (-1, -0.5, 0)
  const float want_dW[] = {1, 3, 5, -1, -0.5f, 0};
  for (int i = 0; i < 6; ++i) CHECK(dW[i] == Approx(want_dW[i]).margin(1e-6));
  CHECK(grads[L.b] == Approx(3));
  CHECK(grads[L.b + 1] == Approx(-0.5));
  // dX column 0 = W^T (1, -1) = (-3, -3, -3); column 1 = W^T (2, 0.5) = (4, 6.5, 9)
  CHECK(dX(0, 0) == Approx(-3));
  CHECK(dX(2, 0) == Approx(-3));
  CHECK(dX(0, 1) == Approx(4));
  CHECK(dX(1, 1) == Approx(6.5));
  CHECK(dX(2, 1) == Approx(9));
}

TEST_CASE("layout names every tensor PyTorch-style with (out, in) shapes") {
  Layout lay = layout_make(tiny_arch(784, {512, 256}, 2));
  std::vector<std::string> names;
  for (const auto& s : lay.slots) names.push_back(s.name + "(" + std::to_string(s.rows) + "," + std::to_string(s.cols) + ")");
  CHECK(names == std::vector<std::string>{
                     "encoder.fc1.weight(512,784)", "encoder.fc1.bias(512,0)", "encoder.fc2.weight(256,512)",
                     "encoder.fc2.bias(256,0)", "encoder.mu.weight(2,256)", "encoder.mu.bias(2,0)",
                     "encoder.logvar.weight(2,256)", "encoder.logvar.bias(2,0)", "decoder.fc1.weight(256,2)",
                     "decoder.fc1.bias(256,0)", "decoder.fc2.weight(512,256)", "decoder.fc2.bias(512,0)",
                     "decoder.out.weight(784,512)", "decoder.out.bias(784,0)"});
  size_t elements = 0;
  for (const auto& s : lay.slots) {
    CHECK(s.offset % kTensorAlign == 0);  // every tensor starts 64-byte aligned
    elements += s.size();
  }
  CHECK(elements == size_t(784 * 512 + 512 + 512 * 256 + 256 + 2 * (256 * 2 + 2) + 2 * 256 + 256 + 256 * 512 + 512 +
                           512 * 784 + 784));
  CHECK(layout_parameter_count(lay) == elements);
  CHECK(lay.total < elements + kTensorAlign * lay.slots.size());
}

TEST_CASE("every parameter tensor's gradient matches central differences in double precision") {
  const int D = 10, Z = 3, B = 4;
  VaeT<double> m = vae_make<double>(tiny_arch(D, {7, 5}, Z), 3);
  Pcg32 rng(11, 1);
  for (double& p : m.params) p += 0.1 * rng.normal();  // non-zero biases too
  Mat<double> X(D, B), eps(Z, B);
  // Binary and grey targets both occur.
  for (int i = 0; i < X.size(); ++i) X.data()[i] = i % 3 == 0 ? rng.uniform() : (rng.uniform() < 0.4f ? 1.0 : 0.0);
  for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
  const double beta = 0.7, scale = 0.25;

  Buffer<double> grads(m.layout.total, 0.0);
  WorkspaceT<double> ws;
  vae_forward(m, X, eps, ws);
  vae_backward(m, X, beta, scale, ws, grads.data());

  for (const TensorSlot& slot : m.layout.slots) {
    INFO("tensor " << slot.name);
    CHECK(grad_check_worst(m.params, slot, grads, [&] { return loss_of(m, X, eps, beta, scale); }) < 1e-6);
  }
  double norm = 0;
  for (double g : grads) norm += g * g;
  CHECK(norm > 1e-4);  // the check is not of an all-zero gradient
}

TEST_CASE("the float model computes what the double model computes, to float precision") {
  const Arch a = tiny_arch(10, {7, 5}, 3);
  Vae mf = vae_make<float>(a, 3);
  VaeT<double> md = vae_make<double>(a, 3);
  Pcg32 rng(12, 1);
  Matrix X(10, 4), eps(3, 4);
  for (int i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform();
  for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
  Workspace wf;
  WorkspaceT<double> wd;
  const ElboSum sf = vae_forward(mf, X, eps, wf);
  const ElboSum sd = vae_forward(md, Mat<double>(X.cast<double>()), Mat<double>(eps.cast<double>()), wd);
  CHECK(sf.rec == Approx(sd.rec).epsilon(1e-5));
  CHECK(sf.kl == Approx(sd.kl).epsilon(1e-5));
}

TEST_CASE("a batch is one pass and gives the same codes and images as one image at a time") {
  Vae m = vae_make(tiny_arch(12, {8}, 2), 5);
  Pcg32 rng(2, 2);
  Matrix X(12, 5);
  for (int i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform();
  Workspace ws, ws1;
  vae_encode(m, X, ws);
  Matrix probs, probs1;
  vae_decode(m, ws.mu, ws, probs);
  for (int b = 0; b < 5; ++b) {
    vae_encode(m, X.col(b), ws1);
    CHECK((ws1.mu - ws.mu.col(b)).norm() < 1e-5);
    CHECK((ws1.logvar - ws.logvar.col(b)).norm() < 1e-5);
    vae_decode(m, ws1.mu, ws1, probs1);
    CHECK((probs1 - probs.col(b)).norm() < 1e-5);
  }
}

TEST_CASE("the importance-weighted bound approaches log p(x) integrated numerically, and rises with K") {
  // With a 1-D latent, log p(x) = log integral p(x|z) N(z; 0, 1) dz can be computed by quadrature.
  const int D = 6;
  Vae m = vae_make(tiny_arch(D, {8}, 1), 9);
  Pcg32 rng(4, 4);
  for (float& p : m.params) p += 0.3f * rng.normal();
  Matrix X(D, 3);
  for (int i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform() < 0.5f ? 1.f : 0.f;

  Workspace ws;
  std::vector<double> exact(3);
  const int steps = 20001;
  const double lo = -10, hi = 10, dz = (hi - lo) / (steps - 1);
  Matrix zs(1, steps);
  for (int i = 0; i < steps; ++i) zs(0, i) = float(lo + i * dz);
  vae_decode_logits(m, zs, ws);
  for (int b = 0; b < 3; ++b) {
    double sum = 0;
    for (int i = 0; i < steps; ++i) {
      double log_px_z = 0;
      for (int d = 0; d < D; ++d) {
        const double l = ws.logits(d, i);
        log_px_z += X(d, b) * l - (std::max(l, 0.0) + std::log1p(std::exp(-std::fabs(l))));
      }
      const double z = zs(0, i);
      sum += std::exp(log_px_z - 0.5 * z * z - kHalfLog2Pi) * dz;
    }
    exact[size_t(b)] = std::log(sum);
  }

  std::vector<double> k1, k10, k5000;
  vae_iwae(m, X, 5000, 1, 0, ws, k5000);
  for (int b = 0; b < 3; ++b) {
    INFO("image " << b << ": IWAE " << k5000[size_t(b)] << ", quadrature " << exact[size_t(b)]);
    CHECK(k5000[size_t(b)] == Approx(exact[size_t(b)]).margin(0.02));
  }

  // Averaged over many seeds, the K = 1 bound <= K = 10 bound <= log p(x) (Burda et al. 2015, Theorem 1).
  double mean1 = 0, mean10 = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    vae_iwae(m, X, 1, s, 0, ws, k1);
    vae_iwae(m, X, 10, s, 0, ws, k10);
    mean1 += k1[0] / 200;
    mean10 += k10[0] / 200;
  }
  CHECK(mean1 < mean10);
  CHECK(mean10 < exact[0] + 0.01);
}

TEST_CASE("the one-sample ELBO's mean over many draws is the quadrature of E_q[log p(x|z)] minus the KL") {
  // A 1-D latent, as in the test above: E_q[log p(x|z)] = integral N(z; mu, sigma^2) log p(x|z) dz by quadrature,
  // with sigma = exp(logvar / 2) computed here, and the closed-form KL by hand. The posterior is made narrow
  // (logvar near -2.8, sigma near 1/4) so that a sampler with the wrong spread gives a different mean.
  const int D = 6, N = 40000;
  Vae m = vae_make(tiny_arch(D, {8}, 1), 9);
  Pcg32 rng(4, 4);
  for (float& p : m.params) p += 0.3f * rng.normal();
  m.params[m.layout.enc_logvar.b] -= 2.8f;
  Matrix x(D, 1);
  for (int d = 0; d < D; ++d) x(d, 0) = rng.uniform() < 0.5f ? 1.f : 0.f;

  Workspace ws;
  vae_encode(m, x, ws);
  const double mu = ws.mu(0, 0), logvar = ws.logvar(0, 0), sigma = std::exp(0.5 * logvar);
  const double kl = 0.5 * (mu * mu + sigma * sigma - 1 - logvar);
  const int steps = 4001;
  Matrix zs(1, steps);
  for (int i = 0; i < steps; ++i) zs(0, i) = float(mu + sigma * (-8.0 + 16.0 * i / (steps - 1)));
  vae_decode_logits(m, zs, ws);
  double expected_log_px_z = 0;
  for (int i = 0; i < steps; ++i) {
    double log_px_z = 0;
    for (int d = 0; d < D; ++d) {
      const double l = ws.logits(d, i);
      log_px_z += x(d, 0) * l - (std::max(l, 0.0) + std::log1p(std::exp(-std::fabs(l))));
    }
    const double u = -8.0 + 16.0 * i / (steps - 1);
    expected_log_px_z += log_px_z * std::exp(-0.5 * u * u - kHalfLog2Pi) * (16.0 / (steps - 1));
  }
  const double expected_elbo = expected_log_px_z - kl;

  Matrix X = x.replicate(1, N), eps(1, N);
  for (int i = 0; i < N; ++i) eps(0, i) = rng.normal();
  vae_forward(m, X, eps, ws);
  double mean = 0, sq = 0;
  for (int i = 0; i < N; ++i) mean += -(ws.rec[i] + ws.kl[i]) / N;
  for (int i = 0; i < N; ++i) sq += std::pow(-(ws.rec[i] + ws.kl[i]) - mean, 2);
  const double se = std::sqrt(sq / (N - 1) / N);
  INFO("Monte Carlo " << mean << " +- " << se << ", quadrature " << expected_elbo << ", sigma " << sigma);
  CHECK(ws.kl[0] == Approx(kl).epsilon(1e-5));
  CHECK(std::fabs(mean - expected_elbo) < 4 * se + 1e-4);
}

TEST_CASE("the one-sample ELBO over a set does not depend on batching or threads") {
  Vae m = vae_make(tiny_arch(12, {8}, 2), 5);
  Pcg32 rng(2, 3);
  std::vector<float> images(12 * 300);
  for (float& v : images) v = rng.uniform() < 0.3f ? 1.f : 0.f;
  const ElboSum one = eval_elbo(m, images.data(), 300, 17, 1);
  const ElboSum two = eval_elbo(m, images.data(), 300, 17, 2);
  CHECK(one.count == 300);
  CHECK(one.rec == Approx(two.rec).epsilon(1e-9));
  CHECK(one.kl == Approx(two.kl).epsilon(1e-9));
}
