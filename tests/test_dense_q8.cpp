// The int8 kernel (dense.hpp) against the float reference run with its own dequantized weights: every output
// within the bound the input steps give, for odd sizes, partial panels and image blocks, batches 1..13 and inputs
// from 0 to 100 % zeros; the sums exact at the largest values the cap allows.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "uniform_values.hpp"
#include "vae/dense.hpp"
#include "vae/prng.hpp"
#include "vae/quant.hpp"

using namespace vae;

namespace {

// The largest amount by which output o of image b may differ from the float layer with the dequantized weights
// Wd: each input moves by at most half its image's step sx, so the sum by sum_k |Wd[o][k]| sx / 2; the store adds
// float rounding of the sum's size (the int32 sum to float, the product of the scales, the bias). ReLU and the
// sigmoid move no output by more than its argument moved.
double step_bound(const std::vector<float>& Wd, const float* b, int in, const float* x, float sx, int o) {
  double abs_w = 0, size = std::abs(double(b[o]));
  for (int k = 0; k < in; ++k) {
    abs_w += std::abs(double(Wd[size_t(o) * in + size_t(k)]));
    size += std::abs(double(Wd[size_t(o) * in + size_t(k)]) * x[k]);
  }
  return abs_w * double(sx) / 2 + 4e-7 * size + 1e-6;
}

struct Case {
  DenseQ8 L;
  std::vector<float> W, Wd, b;
};

Case make_case(int out, int in, Pcg32& rng) {
  Case c;
  c.W = uniform(size_t(out) * in, rng, -1, 1);
  c.b = uniform(size_t(out), rng, -1, 1);
  dense_pack_q8(c.W.data(), nullptr, c.b.data(), out, in, c.L);
  c.Wd.resize(c.W.size());
  dense_q8_dequantize(c.L, c.Wd.data());
  return c;
}

}  // namespace

TEST_CASE("int8 kernel: the cap keeps every int32 sum exact") {
  CHECK(dense_q8_input_cap(1) == 32767);
  CHECK(dense_q8_input_cap(516) == 32767);
  CHECK(dense_q8_input_cap(784) == 21568);
  CHECK(dense_q8_input_cap(4097) == 4127);
  for (int in : {1, 784, 785, 4097})
    CHECK(double(dense_q8_input_cap(in)) * 127 * in <= double(std::numeric_limits<int32_t>::max()));
  // The worst case: every weight at +-127 steps and every input at +-cap, all products of one sign.
  for (int in : {2, 515, 516, 517, 784, 4097}) {
    for (float sign : {1.f, -1.f}) {
      const int out = kDensePanel + 3;
      std::vector<float> W(size_t(out) * in, 1.f), b(size_t(out), 0.f), x(size_t(in), sign * 0.5f);
      DenseQ8 L;
      dense_pack_q8(W.data(), nullptr, b.data(), out, in, L);
      std::vector<float> y(static_cast<size_t>(out));
      dense_forward_q8(L, x.data(), 1, y.data(), Act::Identity);
      INFO("in " << in << " sign " << sign);
      for (float v : y) CHECK(v == Approx(sign * 0.5 * in).epsilon(1e-6));
    }
  }
}

TEST_CASE("int8 kernel: packing with a file's scales gives its whole numbers back") {
  Pcg32 rng(21, 1);
  const int out = 2 * kDensePanel + 5, in = 37;
  std::vector<float> W = uniform(size_t(out) * in, rng, -3, 3), q(W.size()), scale(static_cast<size_t>(out)), b(static_cast<size_t>(out), 0.f);
  for (int o = 0; o < out; ++o) scale[size_t(o)] = quant_row(W.data() + size_t(o) * in, in, q.data() + size_t(o) * in);
  std::vector<float> Wd(W.size()), back(W.size());
  for (size_t i = 0; i < W.size(); ++i) Wd[i] = q[i] * scale[i / size_t(in)];  // as the loader dequantizes
  DenseQ8 L;
  dense_pack_q8(Wd.data(), scale.data(), b.data(), out, in, L);
  dense_q8_dequantize(L, back.data());
  CHECK(back == Wd);
  for (int o = 0; o < out; ++o) CHECK(L.scale[size_t(o)] == scale[size_t(o)]);
}

