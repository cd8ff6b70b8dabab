// `vae restore`: damages N test images with a fixed seed, restores them with every method that applies (the VAE's
// and the baselines), prints a table of the errors on the damaged pixels and writes a PNG sheet. The damage,
// the methods and the errors are repair.hpp's; this file only reads options, batches and prints.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"
#include "vae/infer.hpp"
#include "vae/pca.hpp"
#include "vae/repair.hpp"

namespace cli {

namespace {

constexpr int kBatch = 100;  // images per restore_batch call: one kernel call per layer for all of them

std::string names(const std::vector<vae::Restore>& rs) {
  std::string s;
  for (vae::Restore r : rs) s += (s.empty() ? "" : ", ") + std::string(vae::restore_name(r));
  return s;
}

// The methods of --methods (default: every one that applies), in kRestoreAll's order as given.
std::vector<vae::Restore> parse_methods(Args& a, const vae::Damaged& probe, bool* explicit_pca) {
  std::vector<vae::Restore> applicable, all(std::begin(vae::kRestoreAll), std::end(vae::kRestoreAll));
  for (vae::Restore r : all)
    if (vae::restore_applies(r, probe, true)) applicable.push_back(r);
  *explicit_pca = false;
  if (!a.has("methods")) return applicable;
  std::vector<vae::Restore> out;
  const std::string s = a.str("methods");
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    const std::string name = s.substr(start, comma - start);
    vae::Restore r;
    if (!vae::restore_from_name(name, r)) a.fail("methods", "a comma-separated list of " + names(all));
    if (std::find(applicable.begin(), applicable.end(), r) == applicable.end())
      a.fail("methods", "methods that apply to this damage: " + names(applicable));
    if (std::find(out.begin(), out.end(), r) != out.end()) a.fail("methods", "each method once");
    *explicit_pca |= r == vae::Restore::Pca || r == vae::Restore::MeanImage;
    out.push_back(r);
    start = comma + 1;
  }
  return out;
}

struct Row {
  std::string name;
  double bce = 0, mse = 0, psnr = 0, acceptance = 0, seconds = 0;
  int images = 0;
  bool has_acceptance = false;
};

void add_errors(Row& row, const vae::ImageErrors& e) {
  row.bce += e.bce;
  row.mse += e.mse;
  row.psnr += e.psnr;
  row.images += 1;
}

void print_row(const Row& r) {
  const double n = r.images;
  char acc[16] = "       -";
  if (r.has_acceptance) std::snprintf(acc, sizeof acc, "%8.3f", r.acceptance / n);
  char secs[16] = "      -";
  if (r.seconds > 0) std::snprintf(secs, sizeof secs, "%7.2f", r.seconds);
  std::printf("%-16s %10.2f %9.5f %9.2f %9.2f %s %s\n", r.name.c_str(), r.bce / n, r.mse / n,
              r.mse > 0 ? 10.0 * std::log10(n / r.mse) : 99.0, r.psnr / n, acc, secs);
}

int run_restore(Args& a) {
  // Option values first: a usage error is reported before anything is loaded.
  const std::string split = a.choice("split", {"test", "train"});
  if (a.has("data")) a.choice("data", {"mnist", "fashion"});
  const int want = int(a.integer("n", 1, 100000));
  const int first = int(a.integer("first", 0, 99999));
  vae::DamageSpec spec;
  const std::string kind = a.choice("damage", {"gaussian", "salt-pepper", "missing-pixels", "missing-block"});
  vae::damage_from_name(kind, spec.kind);
  vae::block_from_name(a.choice("block", {"top", "bottom", "left", "right", "centre"}), spec.block);
  const bool uses_amount = spec.kind != vae::Damage::MissingBlock || spec.block == vae::Block::Centre;
  if (uses_amount) {
    // The ranges of damage_check; missing pixels at rate 1 would hide every pixel.
    const double hi = spec.kind == vae::Damage::Gaussian ? 2.0 : 1.0;
    const char* what = spec.kind == vae::Damage::Gaussian       ? "the noise's sigma, above 0 and at most 2"
                       : spec.kind == vae::Damage::MissingPixels ? "a rate above 0 and below 1 (at 1 every pixel is hidden)"
                       : spec.kind == vae::Damage::SaltPepper    ? "a rate above 0 and at most 1"
                                                                 : "the square's side, a fraction of the image's above 0 and at most 1";
    const std::string s = a.str("amount");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v > 0 && v <= hi) || (spec.kind == vae::Damage::MissingPixels && v >= 1))
      a.fail("amount", std::string("a number: ") + what);
    spec.amount = float(v);
  } else if (a.has("amount")) {
    a.fail("amount", "nothing for a missing half (--amount is for gaussian, salt-pepper, missing-pixels and "
                     "--block centre)");
  }
  const uint64_t seed = uint64_t(a.integer("seed", 0, 1LL << 62));
  vae::RestoreOptions opt;
  opt.iterations = int(a.integer("iterations", 1, 100000));
  opt.burn_in = int(a.integer("burn-in", 0, opt.iterations - 1));
  opt.mwg_warmup = int(a.integer("warm-up", 0, opt.iterations - 1));
  opt.samples = int(a.integer("samples", 1, 10000));
  {
    const double step = a.real("map-step", 0.0, 10.0);
    if (!(step > 0)) a.fail("map-step", "a number above 0 and at most 10");
    opt.map_step = float(step);
  }
  opt.seed = seed;
  opt.keep_frames = false;
  const int sheet_images = int(a.integer("sheet", 1, 64));
  // Which methods apply depends only on the damage's kind: probe it on a blank 2x2 image.
  vae::Damaged probe;
  probe.missing = spec.kind == vae::Damage::MissingPixels || spec.kind == vae::Damage::MissingBlock;
  probe.sigma = spec.kind == vae::Damage::Gaussian ? spec.amount : 0.f;
  bool explicit_pca = false;
  std::vector<vae::Restore> methods = parse_methods(a, probe, &explicit_pca);
  const std::string out = out_path("restore", a, "out", {"model"});

  // The model, its PCA and the data.
  const std::string path = a.str("model");
  vae::StFile f;
  vae::Pca pca;
  const vae::Vae m = load_model_and_pca("restore", path, f, pca);
  Status s = Status::success();
  if (pca.empty()) {
    if (explicit_pca)
      die("restore", Status::error(path + " has no PCA (\"pca.*\" tensors), which pca and mean-image need; vae pca adds it"));
    const size_t before = methods.size();
    methods.erase(std::remove_if(methods.begin(), methods.end(), [](vae::Restore r) {
                    return r == vae::Restore::Pca || r == vae::Restore::MeanImage;
                  }), methods.end());
    if (methods.size() != before)
      std::printf("note: %s has no PCA (\"pca.*\" tensors): the pca and mean-image baselines are left out (vae pca adds them)\n",
                  path.c_str());
  }
  const std::string set = a.has("data") ? a.str("data") : f.meta("dataset", "mnist");
  if (set != "mnist" && set != "fashion")
    die("restore", Status::error(path + ": trained on \"" + set + "\"; pass --data mnist or --data fashion"));
  vae::Dataset ds;
  if (!(s = vae::dataset_open(set, split, a.str("data-dir"), a.str("root"), ds))) die("restore", s);
  const int D = m.arch.D;
  if (ds.pixels() != D)
    die("restore", Status::error(ds.name + " images have " + std::to_string(ds.pixels()) + " pixels, the model takes " +
                                 std::to_string(D)));
  if (first >= ds.count) a.fail("first", "an image index from 0 to " + std::to_string(ds.count - 1));
  const int n = std::min(want, ds.count - first);

  // Damage: image i of the split gets the seed prng_mix(seed, i), whatever --first and --n are.
  std::vector<vae::Damaged> damaged(static_cast<size_t>(n));
  int damaged_pixels = 0;
  for (int i = 0; i < n; ++i) {
    vae::DamageSpec si = spec;
    si.seed = vae::prng_mix(seed, uint64_t(first + i));
    s = vae::damage_apply(ds.image(first + i), ds.rows, ds.cols, si, nullptr, damaged[size_t(i)]);
    if (!s) die("restore", s.with_context(ds.name + " image " + std::to_string(first + i)));
    for (uint8_t v : damaged[size_t(i)].damaged) damaged_pixels += v;
  }
  std::vector<const vae::Damaged*> dp;
  for (const vae::Damaged& d : damaged) dp.push_back(&d);

  std::printf("model    %s  %s", path.c_str(), m.arch.describe().c_str());
  if (!pca.empty()) std::printf(", PCA with K = %d (%s)", pca.K, pca.source.c_str());
  std::printf("\ndata     %s images %d..%d (%d)\n", ds.name.c_str(), first, first + n - 1, n);
  std::string what = kind;
  if (spec.kind == vae::Damage::MissingBlock) what += std::string(" ") + vae::block_name(spec.block);
  if (uses_amount) what += std::string(spec.kind == vae::Damage::Gaussian ? " sigma " : " ") + Args::fmt(spec.amount);
  std::printf("damage   %s, seed %llu: %.1f of %d pixels %s per image; errors on those pixels\n", what.c_str(),
              (unsigned long long)seed, double(damaged_pixels) / n, D, probe.missing ? "hidden" : "damaged");
  std::printf("options  iterations %d, burn-in %d, Metropolis-within-Gibbs warm-up %d, samples %d, MAP step %s\n",
              opt.iterations, opt.burn_in, std::min(opt.mwg_warmup, opt.burn_in), opt.samples, Args::fmt(opt.map_step).c_str());

  const vae::VaeInfer packed = vae::infer_make(m);
  const vae::RepairModels models{&m, &packed, pca.empty() ? nullptr : &pca};
  const int shown = std::min(sheet_images, n);
  std::vector<std::vector<float>> sheet_rows;  // per sheet row: shown images of D pixels
  std::vector<Row> rows;

  // The damaged image itself, as the estimate: where the errors start from. On the sheet hidden pixels are grey.
  Row input;
  input.name = "damaged input";
  std::vector<float> first_row(size_t(shown) * size_t(D));
  for (int i = 0; i < n; ++i) {
    const vae::Damaged& d = damaged[size_t(i)];
    add_errors(input, vae::image_errors(ds.image(first + i), d.image.data(), D, d.damaged.data()));
    if (i < shown)
      for (int k = 0; k < D; ++k)
        first_row[size_t(i) * size_t(D) + size_t(k)] = d.observed[size_t(k)] ? d.image[size_t(k)] : 0.5f;
  }
  rows.push_back(input);
  sheet_rows.push_back(first_row);

  for (vae::Restore r : methods) {
    Row row;
    row.name = vae::restore_name(r);
    std::vector<float> images(size_t(shown) * size_t(D));
    std::vector<vae::Restored> res(kBatch);
    double secs = 0;
    for (int b0 = 0; b0 < n; b0 += kBatch) {
      const int nb = std::min(kBatch, n - b0);
      const auto t0 = std::chrono::steady_clock::now();
      s = vae::restore_batch(models, dp.data() + b0, nb, r, opt, uint64_t(first + b0), res.data());
      secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!s) die("restore", s.with_context(row.name));
      for (int j = 0; j < nb; ++j) {
        const int i = b0 + j;
        const vae::Restored& o = res[size_t(j)];
        add_errors(row, vae::image_errors(ds.image(first + i), o.image.data(), D, damaged[size_t(i)].damaged.data()));
        if (o.acceptance >= 0) {
          row.acceptance += o.acceptance;
          row.has_acceptance = true;
        }
        if (i < shown) std::copy(o.image.begin(), o.image.end(), images.begin() + std::ptrdiff_t(size_t(i) * size_t(D)));
      }
    }
    row.seconds = secs;
    rows.push_back(row);
    sheet_rows.push_back(images);
  }
  std::vector<float> originals(ds.image(first), ds.image(first) + size_t(shown) * size_t(D));
  sheet_rows.push_back(originals);

  std::printf("\n%-16s %10s %9s %9s %9s %8s %7s\n", "method", "BCE", "MSE", "PSNR", "PSNR", "MwG", "seconds");
  std::printf("%-16s %10s %9s %9s %9s %8s %7s\n", "", "nats/img", "", "mean MSE", "per img", "accept", "");
  for (const Row& r : rows) print_row(r);
  std::printf("\nErrors over each image's damaged pixels, averaged over the %d images. BCE: -sum [x log p + (1 - x) log(1 - p)],\n"
              "p clamped to [1e-6, 1 - 1e-6]. PSNR: 10 log10(1 / MSE) of the mean MSE, and the mean of the images' own PSNRs.\n"
              "MwG accept: the share of Metropolis-within-Gibbs proposals accepted after the warm-up. Seconds: the method's\n"
              "time for all the images, one thread.\n", n);
  for (vae::Restore r : methods) std::printf("  %-14s %s\n", vae::restore_name(r), vae::restore_label(r));

  TileSheet sheet(int(sheet_rows.size()), shown, ds.rows, ds.cols, 1);
  for (size_t row = 0; row < sheet_rows.size(); ++row)
    for (int c = 0; c < shown; ++c) sheet.put(int(row), c, sheet_rows[row].data() + size_t(c) * size_t(D));
  write_png("restore", out, sheet);
  std::printf("rows: damaged (hidden pixels grey), %s, original\n", names(methods).c_str());
  return 0;
}

}  // namespace

