// Int8 weights with one scale per output row (src/vae/quant.*): the quantizer's scales and its bound |W - q s| <=
// s / 2, what it keeps bit for bit, a quantized model's decoded images against the float model's within the bound
// that follows from it, a conditional model's classifier, and the loaders' checks on scales built in memory (the
// malformed files are in hostile_files.hpp's table).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tiny_arch.hpp"
#include "vae/cvae.hpp"
#include "vae/infer.hpp"
#include "vae/latent_map.hpp"
#include "vae/model_io.hpp"
#include "vae/quant.hpp"
#include "vae/safetensors.hpp"

using namespace vae;

namespace {

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

// A random model whose hidden units are not all dead: Glorot weights, biases and a few larger weights (the
// outliers that set a row's scale) drawn at random.
Vae random_model(const Arch& a, uint64_t seed) {
  Vae m = vae_make(a, seed);
  Pcg32 rng(seed, 7);
  for (const TensorSlot& slot : m.layout.slots)
    for (size_t i = 0; i < slot.size(); ++i) {
      float& p = m.params[slot.offset + i];
      if (slot.cols == 0) p = 0.2f * rng.normal();
      else if (rng.uniform() < 0.02f) p *= 8.f;
    }
  return m;
}

// The file as written (each tensor in its dtype) and read back.
StFile reread(const StFile& f) {
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, bytes).ok());
  StFile g;
  REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
  return g;
}

}  // namespace

TEST_CASE("quantizing: each weight row's scale is max |W| / 127, q = round(W / s) in [-127, 127], |W - q s| <= s / 2") {
  // The bottleneck (the encoder's heads, the decoder's first layer) stays as it was; the other weights are I8.
  const Vae m = random_model(tiny_arch(12, {10, 6}, 3), 5);
  StFile f = reread(model_to_st(m, {{"dataset", "mnist"}}));
  REQUIRE(quant_file(f).ok());
  const StFile g = reread(f);
  CHECK(g.meta(kMetaQuantMethod) == kQuantMethod);
  Vae loaded;
  REQUIRE(model_from_st(g, loaded).ok());
  int weights = 0;
  for (const TensorSlot& slot : m.layout.slots) {
    INFO(slot.name);
    const StTensor* t = g.find(slot.name);
    REQUIRE(t);
    if (slot.cols == 0) {  // a bias: as it was, bit for bit
      CHECK(t->dtype == DType::F32);
      CHECK(g.find(quant_scale_name(slot.name)) == nullptr);
      for (int r = 0; r < slot.rows; ++r) CHECK(bits(loaded.params[slot.offset + r]) == bits(m.params[slot.offset + r]));
      continue;
    }
    const bool bottleneck = slot.name == "encoder.mu.weight" || slot.name == "encoder.logvar.weight" ||
                            slot.name == "decoder.fc1.weight";
    const Linear L{slot.cols, slot.rows, slot.offset, 0};
    CHECK(quant_layer_is_int8(m.layout, L) == !bottleneck);
    CHECK(loaded.row_scales.count(slot.name) == size_t(!bottleneck));
    if (bottleneck) {
      CHECK(t->dtype == DType::F32);
      CHECK(g.find(quant_scale_name(slot.name)) == nullptr);
      for (size_t i = 0; i < slot.size(); ++i) CHECK(bits(loaded.params[slot.offset + i]) == bits(m.params[slot.offset + i]));
      continue;
    }
    ++weights;
    CHECK(t->dtype == DType::I8);
    const StTensor* s = g.find(quant_scale_name(slot.name));
    REQUIRE(s);
    CHECK(s->dtype == DType::F32);
    REQUIRE(s->shape == std::vector<int64_t>{slot.rows});
    for (int r = 0; r < slot.rows; ++r) {
      const float* w = m.params.data() + slot.offset + size_t(r) * slot.cols;
      const float* q = t->data.data() + size_t(r) * slot.cols;
      const float* back = loaded.params.data() + slot.offset + size_t(r) * slot.cols;
      const double scale = s->data[size_t(r)];
      double amax = 0, qmax = 0;
      for (int c = 0; c < slot.cols; ++c) {
        amax = std::max(amax, std::fabs(double(w[c])));
        qmax = std::max(qmax, std::fabs(double(q[c])));
        CHECK(q[c] == std::round(q[c]));
        CHECK(std::fabs(q[c]) <= 127.f);
        CHECK(std::fabs(double(w[c]) - double(q[c]) * scale) <= scale / 2);  // the bound, exactly
        CHECK(back[c] == q[c] * s->data[size_t(r)]);                         // the loader's product, in float
      }
      CHECK(scale == Approx(amax / 127).epsilon(1e-6));
      CHECK(scale * 127 >= amax);
      CHECK(qmax == 127.0);  // the row's largest weight uses the whole range
      CHECK(loaded.row_scales[slot.name][size_t(r)] == s->data[size_t(r)]);
    }
  }
  CHECK(weights == 4);
}

