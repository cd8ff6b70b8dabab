// The training loop, its checkpoints, and evaluation over data sets.
// Determinism: every random draw comes from a Pcg32 stream named by (seed, purpose, epoch or step or image), and
// every batch is split into kShards fixed shards whose gradients are summed in a fixed order, so a seed gives
// bit-identical weights whatever the thread count, and a resumed run replays exactly what the original would have.
#include "vae/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>

#include "vae/fpmode.hpp"
#include "vae/infer.hpp"
#include "vae/parallel.hpp"

namespace vae {

namespace {

constexpr int kShards = 2;  // the Adam pass below sums exactly two shards' gradients
// Stream identifiers, so that no two purposes ever share a stream.
constexpr uint64_t kStreamShuffle = 0x5f1e, kStreamBatch = 0xba7c, kStreamVal = 0x7a1, kStreamEval = 0xe7a1;

// Adam (Kingma & Ba 2014) with the usual constants.
constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;

// Adam's step over n parameters whose gradient is g0 + g1 (the two shards' sums); returns false if some
// gradient is NaN or Inf. The buffers never overlap (restrict) and the scalars are values, so the loop
// vectorises, division and square root included; the arithmetic is the same, element by element.
bool adam_update(const float* __restrict g0, const float* __restrict g1, float* __restrict p, float* __restrict m1,
                 float* __restrict m2, size_t n, float lr, float bc1, float bc2) {
  // Non-finite means an all-ones exponent. OR-ing a flag instead of summing floats keeps the loop free of a
  // float reduction, which the compiler may not reorder.
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float g = g0[i] + g1[i];
    uint32_t bits;
    std::memcpy(&bits, &g, sizeof bits);
    bad |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
    m1[i] = kAdamBeta1 * m1[i] + (1.f - kAdamBeta1) * g;
    m2[i] = kAdamBeta2 * m2[i] + (1.f - kAdamBeta2) * g * g;
    p[i] -= lr * (m1[i] / bc1) / (std::sqrt(m2[i] / bc2) + kAdamEps);
  }
  return bad == 0;
}

std::string fmt_double(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// Cosine decay from lr to lr_final over the run; step is 1-based.
float lr_at(const TrainConfig& c, long step, long total) {
  const double progress = total > 1 ? double(step - 1) / double(total - 1) : 1.0;
  return float(c.lr_final + 0.5 * (c.lr - c.lr_final) * (1.0 + std::cos(3.14159265358979323846 * progress)));
}

float beta_at(const TrainConfig& c, long step, long steps_per_epoch) {
  if (c.warmup_epochs <= 0) return 1.f;
  const double warm = double(c.warmup_epochs) * double(steps_per_epoch);
  return float(std::min(1.0, double(step) / warm));
}

// The parameter-shaped buffers of a checkpoint, under a name prefix ("" for the weights).
Status read_slots(const StFile& f, const Layout& lay, const std::string& prefix, Buffer<float>& dst) {
  dst.assign(lay.total, 0.f);
  for (const TensorSlot& slot : lay.slots) {
    const StTensor* t = f.find(prefix + slot.name);
    if (!t || t->data.size() != slot.size())
      return Status::error("checkpoint tensor \"" + prefix + slot.name + "\" missing or of the wrong size");
    std::copy(t->data.begin(), t->data.end(), dst.begin() + std::ptrdiff_t(slot.offset));
  }
  return Status::success();
}

void add_slots(StFile& f, const Layout& lay, const std::string& prefix, const Buffer<float>& src) {
  for (const TensorSlot& slot : lay.slots) {
    StTensor t;
    t.name = prefix + slot.name;
    t.shape = slot.cols > 0 ? std::vector<int64_t>{slot.rows, slot.cols} : std::vector<int64_t>{slot.rows};
    t.data.assign(src.begin() + std::ptrdiff_t(slot.offset), src.begin() + std::ptrdiff_t(slot.offset + slot.size()));
    f.tensors.push_back(std::move(t));
  }
}

// Everything a run carries from one epoch to the next.
struct TrainState {
  Vae model;
  Buffer<float> adam_m, adam_v;  // Adam's first and second moments, (layout.total)
  Buffer<float> best;            // the parameters with the best validation ELBO so far
  long step = 0;                      // Adam steps taken; bias correction uses it, once per step
  int epoch = 0;                      // epochs completed
  double best_val = -std::numeric_limits<double>::infinity();
  int best_epoch = 0;
};

Status checkpoint_write(const std::string& path, const TrainConfig& cfg, const TrainState& st) {
  Metadata meta;
  meta_set(meta, "checkpoint.signature", train_signature(cfg));
  meta_set(meta, "checkpoint.epoch", std::to_string(st.epoch));
  meta_set(meta, "checkpoint.step", std::to_string(st.step));
  meta_set(meta, "checkpoint.best_epoch", std::to_string(st.best_epoch));
  meta_set(meta, "checkpoint.best_val_elbo", std::isfinite(st.best_val) ? fmt_double(st.best_val) : "none");
  StFile f = model_to_st(st.model, meta);
  if (cfg.classes > 0) {  // a conditional model's: its classes and classifier, as in its model file
    f.set_meta(kMetaClasses, std::to_string(cfg.classes));
    f.set_meta(kMetaClassifierHidden, int_list_str(cfg.classifier_hidden));
  }
  add_slots(f, st.model.layout, kCheckpointAdamM, st.adam_m);
  add_slots(f, st.model.layout, kCheckpointAdamV, st.adam_v);
  add_slots(f, st.model.layout, kCheckpointBest, st.best);
  return st_save(path, f, DType::F32);
}

Status checkpoint_read(const std::string& path, const TrainConfig& cfg, TrainState& st) {
  StFile f;
  Status s = st_load(path, f);
  if (!s) return s;
  const std::string sig = f.meta("checkpoint.signature");
  if (sig != train_signature(cfg))
    return Status::error(path + ": checkpoint is from a different run (" + sig + "); resume needs the same options (" +
                         train_signature(cfg) + ")");
  long long epoch = 0, step = 0, best_epoch = 0;
  if (!parse_int(f.meta("checkpoint.epoch"), 0, 1 << 30, epoch) ||
      !parse_int(f.meta("checkpoint.step"), 0, 1LL << 50, step) ||
      !parse_int(f.meta("checkpoint.best_epoch"), 0, 1 << 30, best_epoch))
    return Status::error(path + ": checkpoint metadata (epoch, step) missing or malformed");
  TrainState r;
  r.model = st.model;
  if (!(s = read_slots(f, r.model.layout, "", r.model.params)) || !(s = read_slots(f, r.model.layout, kCheckpointAdamM, r.adam_m)) ||
      !(s = read_slots(f, r.model.layout, kCheckpointAdamV, r.adam_v)) ||
      !(s = read_slots(f, r.model.layout, kCheckpointBest, r.best)))
    return s.with_context(path);
  const std::string bv = f.meta("checkpoint.best_val_elbo");
  if (bv != "none") {
    char* end = nullptr;
    r.best_val = std::strtod(bv.c_str(), &end);
    if (bv.empty() || *end != '\0') return Status::error(path + ": checkpoint best_val_elbo malformed");
  }
  r.step = long(step);
  r.epoch = int(epoch);
  r.best_epoch = int(best_epoch);
  st = std::move(r);
  return Status::success();
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

Status checkpoint_model_set(const StFile& f, const std::string& prefix, bool checkpoint, Vae& m) {
  StFile part;
  part.metadata = f.metadata;
  for (const StTensor& t : f.tensors) {
    const bool other_set = checkpoint && std::any_of(std::begin(kCheckpointSets), std::end(kCheckpointSets),
                                                     [&t](const char* p) { return t.name.rfind(p, 0) == 0; });
    if (prefix.empty() ? !other_set : t.name.rfind(prefix, 0) == 0) {
      part.tensors.push_back(t);
      part.tensors.back().name = t.name.substr(prefix.size());
    }
  }
  Status s = Status::success();
  if (f.meta(kMetaClasses).empty()) {
    s = model_from_st(part, m);
  } else {  // a conditional model's: its net, the classifier's tensors included
    Cvae c;
    if ((s = cvae_from_st(part, c))) m = std::move(c.net);
  }
  return s || prefix.empty() ? s : Status::error("checkpoint set " + prefix + "*: " + s.message());
}

double train_flops_per_image(const Layout& lay) {
  double f = 0;
  auto add = [&f](const Linear& L, bool has_dx) { f += 2.0 * L.in * L.out * (has_dx ? 3 : 2); };
  for (size_t i = 0; i < lay.enc.size(); ++i) add(lay.enc[i], i > 0);
  add(lay.enc_mu, true);
  add(lay.enc_logvar, true);
  for (const Linear& L : lay.dec) add(L, true);
  add(lay.dec_out, true);
  for (size_t i = 0; i < lay.cls.size(); ++i) add(lay.cls[i], i > 0);
  if (!lay.cls.empty()) add(lay.cls_out, true);
  return f;
}

std::string train_signature(const TrainConfig& c) {
  std::string s = "data=" + c.dataset + " arch=" + c.arch.describe() + " epochs=" + std::to_string(c.epochs) +
                  " batch=" + std::to_string(c.batch) + " lr=" + fmt_double(c.lr) + " lr_final=" + fmt_double(c.lr_final) +
                  " warmup=" + std::to_string(c.warmup_epochs) + " binarize=" + (c.binarize ? "1" : "0") +
                  " val=" + std::to_string(c.val_count) + " seed=" + std::to_string(c.seed);
  if (c.train_limit > 0) s += " limit=" + std::to_string(c.train_limit);
  if (c.classes > 0) {
    s += " classes=" + std::to_string(c.classes) + " classifier=" + int_list_str(c.classifier_hidden) +
         " class_weight=" + fmt_double(c.class_weight);
  }
  return s;
}

void binarize(const float* src, size_t n, uint64_t seed, float* dst) {
  Pcg32 rng(seed, 0xb1);
  for (size_t i = 0; i < n; ++i) dst[i] = rng.uniform() < src[i] ? 1.f : 0.f;
}

ElboSum eval_elbo(const Vae& m, const float* images, int count, uint64_t seed, int threads) {
  const int D = m.arch.D, Z = m.arch.Z;
  ElboSum shard_sum[kShards];
  parallel_run(kShards, threads, [&](int sh) {
    const int begin = int(long(count) * sh / kShards), end = int(long(count) * (sh + 1) / kShards);
    Workspace ws;
    Matrix eps;
    for (int b0 = begin; b0 < end; b0 += 256) {
      const int n = std::min(256, end - b0);
      Eigen::Map<const Matrix> X(images + size_t(b0) * D, D, n);
      eps.resize(Z, n);
      for (int j = 0; j < n; ++j) {
        Pcg32 rng(prng_mix(seed, size_t(b0 + j)), kStreamEval);
        for (int d = 0; d < Z; ++d) eps(d, j) = rng.normal();
      }
      shard_sum[sh] += vae_forward(m, X, eps, ws);
    }
  });
  ElboSum total;
  for (const ElboSum& s : shard_sum) total += s;
  return total;
}

CvaeSum eval_cvae(const Cvae& m, const float* images, const uint8_t* labels, int count, uint64_t seed, int threads) {
  const int D = m.net.arch.D, Z = m.net.arch.Z;
  CvaeSum shard_sum[kShards];
  parallel_run(kShards, threads, [&](int sh) {
    const int begin = int(long(count) * sh / kShards), end = int(long(count) * (sh + 1) / kShards);
    CvaeWorkspaceT<float> ws;
    Matrix eps;
    std::vector<int> y;
    for (int b0 = begin; b0 < end; b0 += 256) {
      const int n = std::min(256, end - b0);
      Eigen::Map<const Matrix> X(images + size_t(b0) * D, D, n);
      eps.resize(Z, n);
      y.assign(labels + b0, labels + b0 + n);
      for (int j = 0; j < n; ++j) {
        Pcg32 rng(prng_mix(seed, size_t(b0 + j)), kStreamEval);
        for (int d = 0; d < Z; ++d) eps(d, j) = rng.normal();
      }
      const CvaeSum c = cvae_forward(m, X, y, eps, ws);
      shard_sum[sh].elbo += c.elbo;
      shard_sum[sh].ce += c.ce;
      shard_sum[sh].correct += c.correct;
    }
  });
  CvaeSum total;
  for (const CvaeSum& c : shard_sum) {
    total.elbo += c.elbo;
    total.ce += c.ce;
    total.correct += c.correct;
  }
  return total;
}

double ElboEstimate::standard_error() const {
  return sum.count > 0 ? std::sqrt(rec_var) / double(sum.count) : 0.0;
}

ElboEstimate eval_elbo_samples(const Vae& m, const float* images, int count, int S, uint64_t seed, int threads) {
  const int D = m.arch.D, Z = m.arch.Z;
  S = std::max(S, 1);
  const int per = std::max(1, std::min(256, 4096 / S));  // images per pass: about 4096 decoded columns
  ElboEstimate shard_est[kShards];
  parallel_run(kShards, threads, [&](int sh) {
    const int begin = int(long(count) * sh / kShards), end = int(long(count) * (sh + 1) / kShards);
    Workspace ws;
    Matrix mu_rep, logvar_rep, eps, z;  // (Z, n S): column j S + s is image j's draw s
    Matrix X_rep;                       // (D, n S)
    for (int b0 = begin; b0 < end; b0 += per) {
      const int n = std::min(per, end - b0), cols = n * S;
      Eigen::Map<const Matrix> X(images + size_t(b0) * D, D, n);
      vae_encode(m, X, ws);
      kl_forward(ws.mu, ws.logvar, ws.kl);
      mu_rep.resize(Z, cols);
      logvar_rep.resize(Z, cols);
      eps.resize(Z, cols);
      X_rep.resize(D, cols);
      for (int j = 0; j < n; ++j) {
        Pcg32 rng(prng_mix(seed, size_t(b0 + j)), kStreamEval);
        for (int s = 0; s < S; ++s) {
          const int c = j * S + s;
          for (int d = 0; d < Z; ++d) eps(d, c) = rng.normal();
          mu_rep.col(c) = ws.mu.col(j);
          logvar_rep.col(c) = ws.logvar.col(j);
          X_rep.col(c) = X.col(j);
        }
      }
      reparam_forward(mu_rep, logvar_rep, eps, z);
      vae_decode_logits(m, z, ws);
      bce_forward(ws.logits, X_rep, ws.rec);
      ElboEstimate& e = shard_est[sh];
      for (int j = 0; j < n; ++j) {
        double mean = 0, sq = 0;
        for (int s = 0; s < S; ++s) mean += double(ws.rec[j * S + s]);
        mean /= S;
        for (int s = 0; s < S; ++s) sq += (double(ws.rec[j * S + s]) - mean) * (double(ws.rec[j * S + s]) - mean);
        e.sum.rec += mean;
        e.sum.kl += double(ws.kl[j]);
        e.rec_var += S > 1 ? sq / (S - 1) / S : 0.0;
      }
      e.sum.count += n;
    }
  });
  ElboEstimate total;
  total.samples = S;
  for (const ElboEstimate& e : shard_est) {
    total.sum += e.sum;
    total.rec_var += e.rec_var;
  }
  return total;
}

void eval_iwae(const Vae& m, const float* images, int count, int K, uint64_t seed, int threads,
               std::vector<double>& log_px, const std::function<void(int)>& progress) {
  const int D = m.arch.D;
  log_px.assign(size_t(count), 0.0);
  // Small shards so the two threads finish together and progress can be reported; each shard is 50 images.
  const int per = 50;
  const int shards = (count + per - 1) / per;
  int done = 0;
  // A quantized model is evaluated as it runs, its int8 layers in integers (infer.hpp); the same noise either way.
  const bool int8 = !m.row_scales.empty();
  const VaeInfer packed = int8 ? infer_make(m) : VaeInfer();
  for (int s0 = 0; s0 < shards; s0 += 2 * 8) {
    const int group = std::min(16, shards - s0);
    parallel_run(2, threads, [&](int w) {
      Workspace ws;
      InferScratch scratch;
      std::vector<double> out;
      for (int s = s0 + w; s < s0 + group; s += 2) {
        const int b0 = s * per, n = std::min(per, count - b0);
        const Eigen::Map<const Matrix> X(images + size_t(b0) * D, D, n);
        if (int8)
          infer_iwae(packed, X, K, seed, size_t(b0), scratch, out);
        else
          vae_iwae(m, X, K, seed, size_t(b0), ws, out);
        std::copy(out.begin(), out.end(), log_px.begin() + b0);
      }
    });
    done = std::min(count, (s0 + group) * per);
    if (progress) progress(done);
  }
}

Status train_run(const TrainConfig& cfg, const std::function<void(const EpochReport&)>& on_epoch) {
  const ScopedFlushDenormals flush;  // the whole run, its validation too (fpmode.hpp)
  using Clock = std::chrono::steady_clock;
  Status s = cfg.arch.check();
  if (!s) return s;
  if (cfg.epochs < 1 || cfg.batch < kShards || cfg.lr <= 0.f || cfg.lr_final < 0.f || cfg.val_count < 0 ||
      cfg.warmup_epochs < 0 || cfg.threads < 1)
    return Status::error("training options out of range (epochs >= 1, batch >= 2, lr > 0, val >= 0, threads >= 1)");

  Dataset ds;
  if (!(s = dataset_open(cfg.dataset, "train", cfg.data_dir, cfg.root, ds))) return s;
  const int D = cfg.arch.D, Z = cfg.arch.Z, B = cfg.batch;
  if (ds.pixels() != D)
    return Status::error(ds.name + " has " + std::to_string(ds.pixels()) + " pixels per image, the model takes " +
                         std::to_string(D));
  const int n_val = cfg.val_count;
  int n_train = ds.count - n_val;
  if (cfg.train_limit > 0) n_train = std::min(n_train, cfg.train_limit);
  if (n_train < B)
    return Status::error(ds.name + ": " + std::to_string(ds.count) + " images leave " + std::to_string(n_train) +
                         " for training after " + std::to_string(n_val) + " for validation; a batch needs " +
                         std::to_string(B));
  const long steps_per_epoch = n_train / B;
  const long total_steps = steps_per_epoch * cfg.epochs;

  const bool conditional = cfg.classes > 0;
  if (conditional) {
    if (cfg.classes > 1000 || cfg.class_weight < 0.f || !std::isfinite(cfg.class_weight))
      return Status::error("conditional options out of range (classes 2..1000, class weight >= 0)");
    for (int i = 0; i < ds.count; ++i)
      if (ds.labels[size_t(i)] >= cfg.classes)
        return Status::error(ds.name + ": image " + std::to_string(i) + " has label " + std::to_string(ds.labels[size_t(i)]) +
                             ", out of range for " + std::to_string(cfg.classes) + " classes");
  }
  TrainState st;
  // A conditional model trains as its net: one flat buffer for the encoder, the decoder and the classifier.
  Cvae cvae = conditional ? cvae_make(cfg.arch, cfg.classes, cfg.classifier_hidden, cfg.seed) : Cvae{};
  st.model = conditional ? cvae.net : vae_make(cfg.arch, cfg.seed);
  {
    // Start the decoder's output bias at the logit of each pixel's mean over the training images.
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(D);
    for (int i = 0; i < n_train; ++i) mean += Eigen::Map<const Eigen::VectorXf>(ds.image(i), D).cast<double>();
    mean /= double(n_train);
    float* bias = st.model.params.data() + st.model.layout.dec_out.b;
    for (int d = 0; d < D; ++d) {
      const double p = std::min(1.0 - 1e-3, std::max(1e-3, mean[d]));
      bias[d] = float(std::log(p / (1.0 - p)));
    }
  }
  st.adam_m.assign(st.model.layout.total, 0.f);
  st.adam_v.assign(st.model.layout.total, 0.f);
  st.best = st.model.params;

  bool resumed = false;
  if (cfg.resume && !cfg.checkpoint.empty() && file_exists(cfg.checkpoint)) {
    if (!(s = checkpoint_read(cfg.checkpoint, cfg, st))) return s;
    resumed = true;
  }

  // Validation images: binarised once with a fixed stream (when training binarises), fixed noise per image.
  Buffer<float> val(size_t(n_val) * D);
  if (cfg.binarize)
    binarize(ds.image(ds.count - n_val), val.size(), prng_mix(cfg.seed, kStreamVal), val.data());
  else
    std::copy(ds.image(ds.count - n_val), ds.image(ds.count - n_val) + val.size(), val.begin());

  const int threads = std::min(cfg.threads, kShards);
  const size_t P = st.model.layout.total;
  std::vector<Buffer<float>> grads(kShards, Buffer<float>(P));
  std::vector<Workspace> ws(kShards);
  std::vector<CvaeWorkspaceT<float>> cws(conditional ? kShards : 0);
  std::vector<std::vector<int>> labels(kShards);
  Matrix X(D, B), eps(Z, B);
  std::vector<int> order(static_cast<size_t>(n_train));
  int epochs_this_call = 0;
  double seconds_so_far = 0;

  while (st.epoch < cfg.epochs) {
    if (cfg.stop_after_epochs > 0 && epochs_this_call >= cfg.stop_after_epochs) return Status::success();
    const auto t0 = Clock::now();
    const int epoch = st.epoch;  // 0-based, the one being run
    // Fisher-Yates shuffle from this epoch's own stream.
    std::iota(order.begin(), order.end(), 0);
    Pcg32 shuffle_rng(prng_mix(cfg.seed, uint64_t(epoch)), kStreamShuffle);
    for (int i = n_train - 1; i > 0; --i) std::swap(order[size_t(i)], order[shuffle_rng.below(uint32_t(i + 1))]);

    ElboSum train_sum;
    double train_ce = 0;
    float lr = cfg.lr, beta = 1.f;
    for (long k = 0; k < steps_per_epoch; ++k) {
      const long step = st.step + 1;
      lr = lr_at(cfg, step, total_steps);
      beta = beta_at(cfg, step, steps_per_epoch);
      ElboSum shard_sum[kShards];
      double shard_ce[kShards] = {0, 0};
      if (conditional) cvae.net.params.swap(st.model.params);  // the weights, lent to the conditional model
      parallel_run(kShards, threads, [&](int sh) {
        const int c0 = B * sh / kShards, n = B * (sh + 1) / kShards - c0;
        labels[size_t(sh)].clear();
        // The batch's images (binarised afresh) and noise; image b of step t draws from stream (seed, t, b).
        for (int b = c0; b < c0 + n; ++b) {
          Pcg32 rng(prng_mix(prng_mix(cfg.seed, uint64_t(step)), uint64_t(b)), kStreamBatch);
          const float* img = ds.image(order[size_t(k * B + b)]);
          if (cfg.binarize)
            for (int d = 0; d < D; ++d) X(d, b) = rng.uniform() < img[d] ? 1.f : 0.f;
          else
            for (int d = 0; d < D; ++d) X(d, b) = img[d];
          for (int d = 0; d < Z; ++d) eps(d, b) = rng.normal();
          if (conditional) labels[size_t(sh)].push_back(ds.labels[size_t(order[size_t(k * B + b)])]);
        }
        if (conditional) {
          const CvaeSum c = cvae_forward(cvae, X.middleCols(c0, n), labels[size_t(sh)], eps.middleCols(c0, n), cws[size_t(sh)]);
          cvae_backward(cvae, X.middleCols(c0, n), labels[size_t(sh)], beta, cfg.class_weight, 1.f / float(B),
                        cws[size_t(sh)], grads[size_t(sh)].data());
          shard_sum[sh] = c.elbo;
          shard_ce[sh] = c.ce;
          return;
        }
        shard_sum[sh] = vae_forward(st.model, X.middleCols(c0, n), eps.middleCols(c0, n), ws[size_t(sh)]);
        vae_backward(st.model, X.middleCols(c0, n), beta, 1.f / float(B), ws[size_t(sh)], grads[size_t(sh)].data());
      });
      if (conditional) cvae.net.params.swap(st.model.params);
      ElboSum batch_sum;
      for (const ElboSum& e : shard_sum) batch_sum += e;
      train_ce += shard_ce[0] + shard_ce[1];
      if (!std::isfinite(batch_sum.rec) || !std::isfinite(batch_sum.kl))
        return Status::error("epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step) +
                             ": the loss is not finite (rec " + fmt_double(batch_sum.rec / B) + ", KL " +
                             fmt_double(batch_sum.kl / B) + "); stopped without writing it; the last checkpoint (" +
                             std::to_string(st.epoch) + " epochs) is intact");
      train_sum += batch_sum;

      // One pass over the flat buffer: sum the shards' gradients, check them, and take Adam's step
      // (t counted once per step). A non-finite gradient stops the run before anything is written to disk.
      st.step = step;
      const float bc1 = 1.f - std::pow(kAdamBeta1, float(step)), bc2 = 1.f - std::pow(kAdamBeta2, float(step));
      bool finite[kShards] = {true, true};
      parallel_run(kShards, threads, [&](int sh) {
        const size_t i0 = P * size_t(sh) / kShards, i1 = P * size_t(sh + 1) / kShards;
        finite[sh] = adam_update(grads[0].data() + i0, grads[1].data() + i0, st.model.params.data() + i0,
                                 st.adam_m.data() + i0, st.adam_v.data() + i0, i1 - i0, lr, bc1, bc2);
      });
      if (!finite[0] || !finite[1])
        return Status::error("epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step) +
                             ": a gradient is not finite; stopped; the last checkpoint (" + std::to_string(st.epoch) +
                             " epochs) is intact");
    }

    EpochReport rep;
    rep.epoch = epoch + 1;
    rep.epochs = cfg.epochs;
    rep.train_rec = train_sum.rec / train_sum.count;
    rep.train_kl = train_sum.kl / train_sum.count;
    rep.train_elbo = train_sum.elbo() / train_sum.count;
    rep.train_ce = train_ce / std::max(1, train_sum.count);
    if (n_val > 0) {
      ElboSum v;
      if (conditional) {
        cvae.net.params.swap(st.model.params);
        const CvaeSum c = eval_cvae(cvae, val.data(), &ds.labels[size_t(ds.count - n_val)], n_val,
                                    prng_mix(cfg.seed, kStreamVal + 1), threads);
        cvae.net.params.swap(st.model.params);
        v = c.elbo;
        rep.val_error = 1.0 - double(c.correct) / n_val;
      } else {
        v = eval_elbo(st.model, val.data(), n_val, prng_mix(cfg.seed, kStreamVal + 1), threads);
      }
      rep.val_rec = v.rec / n_val;
      rep.val_kl = v.kl / n_val;
      rep.val_elbo = v.elbo() / n_val;
      if (!std::isfinite(rep.val_elbo))
        return Status::error("epoch " + std::to_string(epoch + 1) + ": validation ELBO is not finite; stopped");
    }
    st.epoch = epoch + 1;
    if (n_val == 0 || rep.val_elbo > st.best_val) {
      st.best = st.model.params;
      st.best_val = n_val > 0 ? rep.val_elbo : st.best_val;
      st.best_epoch = st.epoch;
      rep.best = true;
    }
    if (!cfg.checkpoint.empty() && !(s = checkpoint_write(cfg.checkpoint, cfg, st))) return s;

    rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    seconds_so_far += rep.seconds;
    ++epochs_this_call;
    rep.images_per_s = double(steps_per_epoch * B) / rep.seconds;
    rep.eta_seconds = seconds_so_far / epochs_this_call * (cfg.epochs - st.epoch);
    rep.lr = lr;
    rep.beta = beta;
    rep.resumed = resumed && epochs_this_call == 1;
    if (on_epoch) on_epoch(rep);
  }

  if (cfg.out.empty()) return Status::success();
  Vae best = st.model;
  best.params = st.best;
  Metadata meta;
  meta_set(meta, "dataset", cfg.dataset);
  meta_set(meta, "train.command", cfg.command);
  meta_set(meta, "train.epochs", std::to_string(cfg.epochs));
  meta_set(meta, "train.seed", std::to_string(cfg.seed));
  meta_set(meta, "train.options", train_signature(cfg));
  meta_set(meta, "train.images", std::to_string(n_train));
  meta_set(meta, "train.best_epoch", std::to_string(st.best_epoch));
  if (n_val > 0) meta_set(meta, "train.val_elbo", fmt_double(st.best_val));
  if (!conditional) return model_save(cfg.out, best, meta, cfg.out_dtype);
  cvae.net.params = best.params;
  meta_set(meta, "train.class_weight", fmt_double(cfg.class_weight));
  return st_save(cfg.out, cvae_to_st(cvae, meta), cfg.out_dtype);
}

}  // namespace vae
