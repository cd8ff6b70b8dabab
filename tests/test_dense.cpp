// The inference kernel and the packed model against the plain reference paths: odd sizes that leave partial
// panels and partial image blocks, batch 1, every activation, and the whole encoder, decoder and IWAE bound.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "uniform_values.hpp"
#include "vae/dense.hpp"
#include "vae/infer.hpp"
#include "vae/model.hpp"
#include "vae/prng.hpp"
#include "vae/train.hpp"

using namespace vae;

namespace {

// Largest |a - b| / (1 + |b|).
double max_rel_diff(const float* a, const float* b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1.0 + std::abs(double(b[i]))));
  return worst;
}

Arch odd_arch(int Z) {
  Arch a;
  a.D = 35;
  a.image_rows = 5;
  a.image_cols = 7;
  a.hidden = {29, 13};
  a.Z = Z;
  return a;
}

}  // namespace

TEST_CASE("dense kernel matches the reference for odd sizes, batch 1 and partial blocks") {
  Pcg32 rng(11, 3);
  const int ins[] = {1, 3, 8, 17, 64};
  const int outs[] = {1, 2, 7, kDensePanel, kDensePanel + 1, 3 * kDensePanel - 5, 45};
  const int batches[] = {1, 2, 3, 4, 5, 6, 7, 11, 12, 13};
  const Act acts[] = {Act::Identity, Act::Relu, Act::Sigmoid};
  for (int in : ins)
    for (int out : outs) {
      const std::vector<float> W = uniform(size_t(out) * in, rng, -1, 1), b = uniform(size_t(out), rng, -1, 1);
      DensePacked L;
      dense_pack(W.data(), b.data(), out, in, L);
      for (int B : batches) {
        const std::vector<float> X = uniform(size_t(in) * B, rng, -2, 2);
        for (Act act : acts) {
          // Sentinels one past the end catch a store beyond out * B.
          std::vector<float> Y(size_t(out) * B + 1, 7.f), R(size_t(out) * B);
          dense_forward(L, X.data(), B, Y.data(), act);
          dense_forward_reference(W.data(), b.data(), out, in, X.data(), B, R.data(), act);
          INFO("in " << in << " out " << out << " B " << B << " act " << int(act));
          // float sums of `in` terms against double ones: rounding grows with the length of the sum
          CHECK(max_rel_diff(Y.data(), R.data(), R.size()) < 1e-6 + 1e-7 * in);
          CHECK(Y.back() == 7.f);
        }
      }
    }
}

TEST_CASE("inputs that are mostly zero take the sparse path and give the dense path's results") {
  // A share of zeros above and below the kernel's switch (a quarter), including all zeros and a column of zeros.
  Pcg32 rng(12, 3);
  const int ins[] = {1, 5, 17, 64};
  const int outs[] = {1, 7, kDensePanel + 1, 5 * kDensePanel - 3, 45};
  const int batches[] = {1, 3, 4, 7, 13};
  const float zero_shares[] = {0.f, 0.1f, 0.3f, 0.5f, 0.9f, 1.f};
  int sparse_runs = 0, dense_runs = 0;
  for (int in : ins)
    for (int out : outs) {
      const std::vector<float> W = uniform(size_t(out) * in, rng, -1, 1), b = uniform(size_t(out), rng, -1, 1);
      DensePacked L;
      dense_pack(W.data(), b.data(), out, in, L);
      for (int B : batches)
        for (float zeros : zero_shares) {
          std::vector<float> X = uniform(size_t(in) * B, rng, -2, 2);
          for (float& x : X) x = rng.uniform() < zeros ? 0.f : x;
          if (B > 2) std::fill(X.begin() + in, X.begin() + 2 * in, 0.f);  // image 1 blank
          std::vector<float> Y(size_t(out) * B + 1, 7.f), R(size_t(out) * B);
          const DensePath path = dense_forward(L, X.data(), B, Y.data(), Act::Relu);
          dense_forward_reference(W.data(), b.data(), out, in, X.data(), B, R.data(), Act::Relu);
          size_t nnz = 0;
          for (float x : X) nnz += x != 0.f;
          const bool sparse = B <= kDenseSparseMaxBatch && double(nnz) < kDenseSparseBelow * double(X.size());
          INFO("in " << in << " out " << out << " B " << B << " zeros " << zeros << " path " << dense_path_name(path));
          CHECK((path == DensePath::Sparse) == sparse);
          (sparse ? sparse_runs : dense_runs) += 1;
          CHECK(max_rel_diff(Y.data(), R.data(), R.size()) < 1e-6 + 1e-7 * in);
          CHECK(Y.back() == 7.f);
        }
    }
  // Both paths were exercised (on every build: the sparse path takes at least single images, the dense one at
  // least inputs with no zeros).
  CHECK(sparse_runs > 100);
  CHECK(dense_runs > 100);
}

