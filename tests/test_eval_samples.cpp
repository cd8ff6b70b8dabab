// The ELBO averaged over S draws of z per image (eval_elbo_samples, `vae eval --samples S`): S = 1 is the
// one-sample figure, threads do not change it, it converges to the expected ELBO computed by quadrature, and its
// standard error is the spread of the estimate over seeds.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tiny_arch.hpp"
#include "vae/model.hpp"
#include "vae/train.hpp"

using namespace vae;

namespace {

std::vector<float> grey_images(int D, int count, uint64_t seed) {
  Pcg32 rng(seed, 7);
  std::vector<float> images(size_t(D) * size_t(count));
  for (float& v : images) v = rng.uniform();
  return images;
}

// The expected ELBO per image, E_q[log p(x|z)] - KL, with the expectation over z = mu + sigma t, t ~ N(0, 1),
// by the midpoint rule on t in [-8, 8] (Z = 1 only), in double.
double expected_elbo(const Vae& m, const std::vector<float>& images, int count) {
  const int D = m.arch.D, T = 4001;
  Workspace ws;
  Eigen::Map<const Matrix> X(images.data(), D, count);
  vae_encode(m, X, ws);
  RowVec<float> kl;
  kl_forward(ws.mu, ws.logvar, kl);
  const Matrix mu = ws.mu, logvar = ws.logvar;
  double total = 0;
  for (int i = 0; i < count; ++i) {
    const double dt = 16.0 / T, sigma = std::exp(0.5 * double(logvar(0, i)));
    Matrix z(1, T);
    std::vector<double> w(T);
    for (int k = 0; k < T; ++k) {
      const double t = -8.0 + (k + 0.5) * dt;
      z(0, k) = float(double(mu(0, i)) + sigma * t);
      w[size_t(k)] = std::exp(-0.5 * t * t - kHalfLog2Pi) * dt;
    }
    vae_decode_logits(m, z, ws);
    RowVec<float> rec;
    bce_forward(ws.logits, Matrix(X.col(i).replicate(1, T)), rec);
    double e_rec = 0;
    for (int k = 0; k < T; ++k) e_rec += w[size_t(k)] * double(rec[k]);
    total += -(e_rec + double(kl[i]));
  }
  return total / count;
}

}  // namespace

TEST_CASE("the ELBO over S = 1 draws is the one-sample ELBO, with no standard error") {
  const Vae m = vae_make(tiny_arch(20, {8, 6}, 3), 4);
  const std::vector<float> images = grey_images(20, 300, 1);
  const ElboSum one = eval_elbo(m, images.data(), 300, 11, 2);
  const ElboEstimate s1 = eval_elbo_samples(m, images.data(), 300, 1, 11, 2);
  CHECK(s1.sum.count == 300);
  CHECK(s1.samples == 1);
  CHECK(s1.sum.rec == Approx(one.rec).epsilon(1e-6));
  CHECK(s1.sum.kl == Approx(one.kl).epsilon(1e-6));
  CHECK(s1.standard_error() == 0.0);
}

TEST_CASE("the ELBO over S draws does not depend on the thread count") {
  const Vae m = vae_make(tiny_arch(20, {8}, 2), 5);
  const std::vector<float> images = grey_images(20, 777, 2);  // several passes of 4096 / S images per shard
  const ElboEstimate a = eval_elbo_samples(m, images.data(), 777, 9, 3, 1);
  const ElboEstimate b = eval_elbo_samples(m, images.data(), 777, 9, 3, 2);
  CHECK(a.sum.count == 777);
  CHECK(a.sum.rec == b.sum.rec);
  CHECK(a.sum.kl == b.sum.kl);
  CHECK(a.rec_var == b.rec_var);
}

TEST_CASE("the ELBO over many draws converges to the expected ELBO by quadrature, within its standard error") {
  // A posterior wide enough that z's draws matter: random Glorot weights give logvar near 0.
  const Vae m = vae_make(tiny_arch(16, {12}, 1), 8);
  const int n = 40;
  const std::vector<float> images = grey_images(16, n, 3);
  const double exact = expected_elbo(m, images, n);
  const ElboEstimate e = eval_elbo_samples(m, images.data(), n, 2000, 5, 2);
  const double est = e.sum.elbo() / n;
  INFO("estimate " << est << " +- " << e.standard_error() << ", quadrature " << exact);
  CHECK(e.standard_error() > 0.0);
  CHECK(std::fabs(est - exact) < 4 * e.standard_error() + 1e-4);
}

TEST_CASE("the standard error is the estimate's spread over seeds and shrinks as 1 / sqrt(S)") {
  const Vae m = vae_make(tiny_arch(16, {12}, 2), 9);
  const int n = 50, seeds = 60;
  const std::vector<float> images = grey_images(16, n, 4);
  double mean = 0, sq = 0, se = 0;
  std::vector<double> est;
  for (int s = 0; s < seeds; ++s) {
    const ElboEstimate e = eval_elbo_samples(m, images.data(), n, 10, uint64_t(100 + s), 2);
    est.push_back(e.sum.elbo() / n);
    se += e.standard_error() / seeds;
  }
  for (double v : est) mean += v / seeds;
  for (double v : est) sq += (v - mean) * (v - mean);
  const double spread = std::sqrt(sq / (seeds - 1));
  INFO("spread over seeds " << spread << ", mean reported s.e. " << se);
  // With 60 seeds the sample standard deviation is within about 20% of the true one (2 sigma: 2 / sqrt(2 * 59)).
  CHECK(spread == Approx(se).epsilon(0.3));

  const double se25 = eval_elbo_samples(m, images.data(), n, 25, 7, 2).standard_error();
  const double se400 = eval_elbo_samples(m, images.data(), n, 400, 7, 2).standard_error();
  CHECK(se400 / se25 == Approx(0.25).epsilon(0.15));
}