TEST_CASE("int8 kernel matches the float reference within the step bound: odd sizes, batches 1..13, zeros") {
  Pcg32 rng(22, 7);
  const int ins[] = {1, 2, 3, 8, 17, 64, 133};
  const int outs[] = {1, 2, 7, kDensePanel, kDensePanel + 1, 3 * kDensePanel - 5, 45};
  const float zero_shares[] = {0.f, 0.1f, 0.25f, 0.5f, 0.75f, 0.9f, 1.f};
  const Act acts[] = {Act::Identity, Act::Relu, Act::Sigmoid};
  int sparse = 0, dense = 0, checked = 0;
  double worst_share = 0;  // the largest error seen, as a share of its bound
  DenseScratch scratch;
  for (int in : ins)
    for (int out : outs) {
      const Case c = make_case(out, in, rng);
      for (int B = 1; B <= 13; ++B)
        for (float zeros : zero_shares) {
          std::vector<float> X = uniform(size_t(in) * B, rng, -2, 2);
          for (float& x : X) x = rng.uniform() < zeros ? 0.f : x;
          if (B > 2) std::fill(X.begin() + in, X.begin() + 2 * in, 0.f);  // image 1 blank
          std::vector<int32_t> pairs(size_t((in + 1) / 2) * B);
          std::vector<float> sx(static_cast<size_t>(B));
          dense_q8_quantize_input(X.data(), in, B, pairs.data(), sx.data());
          const Act act = acts[size_t(B + in) % 3];
          std::vector<float> Y(size_t(out) * B + 1, 7.f), R(size_t(out) * B), F(size_t(out) * B);
          const DensePath path = dense_forward_q8(c.L, X.data(), B, Y.data(), act, B % 2 ? &scratch : nullptr);
          (path == DensePath::Sparse ? sparse : dense) += 1;
          dense_forward_reference(c.Wd.data(), c.b.data(), out, in, X.data(), B, R.data(), act);
          dense_forward_reference(c.W.data(), c.b.data(), out, in, X.data(), B, F.data(), act);
          INFO("in " << in << " out " << out << " B " << B << " zeros " << zeros << " path " << dense_path_name(path));
          CHECK(Y.back() == 7.f);
          for (int b = 0; b < B; ++b)
            for (int o = 0; o < out; ++o) {
              const float* x = X.data() + size_t(b) * in;
              const double bound = step_bound(c.Wd, c.b.data(), in, x, sx[size_t(b)], o);
              const double err = std::abs(double(Y[size_t(b) * out + size_t(o)]) - R[size_t(b) * out + size_t(o)]);
              worst_share = std::max(worst_share, err / bound);
              if (!(err <= bound)) FAIL_CHECK("image " << b << " output " << o << " off by " << err << " > " << bound);
              // Against the unquantized weights, each weight's own half step (scale / 2) adds scale / 2 * ||x||_1.
              double l1 = 0;
              for (int k = 0; k < in; ++k) l1 += std::abs(double(x[k]));
              const double wbound = bound + double(c.L.scale[size_t(o)]) / 2 * l1 * 1.000001;
              if (!(std::abs(double(Y[size_t(b) * out + size_t(o)]) - F[size_t(b) * out + size_t(o)]) <= wbound))
                FAIL_CHECK("image " << b << " output " << o << " off the float weights by more than " << wbound);
              ++checked;
            }
        }
    }
  CHECK(sparse > 100);
  CHECK(dense > 100);
  CHECK(checked > 100000);
  // The bound is not slack enough to hide a wrong kernel: some errors come within a tenth of it.
  CHECK(worst_share > 0.1);
}

TEST_CASE("int8 kernel: a blank image gives the bias, a NaN gives NaN, big batches take the blocked loop") {
  Pcg32 rng(23, 1);
  const int in = 784, out = 40;
  const Case c = make_case(out, in, rng);
  std::vector<float> x(static_cast<size_t>(in), 0.f), y(static_cast<size_t>(out));
  CHECK(dense_forward_q8(c.L, x.data(), 1, y.data(), Act::Identity) == DensePath::Sparse);
  for (int o = 0; o < out; ++o) CHECK(y[size_t(o)] == c.b[size_t(o)]);
  for (int k = 300; k < 400; ++k) x[size_t(k)] = 1.f;  // 13 % ink, like a drawn digit
  CHECK(dense_forward_q8(c.L, x.data(), 1, y.data(), Act::Sigmoid) == DensePath::Sparse);
  x[350] = std::numeric_limits<float>::quiet_NaN();
  dense_forward_q8(c.L, x.data(), 1, y.data(), Act::Identity);
  for (float v : y) CHECK(std::isnan(v));
  x[350] = std::numeric_limits<float>::infinity();
  dense_forward_q8(c.L, x.data(), 1, y.data(), Act::Identity);
  for (float v : y) CHECK(std::isnan(v));
  std::vector<float> X(size_t(in) * 400, 0.5f), Y(size_t(out) * 400);
  CHECK(dense_forward_q8(c.L, X.data(), 400, Y.data(), Act::Relu) == DensePath::Blocked);
  CHECK(dense_forward_q8(c.L, X.data(), 0, Y.data(), Act::Relu) == DensePath::None);
}

