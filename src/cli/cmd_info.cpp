// `vae info`: a model's or a training checkpoint's architecture, metadata and tensors; fails if the weights, or
// any of a checkpoint's sets (train.hpp's kCheckpointSets), do not load. Reads only; writes nothing.
#include <cstdio>
#include <filesystem>

#include "common.hpp"
#include "vae/quant.hpp"
#include "vae/train.hpp"

namespace cli {

namespace {

// For a quantized model (quant.hpp): how many of its weight matrices are I8, the method and source its metadata
// names, and the file's size.
void print_quantization(const std::string& path, const vae::StFile& f, const vae::Layout& layout) {
  int weights = 0, i8 = 0;
  for (const vae::TensorSlot& slot : layout.slots) {
    if (slot.cols == 0) continue;
    ++weights;
    const vae::StTensor* t = f.find(slot.name);
    i8 += t && t->dtype == vae::DType::I8;
  }
  if (i8 == 0) return;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  const std::string method = f.meta(vae::kMetaQuantMethod, "no quant.method"), source = f.meta(vae::kMetaQuantSource);
  std::printf("quantized   %d of %d weight matrices are I8 with one scale per output row (%s%s); file %s bytes\n", i8,
              weights, method.c_str(), source.empty() ? "" : (", from " + source).c_str(),
              ec ? "?" : thousands(double(bytes)).c_str());
}

int run_info(Args& a) {
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("info", s);
  const bool checkpoint = !f.meta("checkpoint.signature").empty();
  vae::Vae m;
  s = vae::checkpoint_model_set(f, "", checkpoint, m);
  for (const char* set : vae::kCheckpointSets) {
    vae::Vae other;
    if (s && checkpoint) s = vae::checkpoint_model_set(f, set, true, other);
  }
  std::printf("file        %s\n", path.c_str());
  if (s && !m.layout.cls.empty()) {  // a label-conditioned model (cvae.hpp)
    std::string cls = std::to_string(m.arch.D);
    for (const vae::Linear& L : m.layout.cls) cls += "-" + std::to_string(L.out);
    std::printf("model       %s conditioned on %d labels (encoder q(z|x,y), decoder p(x|z,y)), classifier q(y|x) "
                "%s-%d, %s parameters\n", m.arch.describe().c_str(), m.layout.cls_out.out, cls.c_str(),
                m.layout.cls_out.out, thousands(double(vae::layout_parameter_count(m.layout))).c_str());
  } else if (s) {
    std::printf("model       %s, %s parameters\n", m.arch.describe().c_str(), thousands(double(vae::layout_parameter_count(m.layout))).c_str());
  } else {
    std::printf("model       not a loadable VAE: %s\n", s.message().c_str());
  }
  if (s) print_quantization(path, f, m.layout);
  if (s && !vae::meta_is_ours(f.metadata)) {
    // A PyTorch state dict: what the file does not say is reported absent, never filled in.
    std::printf("source      a plain state dict (no VAE Studio metadata): architecture read from the tensors' names "
                "and shapes, image %dx%d%s\n", m.arch.image_rows, m.arch.image_cols,
                f.meta("vae.image").empty() ? " (assumed square)" : " (from vae.image)");
    std::printf("absent      test figures, training command, data set, latent map, PCA\n");
  }
  if (checkpoint)
    std::printf("checkpoint  after epoch %s, step %s; with Adam's moments and the best weights (epoch %s)\n",
                f.meta("checkpoint.epoch", "?").c_str(), f.meta("checkpoint.step", "?").c_str(),
                f.meta("checkpoint.best_epoch", "?").c_str());
  std::printf("metadata\n");
  for (const auto& kv : f.metadata) std::printf("  %-24s %s\n", kv.first.c_str(), kv.second.c_str());
  std::printf("tensors\n");
  for (const vae::StTensor& t : f.tensors) {
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    std::printf("  %-24s %-4s (%s)\n", t.name.c_str(), vae::dtype_name(t.dtype), shape.c_str());
  }
  if (!s) die("info", s.with_context(path));
  return 0;
}

}  // namespace

Command command_info() {
  return {"info", "A model's or a training checkpoint's architecture, metadata and tensors; fails if it does not load.",
          {kModel}, run_info};
}

}  // namespace cli