TEST_CASE("quantizing keeps everything but the weights bit for bit: biases, map.*, pca.*, metadata, dtypes") {
  const Vae m = random_model(tiny_arch(12, {10}, 2), 9);
  StFile f = model_to_st(m, {{"dataset", "mnist"}, {"test.nll", "99.5"}});
  LatentMap map;
  const std::vector<float> means = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f};
  const std::vector<uint8_t> labels = {1, 2, 3};
  REQUIRE(latent_map_from_means(means.data(), labels.data(), 3, 2, "test", map).ok());
  latent_map_to_st(map, f);
  f.tensors.push_back({"pca.mean", {12}, std::vector<float>(12, 0.25f)});
  for (StTensor& t : f.tensors) t.dtype = DType::F16;
  const StFile before = reread(f);  // every value an F16 one
  StFile after = before;
  REQUIRE(quant_file(after).ok());
  const StFile g = reread(after);
  for (const StTensor& t : before.tensors) {
    INFO(t.name);
    const StTensor* r = g.find(t.name);
    REQUIRE(r);
    CHECK(r->shape == t.shape);
    if (g.find(quant_scale_name(t.name))) {  // a layer's weight
      CHECK(r->dtype == DType::I8);
      continue;
    }
    CHECK(r->dtype == t.dtype);
    REQUIRE(r->data.size() == t.data.size());
    for (size_t i = 0; i < t.data.size(); ++i) CHECK(bits(r->data[i]) == bits(t.data[i]));
  }
  CHECK(g.tensors.size() == before.tensors.size() + 2);  // a scale beside each of the 2 int8 weights (of 5)
  Metadata want = before.metadata;
  want.emplace_back(kMetaQuantMethod, kQuantMethod);
  want.emplace_back(kMetaQuantRounding, "round to nearest");
  CHECK(g.metadata == want);
  CHECK(st_file_dtype(g) == DType::F16);  // what a map or PCA added to the quantized file is written in
  LatentMap back;
  CHECK(latent_map_from_st(g, 2, back).ok());
}

TEST_CASE("a row of zeros is quantized with scale 1 and q = 0, and a quantized file is not quantized again") {
  Vae m = random_model(tiny_arch(6, {4}, 2), 2);
  const TensorSlot& fc1 = m.layout.slots[0];
  REQUIRE(fc1.name == "encoder.fc1.weight");
  std::fill_n(m.params.begin() + std::ptrdiff_t(fc1.offset + 2 * fc1.cols), fc1.cols, 0.f);  // row 2
  // A row of tiny weights: max |W| / 127 would round below the weights' own subnormal range.
  std::fill_n(m.params.begin() + std::ptrdiff_t(fc1.offset), fc1.cols, std::numeric_limits<float>::denorm_min());
  StFile f = model_to_st(m, {});
  REQUIRE(quant_file(f).ok());
  const StTensor* s = f.find("encoder.fc1.weight_scale");
  REQUIRE(s);
  CHECK(s->data[2] == 1.f);
  CHECK(s->data[0] == std::numeric_limits<float>::denorm_min());
  for (int c = 0; c < fc1.cols; ++c) {
    CHECK(f.find("encoder.fc1.weight")->data[size_t(2 * fc1.cols + c)] == 0.f);
    CHECK(f.find("encoder.fc1.weight")->data[size_t(c)] == 1.f);
  }
  Vae loaded;
  REQUIRE(model_from_st(reread(f), loaded).ok());
  for (int c = 0; c < fc1.cols; ++c) CHECK(loaded.params[fc1.offset + 2 * fc1.cols + c] == 0.f);

  StFile again = f;
  CHECK(quant_file(again).message() == "already quantized (tensor \"encoder.fc1.weight\" is I8)");
  StFile broken = model_to_st(m, {});
  broken.tensors.pop_back();
  CHECK(quant_file(broken).message().find("missing for architecture") != std::string::npos);
}

