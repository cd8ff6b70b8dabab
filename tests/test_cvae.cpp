// The label-conditioned VAE (src/vae/cvae.*): the softmax cross-entropy against a hand computation, every tensor's
// gradient (the classifier's too) against central differences, the plain model it is for one label, and its file.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grad_check.hpp"
#include "tiny_arch.hpp"
#include "vae/cvae.hpp"
#include "vae/model_io.hpp"
#include "vae/safetensors.hpp"

using namespace vae;

namespace {

double cvae_loss(const CvaeT<double>& m, const Mat<double>& X, const std::vector<int>& y, const Mat<double>& eps,
                 double beta, double alpha, double scale) {
  CvaeWorkspaceT<double> ws;
  cvae_forward(m, X, y, eps, ws);
  return scale * (ws.vae.rec.sum() + beta * ws.vae.kl.sum() + alpha * ws.ce.sum());
}

}  // namespace

TEST_CASE("the classifier's cross-entropy and its gradient match a hand computation") {
  Mat<double> logits(3, 2);
  logits << 1.0, 0.0,
            2.0, 0.0,
            3.0, 0.0;
  const std::vector<int> y = {2, 0};
  Mat<double> logq, d;
  RowVec<double> ce;
  softmax_ce_forward(logits, y, logq, ce);
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(ce[0] == Approx(lse - 3.0));
  CHECK(ce[1] == Approx(std::log(3.0)));
  softmax_ce_backward(logq, y, 0.5, d);
  CHECK(d(0, 0) == Approx(0.5 * std::exp(1.0 - lse)));
  CHECK(d(2, 0) == Approx(0.5 * (std::exp(3.0 - lse) - 1.0)));
  CHECK(d(0, 1) == Approx(0.5 * (1.0 / 3 - 1.0)));
  CHECK(d(1, 1) == Approx(0.5 / 3));
}

TEST_CASE("every tensor of the conditional model, its classifier's too, matches central differences") {
  const int D = 9, Z = 2, C = 3, B = 5;
  for (const std::vector<int>& cls_hidden : {std::vector<int>{6}, std::vector<int>{}}) {
    CvaeT<double> m = cvae_make<double>(tiny_arch(D, {7, 5}, Z), C, cls_hidden, 4);
    Pcg32 rng(12, 1);
    for (double& p : m.net.params) p += 0.1 * rng.normal();
    Mat<double> X(D, B), eps(Z, B);
    for (int i = 0; i < X.size(); ++i) X.data()[i] = i % 3 == 0 ? rng.uniform() : (rng.uniform() < 0.4f ? 1.0 : 0.0);
    for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
    const std::vector<int> y = {0, 2, 1, 2, 0};
    const double beta = 0.7, alpha = 1.3, scale = 0.25;

    Buffer<double> grads(m.net.layout.total, 0.0);
    CvaeWorkspaceT<double> ws;
    cvae_forward(m, X, y, eps, ws);
    cvae_backward(m, X, y, beta, alpha, scale, ws, grads.data());
    CHECK(m.net.layout.slots.size() == 14 + 2 * (cls_hidden.size() + 1));
    for (const TensorSlot& slot : m.net.layout.slots) {
      INFO("tensor " << slot.name << " (" << slot.rows << " x " << slot.cols << ")");
      CHECK(grad_check_worst(m.net.params, slot, grads, [&] { return cvae_loss(m, X, y, eps, beta, alpha, scale); }) < 1e-6);
    }
  }
}

TEST_CASE("the conditional model with a fixed label is a plain VAE: the same code, reconstruction and ELBO") {
  const int D = 9, Z = 2, C = 4, B = 3;
  CvaeT<double> m = cvae_make<double>(tiny_arch(D, {6}, Z), C, {5}, 8);
  Pcg32 rng(2, 1);
  for (double& p : m.net.params) p += 0.1 * rng.normal();
  Mat<double> X(D, B), eps(Z, B);
  for (int i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform();
  for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
  for (int label = 0; label < C; ++label) {
    INFO("label " << label);
    const VaeT<double> plain = cvae_for_label(m, label);
    CHECK(plain.layout.slots.size() == 10);
    CvaeWorkspaceT<double> cws;
    WorkspaceT<double> ws;
    const CvaeSum c = cvae_forward(m, X, std::vector<int>(B, label), eps, cws);
    const ElboSum p = vae_forward(plain, X, eps, ws);
    CHECK((ws.mu - cws.vae.mu).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((ws.logits - cws.vae.logits).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(p.elbo() == Approx(c.elbo.elbo()).epsilon(1e-12));
  }
}

TEST_CASE("a conditional model's file round-trips, and each loader refuses the other kind with one clear line") {
  CvaeT<float> m = cvae_make<float>(tiny_arch(9, {6}, 2), 4, {5}, 3);
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(cvae_to_st(m, {{"dataset", "mnist"}}), DType::F32, bytes).ok());
  StFile f;
  REQUIRE(st_parse(bytes.data(), bytes.size(), f).ok());
  CHECK(f.meta(kMetaClasses) == "4");
  CHECK(f.meta(kMetaClassifierHidden) == "5");
  CHECK(f.find("encoder.fc1.weight")->shape == std::vector<int64_t>{6, 13});  // (H, D + C)
  CHECK(f.find("classifier.out.weight")->shape == std::vector<int64_t>{4, 5});
  Cvae back;
  REQUIRE(cvae_from_st(f, back).ok());
  CHECK(back.C == 4);
  CHECK(back.classifier_hidden == std::vector<int>{5});
  CHECK(back.net.params == m.net.params);

  Vae plain;
  const Status refused = model_from_st(f, plain);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.message() == "a label-conditioned model (it has a classifier q(y|x)): this needs a plain VAE");
  REQUIRE(st_parse(bytes.data(), bytes.size(), f).ok());
  meta_set(f.metadata, kMetaClasses, "one");
  CHECK(cvae_from_st(f, back).message() == "metadata vae.classes \"one\" is not 2..1000");

  const StFile plain_file = model_to_st(vae_make(tiny_arch(9, {6}, 2), 1), {});
  CHECK(cvae_from_st(plain_file, back).message() == "not a label-conditioned model: no vae.classes in its metadata");
}