TEST_CASE("a single mostly blank image takes the sparse path; a dense one and a big batch do not") {
  Pcg32 rng(5, 5);
  const int in = 784, out = 40;
  const std::vector<float> W = uniform(size_t(out) * in, rng, -1, 1), b = uniform(size_t(out), rng, -1, 1);
  DensePacked L;
  dense_pack(W.data(), b.data(), out, in, L);
  std::vector<float> x(in, 0.f);
  for (int k = 300; k < 400; ++k) x[size_t(k)] = 1.f;  // 13 % ink, like a drawn digit
  std::vector<float> y(out);
  CHECK(dense_forward(L, x.data(), 1, y.data(), Act::Sigmoid) == DensePath::Sparse);
  std::fill(x.begin(), x.end(), 0.5f);
  CHECK(dense_forward(L, x.data(), 1, y.data(), Act::Sigmoid) != DensePath::Sparse);
  CHECK(dense_forward(L, x.data(), 0, y.data(), Act::Sigmoid) == DensePath::None);
  // 400 blank-ish images: sparse under WASM SIMD128, the blocked loop natively (AVX-512 panels, see dense.cpp).
  std::vector<float> X(size_t(in) * 400, 0.f), Y(size_t(out) * 400);
  for (size_t i = 0; i < X.size(); i += 9) X[i] = 1.f;
  const DensePath big = dense_forward(L, X.data(), 400, Y.data(), Act::Relu);
  CHECK(big == (kDenseSparseMaxBatch >= 400 ? DensePath::Sparse : DensePath::Blocked));
}