TEST_CASE("a quantized model decodes every pixel within the bound its scales give of the float model's") {
  // The bound, layer by layer through the decoder, for one code z (h_0 = z exact): with the float model's input
  // h to a layer, its quantized weights W' and the bound e (max norm) on the error of that input,
  //   |a'_r - a_r| <= sum_c |W'_rc| |h'_c - h_c| + sum_c |W'_rc - W_rc| |h_c| <= ||W'_r||_1 e + (s_r / 2) ||h||_1,
  // ReLU does not enlarge it, and the output sigmoid (slope at most 1/4) gives |p'_d - p_d| <= b_d / 4.
  const Arch arch = tiny_arch(30, {24, 16}, 3);
  const Vae m = random_model(arch, 13);
  StFile f = model_to_st(m, {});
  REQUIRE(quant_file(f).ok());
  const StFile g = reread(f);
  Vae q;
  REQUIRE(model_from_st(g, q).ok());
  auto scale = [&g](const Layout& lay, const Linear& L) {
    for (const TensorSlot& slot : lay.slots)
      if (slot.offset == L.w && g.find(quant_scale_name(slot.name))) return g.find(quant_scale_name(slot.name))->data;
    return std::vector<float>(size_t(L.out), 0.f);  // a float layer: no error of its own
  };

  const int N = 40;
  Pcg32 rng(3, 1);
  Matrix Z(arch.Z, N);
  for (int i = 0; i < Z.size(); ++i) Z.data()[i] = 2.f * rng.normal();
  Workspace ws_f, ws_q;
  Matrix pf, pq;
  vae_decode(m, Z, ws_f, pf);
  vae_decode(q, Z, ws_q, pq);

  std::vector<Linear> layers = m.layout.dec;
  layers.push_back(m.layout.dec_out);
  double worst_ratio = 0, largest = 0;
  for (int j = 0; j < N; ++j) {
    std::vector<double> h(Z.col(j).data(), Z.col(j).data() + arch.Z);
    double e = 0;
    std::vector<double> b;
    for (size_t l = 0; l < layers.size(); ++l) {
      const Linear& L = layers[l];
      const std::vector<float> s = scale(m.layout, L);
      REQUIRE(s.size() == size_t(L.out));
      double h1 = 0;
      for (double v : h) h1 += std::fabs(v);
      std::vector<double> a(size_t(L.out));
      b.assign(size_t(L.out), 0.0);
      for (int r = 0; r < L.out; ++r) {
        double w1 = 0, acc = m.params[L.b + r];
        for (int c = 0; c < L.in; ++c) {
          w1 += std::fabs(double(q.params[L.w + size_t(r) * L.in + c]));
          acc += double(m.params[L.w + size_t(r) * L.in + c]) * h[size_t(c)];
        }
        b[size_t(r)] = w1 * e + 0.5 * s[size_t(r)] * h1;
        a[size_t(r)] = l + 1 < layers.size() ? std::max(0.0, acc) : acc;
      }
      e = *std::max_element(b.begin(), b.end());
      h = a;
    }
    for (int d = 0; d < arch.D; ++d) {
      const double diff = std::fabs(double(pq(d, j)) - double(pf(d, j)));
      const double bound = b[size_t(d)] / 4 + 1e-6;  // + float rounding in the two forward passes
      CHECK(diff <= bound);
      worst_ratio = std::max(worst_ratio, diff / bound);
      largest = std::max(largest, diff);
    }
  }
  CHECK(largest > 0);       // the quantized model does differ,
  CHECK(worst_ratio > 0.01);  // and the bound is not vacuous
  INFO("largest pixel difference " << largest << ", at most " << worst_ratio << " of its bound");
  CHECK(largest < 0.1);
}

