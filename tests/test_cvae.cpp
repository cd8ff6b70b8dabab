// The label-conditioned VAE (src/vae/cvae.*): the softmax cross-entropy against a hand computation, every tensor's
// gradient (the classifier's too) against central differences, the plain model it is for one label, and its file.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grad_check.hpp"
#include "tiny_arch.hpp"
#include "vae/cvae.hpp"
#include "vae/infer.hpp"
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

TEST_CASE("the packed conditional model gives the reference's class probabilities, codes, images and analogies") {
  const int D = 9, Z = 2, C = 4, B = 3;
  CvaeT<float> m = cvae_make<float>(tiny_arch(D, {6}, Z), C, {5}, 8);
  Pcg32 rng(4, 1);
  for (float& p : m.net.params) p += 0.2f * float(rng.normal());
  Matrix X(D, B);
  for (int i = 0; i < X.size(); ++i) X.data()[i] = float(rng.uniform());
  const std::vector<int> y = {0, 2, 3};
  const CvaeInfer packed = infer_make_conditional(m);
  InferScratch s;

  // q(y|x): the softmax of the reference classifier's logits.
  CvaeWorkspaceT<float> cws;
  cvae_classify(m, X, cws);
  Matrix probs(C, B);
  infer_classify(packed, X.data(), B, probs.data(), s);
  for (int b = 0; b < B; ++b) {
    const Eigen::VectorXf ref = (cws.cls_logits.col(b).array() - cws.cls_logits.col(b).maxCoeff()).exp();
    CHECK((probs.col(b) - ref / ref.sum()).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK(probs.col(b).sum() == Approx(1).epsilon(1e-5));
  }

  // Codes read with each image's label: the plain model for that label encodes the same.
  std::vector<float> Y(size_t(C) * B, 0.f);
  for (int b = 0; b < B; ++b) Y[size_t(b) * C + size_t(y[size_t(b)])] = 1.f;
  Matrix mu(Z, B), logvar(Z, B);
  infer_encode_conditional(packed, X.data(), Y.data(), B, mu.data(), logvar.data(), s);
  Workspace ws;
  for (int b = 0; b < B; ++b) {
    vae_encode(cvae_for_label(m, y[size_t(b)]), Matrix(X.col(b)), ws);
    CHECK((mu.col(b) - ws.mu.col(0)).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK((logvar.col(b) - ws.logvar.col(0)).cwiseAbs().maxCoeff() < 1e-5f);
  }

  // A label mix decodes as the network reading [z; mix]: 0.3 of label 1 and 0.7 of label 2.
  std::vector<float> mix(size_t(C) * B, 0.f);
  for (int b = 0; b < B; ++b) mix[size_t(b) * C + 1] = 0.3f, mix[size_t(b) * C + 2] = 0.7f;
  Matrix out(D, B);
  infer_decode_conditional(packed, mu.data(), mix.data(), B, out.data(), s);
  Matrix zin(Z + C, B);  // [z; mix], filled element by element (GCC 12 warns on Eigen's vector load of the 48 bytes)
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < Z + C; ++r) zin(r, b) = r < Z ? mu(r, b) : mix[size_t(b) * C + size_t(r - Z)];
  vae_decode(m.net, zin, ws, probs);
  CHECK((out - probs).cwiseAbs().maxCoeff() < 1e-5f);

  // Analogies: image b's code read with y[b], drawn by the plain model of each label t.
  std::vector<float> drawn(size_t(B) * C * D);
  infer_analogies(packed, X.data(), y.data(), B, drawn.data(), s);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < C; ++t) {
      INFO("image " << b << " as label " << t);
      vae_decode(cvae_for_label(m, t), Matrix(mu.col(b)), ws, probs);
      const Eigen::Map<const Eigen::VectorXf> got(drawn.data() + (size_t(b) * C + size_t(t)) * D, D);
      CHECK((got - probs.col(0)).cwiseAbs().maxCoeff() < 1e-5f);
    }
}