TEST_CASE("int8 kernel: the sparse path's sums are the exact integer sums, half-empty pairs merged or not") {
  // Each input pair is made blank, even-only, odd-only or whole with chosen odds, so images have as many merges as
  // leftovers of either parity (all even halves, all odd ones, a mix). The exact sum of q * xq in 64 bits, scaled
  // by the store's steps, is what every output must be, to float rounding: a wrong merge or a lost step would move
  // it by a whole weight times an input.
  Pcg32 rng(24, 3);
  const double odds[][3] = {{0.5, 0.5, 0.7}, {0.3, 0.0, 0.8}, {0.0, 0.3, 0.8}, {0.1, 0.3, 0.9}, {0.2, 0.2, 0.3}};
  int sparse = 0, merges = 0;
  DenseScratch scratch;
  for (int in : {1, 2, 3, 9, 64, 255, 784})
    for (int out : {1, kDensePanel + 3, 45}) {
      const Case c = make_case(out, in, rng);
      const int np = (in + 1) / 2;
      for (const auto& odd : odds)
        for (int B : {1, 2, 5}) {
          // odd[0]: an even-only pair, odd[1]: odd-only (the rest whole), among the nonzero ones (odd[2] of them)
          std::vector<float> X = uniform(size_t(in) * B, rng, -2, 2);
          for (int b = 0; b < B; ++b)
            for (int j = 0; j < np; ++j) {
              float* x = X.data() + size_t(b) * in + 2 * j;
              const double kind = rng.uniform();
              const bool blank = rng.uniform() >= odd[2], even_only = kind < odd[0],
                         odd_only = !even_only && kind < odd[0] + odd[1];
              if (blank || odd_only) x[0] = 0.f;
              if (2 * j + 1 < in && (blank || even_only)) x[1] = 0.f;
            }
          std::vector<int32_t> pairs(size_t(np) * B);
          std::vector<float> sx(static_cast<size_t>(B)), Y(size_t(out) * B);
          dense_q8_quantize_input(X.data(), in, B, pairs.data(), sx.data());
          const DensePath path = dense_forward_q8(c.L, X.data(), B, Y.data(), Act::Identity, &scratch);
          if (path != DensePath::Sparse) continue;
          ++sparse;
          for (int b = 0; b < B; ++b) {
            int even_only = 0, odd_only = 0;
            for (int j = 0; j < np; ++j) {
              const int32_t v = pairs[size_t(b) * np + size_t(j)];
              even_only += int16_t(v & 0xffff) != 0 && (v >> 16) == 0;
              odd_only += int16_t(v & 0xffff) == 0 && (v >> 16) != 0;
            }
            merges += std::min(even_only, odd_only);
            for (int o = 0; o < out; ++o) {
              long long sum = 0;
              for (int k = 0; k < in; ++k) {
                const int32_t v = pairs[size_t(b) * np + size_t(k / 2)];
                const int xq = k % 2 ? int16_t(uint32_t(v) >> 16) : int16_t(v & 0xffff);
                const long long q = std::llround(c.Wd[size_t(o) * in + size_t(k)] / c.L.scale[size_t(o)]);
                sum += q * xq;
              }
              const double want = double(sum) * c.L.scale[size_t(o)] * sx[size_t(b)] + c.b[size_t(o)];
              const double got = Y[size_t(b) * out + size_t(o)];
              INFO("in " << in << " out " << out << " B " << B << " image " << b << " output " << o);
              if (!(std::abs(got - want) <= 1e-6 * (std::abs(double(sum) * c.L.scale[size_t(o)] * sx[size_t(b)]) +
                                                   std::abs(c.b[size_t(o)])) + 1e-6))
                FAIL_CHECK("got " << got << ", the exact sum gives " << want);
            }
          }
        }
    }
  CHECK(sparse > 100);
  CHECK(merges > 1000);
}

TEST_CASE("int8 kernel: the sparse switch counts nonzero inputs one by one, not pairs") {
  Pcg32 rng(25, 5);
  const int in = 400, out = kDensePanel + 1;
  const Case c = make_case(out, in, rng);
  std::vector<float> y(static_cast<size_t>(out));
  // Nonzero inputs in whole pairs, just under and just over the switch: counted in pairs they would be half as
  // many, and both would take the sparse path.
  for (double share : {0.9 * kDenseInt8SparseBelow, std::min(1.0, 1.1 * kDenseInt8SparseBelow)}) {
    std::vector<float> x(static_cast<size_t>(in), 0.f);
    for (int k = 0; k < int(share * in) / 2 * 2; ++k) x[size_t(k)] = 0.25f + float(k % 7);
    const DensePath path = dense_forward_q8(c.L, x.data(), 1, y.data(), Act::Relu);
    INFO("nonzero share " << share << " path " << dense_path_name(path));
    CHECK((path == DensePath::Sparse) == (share < kDenseInt8SparseBelow));
  }
}