TEST_CASE("a label-conditioned model is quantized with its classifier's weights and loads as one") {
  const Cvae c = cvae_make(tiny_arch(9, {7}, 2), 3, {5}, 4);
  StFile f = cvae_to_st(c, {{"dataset", "mnist"}});
  REQUIRE(quant_file(f).ok());
  const StFile g = reread(f);
  Cvae back;
  REQUIRE(cvae_from_st(g, back).ok());
  CHECK(back.C == 3);
  for (const char* name : {"classifier.fc1.weight", "classifier.out.weight", "encoder.fc1.weight", "decoder.out.weight"}) {
    INFO(name);
    REQUIRE(g.find(name));
    CHECK(g.find(name)->dtype == DType::I8);
    CHECK(g.find(quant_scale_name(name)));
  }
  for (const char* name : {"classifier.fc1.bias", "classifier.out.bias"}) CHECK(g.find(name)->dtype == DType::F32);
  Vae plain;
  CHECK(model_from_st(g, plain).message().find("label-conditioned") != std::string::npos);
}

TEST_CASE("scales that are NaN or infinite in memory are refused, naming the tensor, as a zero one is") {
  StFile f = model_to_st(random_model(tiny_arch(6, {4}, 2), 1), {});
  REQUIRE(quant_file(f).ok());
  for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), 0.f, -1.f}) {
    StFile g = f;
    for (StTensor& t : g.tensors)
      if (t.name == "decoder.out.weight_scale") t.data[1] = bad;
    Vae m;
    const Status s = model_from_st(g, m);
    CHECK_THAT(s.message(), Catch::StartsWith("tensor \"decoder.out.weight_scale\": the scale of row 1 is ") &&
                                Catch::EndsWith("; a scale must be positive and finite"));
  }
}

namespace {

// The squared error of the decoded Bernoulli means against the float model's, summed over images X (D, n) read
// through each model's own encoder means.
double reconstruction_gap(const Vae& f, const Vae& q, const Matrix& X) {
  Workspace wf, wq;
  Matrix pf, pq;
  vae_encode(f, X, wf);
  vae_decode(f, wf.mu, wf, pf);
  vae_encode(q, X, wq);
  vae_decode(q, wq.mu, wq, pq);
  return (pf - pq).squaredNorm();
}

}  // namespace

