// `vae quantize`: a model file with its layers' weights as int8 and one scale per output row (quant.hpp), written
// to --out, rounded by GPTQ on --calibration training images (a plain model) or to nearest; then that file, as written, evaluated on the test split as `vae eval --iw K` evaluates a model
// (evaluation.hpp) and its figures written into it in place of the float model's. Prints both files' sizes and
// the quantized model's NLL beside the float file's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common.hpp"
#include "evaluation.hpp"
#include "vae/infer.hpp"
#include "vae/model_io.hpp"
#include "vae/quant.hpp"
#include "vae/train.hpp"

namespace cli {

namespace {

// How far the quantized model's pictures are from the float model's, as the studio shows them: every test image
// (grey) read to its posterior mean and decoded (a conditional model with the image's own label), each model on
// its packed path (the quantized one's int8 layers in integers). Returns the mean |difference| per pixel and sets
// worst to the largest.
double pixel_gap(const EvalModel& f, const EvalModel& q, const vae::Dataset& ds, double& worst) {
  const int D = f.arch().D, Z = f.arch().Z;
  double sum = 0;
  worst = 0;
  vae::InferScratch s;
  const vae::VaeInfer pf = f.conditional ? vae::VaeInfer() : vae::infer_make(f.plain);
  const vae::VaeInfer pq = q.conditional ? vae::VaeInfer() : vae::infer_make(q.plain);
  const vae::CvaeInfer cf = f.conditional ? vae::infer_make_conditional(f.cvae) : vae::CvaeInfer();
  const vae::CvaeInfer cq = q.conditional ? vae::infer_make_conditional(q.cvae) : vae::CvaeInfer();
  std::vector<float> mu, lv, out[2];
  for (int b0 = 0; b0 < ds.count; b0 += 500) {
    const int B = std::min(500, ds.count - b0);
    const float* x = ds.image(b0);
    std::vector<float> labels(size_t(f.conditional ? f.cvae.C : 0) * size_t(B), 0.f);
    for (int b = 0; b < B && f.conditional; ++b) labels[size_t(b) * size_t(f.cvae.C) + ds.labels[size_t(b0 + b)]] = 1.f;
    mu.resize(size_t(Z) * size_t(B));
    lv.resize(mu.size());
    for (int k = 0; k < 2; ++k) {
      out[k].resize(size_t(D) * size_t(B));
      if (f.conditional) {
        const vae::CvaeInfer& c = k ? cq : cf;
        vae::infer_encode_conditional(c, x, labels.data(), B, mu.data(), lv.data(), s);
        vae::infer_decode_conditional(c, mu.data(), labels.data(), B, out[k].data(), s);
      } else {
        const vae::VaeInfer& p = k ? pq : pf;
        vae::infer_encode(p, x, B, mu.data(), lv.data(), s);
        vae::infer_decode(p, mu.data(), B, out[k].data(), s);
      }
    }
    for (size_t i = 0; i < out[0].size(); ++i) {
      const double d = std::fabs(double(out[0][i]) - double(out[1][i]));
      sum += d;
      worst = std::max(worst, d);
    }
  }
  return sum / (double(ds.count) * D);
}

int run_quantize(Args& a) {
  a.require("model", "the float weights file to quantize");
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  EvalProtocol p;  // vae eval's defaults: the test split binarised with seed 0, the estimators' seed 1
  p.K = int(a.integer("iw", 1, 1000000));
  p.threads = int(a.integer("threads", 1, 256));
  const int n_calib = int(a.integer("calibration", 0, 60000));
  const std::string in = a.str("model");
  const std::string out = out_path("quantize", a, "out", {"model"});
  vae::StFile f;
  Status s = vae::st_load(in, f);
  if (!s) die("quantize", s);
  const EvalModel float_model = eval_model_load("quantize", in, f);
  // The data set defaults to the one the model was trained on; it is read before anything is written.
  const std::string set = a.has("data") ? a.str("data") : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("quantize", Status::error(in + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  vae::Dataset ds, train;
  if (!(s = vae::dataset_open(set, "test", a.str("data-dir"), a.str("root"), ds))) die("quantize", s);
  // The calibration images: the training split's first N, binarised with a fixed seed of their own (the model was
  // trained on binarised images); never the test images the figures come from.
  constexpr uint64_t kCalibrationSeed = 12345;
  vae::QuantCalibration calib;
  std::vector<float> calib_images;
  const bool conditional = !f.meta(vae::kMetaClasses).empty();
  if (n_calib > 0 && !conditional) {
    if (!(s = vae::dataset_open(set, "train", a.str("data-dir"), a.str("root"), train))) die("quantize", s);
    calib.dims = train.pixels();
    calib.count = std::min(n_calib, train.count);
    calib_images.resize(size_t(calib.dims) * size_t(calib.count));
    vae::binarize(train.images.data(), calib_images.size(), kCalibrationSeed, calib_images.data());
    calib.images = calib_images.data();
  }

  const std::string float_nll = f.meta("test.nll"), float_k = f.meta("test.nll_k");
  if (!(s = vae::quant_file(f, calib))) die("quantize", s.with_context(in));
  // The float model's test figures are of other weights: none is kept; the quantized model's replace them below.
  f.metadata.erase(std::remove_if(f.metadata.begin(), f.metadata.end(),
                                  [](const std::pair<std::string, std::string>& kv) { return kv.first.rfind("test.", 0) == 0; }),
                   f.metadata.end());
  f.set_meta(vae::kMetaQuantSource, in);
  if (!(s = vae::st_save(out, f))) die("quantize", s);
  std::printf("wrote %s: the layers' weights as I8 with one F32 scale per output row (the encoder's heads and the "
              "decoder's first layer stay floats), rounded by %s\n", out.c_str(), f.meta(vae::kMetaQuantRounding).c_str());

  // What is evaluated is the file as written and read back, not the tensors in memory.
  vae::StFile q;
  if (!(s = vae::st_load(out, q))) die("quantize", s);
  const EvalModel qm = eval_model_load("quantize", out, q);
  vae::Metadata figures = eval_figures("quantize", out, qm, q.metadata, ds, ds.count, p);
  double worst = 0;
  const double gap = pixel_gap(float_model, qm, ds, worst);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", gap);
  vae::meta_set(figures, "test.pixel_gap_mean", buf);
  std::snprintf(buf, sizeof buf, "%.6g", worst);
  vae::meta_set(figures, "test.pixel_gap_max", buf);
  write_figures("quantize", out, figures);

  std::error_code ec;
  const double in_bytes = double(std::filesystem::file_size(in, ec)), out_bytes = double(std::filesystem::file_size(out, ec));
  const double nll = std::strtod(vae::meta_get(figures, "test.nll").c_str(), nullptr);
  std::printf("float       %s  %s bytes", in.c_str(), thousands(in_bytes).c_str());
  if (!float_nll.empty())
    std::printf(", test NLL %s nats (K = %s)", float_nll.c_str(), float_k.empty() ? "?" : float_k.c_str());
  std::printf("\nquantized   %s  %s bytes (%.1f%% of the float file), test NLL %.3f nats (K = %d)\n", out.c_str(),
              thousands(out_bytes).c_str(), 100.0 * out_bytes / in_bytes, nll, p.K);
  std::printf("pictures    the %d test images read and decoded: %.5f mean |difference| per pixel from the float "
              "file's, at most %.4f\n", ds.count, gap, worst);
  if (!float_nll.empty())
    std::printf("difference  %+.3f nats (quantized - float)%s\n", nll - std::strtod(float_nll.c_str(), nullptr),
                float_k == std::to_string(p.K) ? "" : "; the float figure is from another K");
  return 0;
}

}  // namespace

Command command_quantize() {
  return {"quantize",
          "Int8 weights with one scale per output row, written to --out and evaluated as vae eval --iw K does.",
          {{"model", "PATH", nullptr, "float weights file to quantize (required; not changed)"},
           {"out", "PATH", nullptr, "the quantized file to write (required)"},
           {"data", "NAME", nullptr, "data set: mnist or fashion (default: the model's \"dataset\" metadata)"},
           kDataDir, kRoot,
           {"iw", "K", "1000", "importance samples for the test NLL (Burda et al. 2015)"},
           {"calibration", "N", "5000",
            "training images GPTQ rounds a plain model's weights on (0: round to nearest; a conditional model is "
            "always rounded to nearest)"},
           kThreads},
          run_quantize};
}

}  // namespace cli