TEST_CASE("dense sigmoid is accurate and saturates without NaN") {
  std::vector<float> x;
  for (float v = -120.f; v <= 120.f; v += 0.37f) x.push_back(v);
  x.push_back(0.f);
  x.push_back(-0.f);
  std::vector<float> y = x;
  dense_sigmoid(y.data(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = 1.0 / (1.0 + std::exp(-double(x[i])));
    INFO("x " << x[i]);
    REQUIRE(std::isfinite(y[i]));
    CHECK(std::abs(y[i] - ref) <= 1e-6 * std::max(ref, 1e-30) + 1e-30);
  }
}

TEST_CASE("packed encoder and decoder match the model's reference passes") {
  for (int Z : {1, 2, 16}) {
    const Vae m = vae_make(odd_arch(Z), uint64_t(Z));
    const VaeInfer p = infer_make(m);
    InferScratch s;
    Workspace ws;
    Pcg32 rng(5, uint64_t(Z));
    for (int B : {1, 5, 6, 7, 400}) {
      INFO("Z " << Z << " B " << B);
      const std::vector<float> x = uniform(size_t(35) * B, rng, 0, 1);
      Matrix mu(Z, B), logvar(Z, B);
      infer_encode(p, x.data(), B, mu.data(), logvar.data(), s);
      vae_encode(m, Eigen::Map<const Matrix>(x.data(), 35, B), ws);
      CHECK(max_rel_diff(mu.data(), ws.mu.data(), size_t(mu.size())) < 1e-5);
      CHECK(max_rel_diff(logvar.data(), ws.logvar.data(), size_t(logvar.size())) < 1e-5);

      const std::vector<float> z = uniform(size_t(Z) * B, rng, -3, 3);
      Matrix probs, logits(35, B), out(35, B);
      vae_decode(m, Eigen::Map<const Matrix>(z.data(), Z, B), ws, probs);
      infer_decode(p, z.data(), B, out.data(), s);
      CHECK(max_rel_diff(out.data(), probs.data(), size_t(probs.size())) < 1e-5);
      infer_decode(p, z.data(), B, logits.data(), s, true);
      CHECK(max_rel_diff(logits.data(), ws.logits.data(), size_t(logits.size())) < 1e-5);
    }
  }
}

TEST_CASE("a scratch reserved for B codes decodes any batch up to B without growing") {
  const Vae m = vae_make(odd_arch(2), 3);
  for (InferWeights weights : {InferWeights::Float, InferWeights::Int8}) {  // the int8 kernel's lists too
    const VaeInfer p = infer_make(m, weights);
    InferScratch s;
    infer_reserve_decode(p, 60, s);
    const DenseScratch& d = s.dense;
    const size_t a = s.a.capacity(), b = s.b.capacity(), idx = d.idx.capacity(), val = d.val.capacity();
    const size_t qx = d.qx.capacity(), qval = d.qval.capacity(), qscale = d.qscale.capacity();
    const size_t count = d.count.capacity(), qhalf = d.qhalf.capacity(), start = d.start.capacity();
    Pcg32 rng(9, 1);
    for (int B : {60, 1, 7, 20, 59, 3}) {  // slices of a 60-cell grid, in any order
      const std::vector<float> z = uniform(size_t(2) * B, rng, -3, 3);
      std::vector<float> out(size_t(35) * B);
      infer_decode(p, z.data(), B, out.data(), s);
    }
    INFO("int8 layers " << p.int8_layers());
    CHECK(s.a.capacity() == a);
    CHECK(s.b.capacity() == b);
    CHECK(d.idx.capacity() == idx);
    CHECK(d.val.capacity() == val);
    CHECK(d.qx.capacity() == qx);
    CHECK(d.qval.capacity() == qval);
    CHECK(d.qscale.capacity() == qscale);
    CHECK(d.count.capacity() == count);
    CHECK(d.qhalf.capacity() == qhalf);
    CHECK(d.start.capacity() == start);
  }
}

TEST_CASE("packed IWAE bound matches the reference one") {
  const Vae m = vae_make(odd_arch(2), 9);
  const VaeInfer p = infer_make(m);
  Pcg32 rng(8, 8);
  std::vector<float> x(35 * 3);
  for (float& v : x) v = rng.uniform() < 0.3f ? 1.f : 0.f;
  const Eigen::Map<const Matrix> X(x.data(), 35, 3);
  Workspace ws;
  InferScratch s;
  std::vector<double> ref, got;
  vae_iwae(m, X, 600, 4, 10, ws, ref);
  infer_iwae(p, X, 600, 4, 10, s, got);
  REQUIRE(got.size() == 3);
  for (int b = 0; b < 3; ++b) CHECK(got[size_t(b)] == Approx(ref[size_t(b)]).margin(1e-3));
}

TEST_CASE("FLOP counts come from the packed layers: 2 in out per layer, by hand for the shipped architecture") {
  Arch a;  // 784-512-256-[2]-256-512-784
  const VaeInfer p = infer_make(vae_make(a, 1));
  CHECK(infer_encode_flops(p) == 2.0 * (784 * 512 + 512 * 256 + 256 * 2 * 2));  // mu and logvar: 2Z outputs
  CHECK(infer_decode_flops(p) == 2.0 * (2 * 256 + 256 * 512 + 512 * 784));
  // Training: forward 2 in out, backward 2 in out for dW and (except the first layer) 2 in out for dX.
  const Layout lay = layout_make(a);
  const double first = 784.0 * 512, rest = 512.0 * 256 + 2 * 256.0 * 2 + 2 * 256.0 + 256.0 * 512 + 512.0 * 784;
  CHECK(train_flops_per_image(lay) == 4 * first + 6 * rest);
}