TEST_CASE("GPTQ on calibration images: the same scale rule, q in range, and closer to the float model than rounding") {
  const Arch arch = tiny_arch(40, {32, 24}, 2);
  const Vae m = random_model(arch, 31);
  Pcg32 rng(4, 4);
  Matrix calib(arch.D, 300), test(arch.D, 200);
  for (int i = 0; i < calib.size(); ++i) calib.data()[i] = rng.uniform() < 0.3f ? 1.f : 0.f;
  for (int i = 0; i < test.size(); ++i) test.data()[i] = rng.uniform() < 0.3f ? 1.f : 0.f;
  const StFile original = reread(model_to_st(m, {{"dataset", "mnist"}}));
  StFile rounded = original, gptq = original;
  REQUIRE(quant_file(rounded).ok());
  REQUIRE(quant_file(gptq, {calib.data(), arch.D, int(calib.cols())}).ok());
  CHECK(rounded.meta(kMetaQuantRounding) == "round to nearest");
  CHECK(gptq.meta(kMetaQuantRounding) == "gptq, cross-layer equalisation (300 calibration images)");
  Vae r, g;
  const StFile written = reread(gptq);
  REQUIRE(model_from_st(reread(rounded), r).ok());
  REQUIRE(model_from_st(written, g).ok());
  REQUIRE(g.row_scales.size() == 4);  // encoder.fc1, encoder.fc2, decoder.fc2, decoder.out
  for (const auto& [name, scales] : g.row_scales) {
    INFO(name);
    const StTensor* q = written.find(name);
    REQUIRE(q);
    CHECK(q->dtype == DType::I8);
    const int cols = int(q->shape[1]);
    for (size_t row = 0; row < scales.size(); ++row) {
      double qmax = 0;
      for (int c = 0; c < cols; ++c) {
        const float v = q->data[row * size_t(cols) + size_t(c)];
        CHECK(v == std::round(v));
        qmax = std::max(qmax, std::fabs(double(v)));
      }
      CHECK(qmax <= 127);
      CHECK(scales[row] > 0.f);
    }
  }
  // Equalisation changes weights and biases of the float layers too, and keeps the function: without rounding
  // (every layer float) the equalised model is the float model.
  const double gap_rounded = reconstruction_gap(m, r, test), gap_gptq = reconstruction_gap(m, g, test);
  INFO("squared gap to the float model on held-out images: rounded " << gap_rounded << ", GPTQ " << gap_gptq);
  CHECK(gap_gptq < 0.8 * gap_rounded);
  // A conditional model is rounded to nearest whatever the calibration; images of another size are refused.
  StFile c = cvae_to_st(cvae_make(tiny_arch(9, {7}, 2), 3, {5}, 4), {{"dataset", "mnist"}});
  REQUIRE(quant_file(c, {calib.data(), arch.D, int(calib.cols())}).ok());
  CHECK(c.meta(kMetaQuantRounding) == "round to nearest");
  StFile wrong = original;
  CHECK(quant_file(wrong, {calib.data(), 39, 10}).message() == "calibration images have 39 pixels, the model takes 40");
}

TEST_CASE("a quantized model's packed passes run its int8 layers in integers, within the steps' bound of its reference") {
  const Arch arch = tiny_arch(40, {32, 24}, 2);
  StFile f = model_to_st(random_model(arch, 32), {});
  REQUIRE(quant_file(f).ok());
  Vae q;
  REQUIRE(model_from_st(reread(f), q).ok());
  const VaeInfer as_stored = infer_make(q), as_float = infer_make(q, InferWeights::Float);
  CHECK(as_stored.int8_layers() == 4);
  CHECK(as_float.int8_layers() == 0);
  CHECK(infer_make(random_model(arch, 32), InferWeights::Int8).int8_layers() == 4);
  Pcg32 rng(6, 6);
  const int B = 9;
  Matrix z(arch.Z, B), x(arch.D, B);
  for (int i = 0; i < z.size(); ++i) z.data()[i] = 2.f * rng.normal();
  for (int i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform();
  Workspace ws;
  Matrix ref;
  vae_decode(q, z, ws, ref);
  InferScratch s;
  Matrix int8(arch.D, B), flt(arch.D, B);
  infer_decode(as_stored, z.data(), B, int8.data(), s);
  infer_decode(as_float, z.data(), B, flt.data(), s);
  CHECK((flt - ref).cwiseAbs().maxCoeff() < 1e-5);
  // The integer path moves each pre-activation by at most ||W||_1 sx / 2 per layer, one part in 20,000 of the
  // largest input; through two layers and the sigmoid that is far below 1e-3 here.
  const double diff = (int8 - ref).cwiseAbs().maxCoeff();
  CHECK(diff > 0);
  CHECK(diff < 1e-3);
  Matrix mu(arch.Z, B), lv(arch.Z, B);
  infer_encode(as_stored, x.data(), B, mu.data(), lv.data(), s);
  vae_encode(q, x, ws);
  CHECK((mu - ws.mu).cwiseAbs().maxCoeff() < 1e-3);
  CHECK((lv - ws.logvar).cwiseAbs().maxCoeff() < 1e-3);
}