Command command_restore() {
  return {"restore",
          "Damage N images with a fixed seed, restore them with every method and baseline, print the errors, write a PNG sheet.",
          {{"model", "PATH", "assets/mnist-z32.safetensors", "weights file (safetensors); its PCA gives the pca and mean-image baselines"},
           {"data", "NAME", nullptr, "data set: mnist or fashion (default: the model's \"dataset\" metadata)"},
           kDataDir, kRoot,
           {"split", "NAME", "test", "test or train"},
           {"first", "I", "0", "index of the first image"},
           {"n", "N", "1000", "images"},
           {"damage", "KIND", "missing-block", "gaussian, salt-pepper, missing-pixels or missing-block"},
           {"amount", "A", "0.5", "gaussian: sigma (0, 2]; salt-pepper: rate (0, 1]; missing-pixels: rate (0, 1); centre block: side"},
           {"block", "WHICH", "bottom", "missing block: top, bottom, left, right or centre"},
           {"methods", "LIST", nullptr, "comma-separated methods (default: every one that applies to the damage)"},
           {"iterations", "T", "100", "pseudo-Gibbs, Metropolis-within-Gibbs and MAP steps"},
           {"burn-in", "T", "20", "chain steps left out of the average"},
           {"warm-up", "T", "20", "Metropolis-within-Gibbs's first steps that accept every proposal (at most the burn-in)"},
           {"samples", "K", "32", "posterior-mean: codes drawn from q(z|x)"},
           {"map-step", "S", "0.3", "MAP: Adam's step size on z"},
           kSeed,
           {"sheet", "N", "8", "images on the PNG sheet"},
           {"out", "PATH", "restore.png", "PNG sheet: damaged / each method / original"}},
          run_restore};
}

}  // namespace cli
