// `vae quantize`: a model file with every layer's weight as int8 and one scale per output row (quant.hpp), written
// to --out; then that file, as written, evaluated on the test split as `vae eval --iw K` evaluates a model
// (evaluation.hpp) and its figures written into it in place of the float model's. Prints both files' sizes and
// the quantized model's NLL beside the float file's.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common.hpp"
#include "evaluation.hpp"
#include "vae/quant.hpp"

namespace cli {

namespace {

int run_quantize(Args& a) {
  a.require("model", "the float weights file to quantize");
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  EvalProtocol p;  // vae eval's defaults: the test split binarised with seed 0, the estimators' seed 1
  p.K = int(a.integer("iw", 1, 1000000));
  p.threads = int(a.integer("threads", 1, 256));
  const std::string in = a.str("model");
  const std::string out = out_path("quantize", a, "out", {"model"});
  vae::StFile f;
  Status s = vae::st_load(in, f);
  if (!s) die("quantize", s);
  eval_model_load("quantize", in, f);
  // The data set defaults to the one the model was trained on; it is read before anything is written.
  const std::string set = a.has("data") ? a.str("data") : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("quantize", Status::error(in + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  vae::Dataset ds;
  if (!(s = vae::dataset_open(set, "test", a.str("data-dir"), a.str("root"), ds))) die("quantize", s);

  const std::string float_nll = f.meta("test.nll"), float_k = f.meta("test.nll_k");
  if (!(s = vae::quant_file(f))) die("quantize", s.with_context(in));
  // The float model's test figures are of other weights: none is kept; the quantized model's replace them below.
  f.metadata.erase(std::remove_if(f.metadata.begin(), f.metadata.end(),
                                  [](const std::pair<std::string, std::string>& kv) { return kv.first.rfind("test.", 0) == 0; }),
                   f.metadata.end());
  f.set_meta(vae::kMetaQuantSource, in);
  if (!(s = vae::st_save(out, f))) die("quantize", s);
  std::printf("wrote %s: every layer's weight as I8 with one F32 scale per output row, the rest as it was\n",
              out.c_str());

  // What is evaluated is the file as written and read back, not the tensors in memory.
  vae::StFile q;
  if (!(s = vae::st_load(out, q))) die("quantize", s);
  const EvalModel qm = eval_model_load("quantize", out, q);
  const vae::Metadata figures = eval_figures("quantize", out, qm, q.metadata, ds, ds.count, p);
  write_figures("quantize", out, figures);

  std::error_code ec;
  const double in_bytes = double(std::filesystem::file_size(in, ec)), out_bytes = double(std::filesystem::file_size(out, ec));
  const double nll = std::strtod(vae::meta_get(figures, "test.nll").c_str(), nullptr);
  std::printf("float       %s  %s bytes", in.c_str(), thousands(in_bytes).c_str());
  if (!float_nll.empty())
    std::printf(", test NLL %s nats (K = %s)", float_nll.c_str(), float_k.empty() ? "?" : float_k.c_str());
  std::printf("\nquantized   %s  %s bytes (%.1f%% of the float file), test NLL %.3f nats (K = %d)\n", out.c_str(),
              thousands(out_bytes).c_str(), 100.0 * out_bytes / in_bytes, nll, p.K);
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
           kThreads},
          run_quantize};
}

}  // namespace cli
