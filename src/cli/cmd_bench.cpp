// `vae bench`: the machine's peak FLOP/s, training throughput (steps and whole epochs) and the four inference
// workloads of the browser benchmark, as medians with their spread. FLOP counts are the engine's (infer, train).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <utility>

#include "common.hpp"
#include "vae/dense.hpp"
#include "vae/infer.hpp"
#include "vae/parallel.hpp"
#include "vae/prng.hpp"
#include "vae/train.hpp"

namespace cli {

namespace {

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

// The machine's arithmetic ceiling: the kernel's multiply-add probe (or the int8 kernel's 16-bit dot product
// probe) on `threads` cores at once, G operations per second (a multiply-add counted as 2).
double peak_gflops(int threads, double (*probe)(long) = vae::dense_peak_probe) {
  const long steps = 20'000'000;
  std::vector<double> flops(static_cast<size_t>(threads));
  const auto t0 = std::chrono::steady_clock::now();
  vae::parallel_run(threads, threads, [&](int t) { flops[size_t(t)] = probe(steps); });
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

// The four workloads of the browser benchmark (web/bench), natively on one thread: the packed float kernel, the
// int8 kernel (the layers `vae quantize` makes int8, quantized at packing) and the Eigen reference path. Each call
// goes from an input buffer to an output buffer. Shares are of the float probe's peak for the float kernel and
// Eigen, and of the int8 probe's for the int8 kernel.
void bench_inference(int reps, double peak1, double peak_int1) {
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
    const vae::VaeInfer p = vae::infer_make(m), p8 = vae::infer_make(m, vae::InferWeights::Int8);
    const int D = m.arch.D, Z = m.arch.Z;
    vae::Pcg32 rng(3, 3);
    vae::Matrix in(w.encode ? D : Z, w.B), out(D, w.B), mu(Z, w.B), logvar(Z, w.B);
    for (int i = 0; i < in.size(); ++i) in.data()[i] = w.encode ? rng.uniform() : rng.normal();
    const double flops = (w.encode ? vae::infer_encode_flops(p) : 0.0) + vae::infer_decode_flops(p);
    const int inner = std::max(1, 2000 / w.B);
    vae::InferScratch scratch;
    vae::Workspace ws;
    const auto run_packed = [&](const vae::VaeInfer& k) {
      if (w.encode) {
        vae::infer_encode(k, in.data(), w.B, mu.data(), logvar.data(), scratch);
        vae::infer_decode(k, mu.data(), w.B, out.data(), scratch);
      } else {
        vae::infer_decode(k, in.data(), w.B, out.data(), scratch);
      }
    };
    const auto packed = [&] { run_packed(p); };
    const auto packed8 = [&] { run_packed(p8); };
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
    const std::pair<std::function<void()>, double> runs[] = {{packed, peak1}, {packed8, peak_int1}, {reference, peak1}};
    for (const auto& [fn, peak] : runs) {
      const Timing t = time_it(reps, [&] {
        for (int i = 0; i < inner; ++i) fn();
      });
      const double ms = t.med / inner * 1e3, gf = flops * w.B / (t.med / inner) * 1e-9;
      std::printf("  %.4f ms [%.4f .. %.4f] %5.1f G/s (%2.0f%%)", ms, t.lo / inner * 1e3, t.hi / inner * 1e3, gf,
                  100 * gf / peak);
    }
    std::printf("   (float kernel, int8 kernel, Eigen)\n");
  }
}

int run_bench(Args& a) {
  const int reps = int(a.integer("repeats", 3, 100000));
  const int threads = int(a.integer("threads", 1, 256));
  const int epochs = int(a.integer("epochs", 0, 1000));
  vae::Arch arch = bench_arch(2);  // the mnist-z2 architecture; random weights time the same as trained ones
  if (a.has("model")) arch = load_model("bench", a.str("model")).arch;
  vae::Vae m = vae::vae_make(arch, 1);
  // Shares are of `threads` times one core's probe: the probe on all threads at once is the same figure on an
  // idle machine and only noisier on a busy one.
  const double peak1 = peak_gflops(1), peak = threads * peak1;
  const double peak_int1 = peak_gflops(1, vae::dense_q8_peak_probe);
  std::printf("peak (multiply-add probe, kernel %s): %.1f GFLOP/s on 1 thread (%.1f measured on %d at once)\n",
              vae::dense_isa(), peak1, peak_gflops(threads), threads);
  std::printf("int8 peak (16-bit dot product probe, %s): %.1f G operations/s on 1 thread, %.2fx the float peak\n",
              vae::dense_int8_isa(), peak_int1, peak_int1 / peak1);
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
    const double ips = steps * B / t.med, gf = ips * vae::train_flops_per_image(m.layout) * 1e-9;
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
    const double med = median(ips), gf = med * vae::train_flops_per_image(m.layout) * 1e-9;
    std::printf("vae train epochs (%d, 50,000 images each, %d threads): %s images/s [%s .. %s], %.1f GFLOP/s "
                "(%.0f%% of peak), an epoch of 60,000 images in %.2f s\n",
                epochs, threads, thousands(med).c_str(), thousands(*std::min_element(ips.begin(), ips.end())).c_str(),
                thousands(*std::max_element(ips.begin(), ips.end())).c_str(), gf, 100 * gf / peak, 60000 / med);
  }
  bench_inference(reps, peak1, peak_int1);
  return 0;
}

}  // namespace

Command command_bench() {
  return {"bench", "Peak FLOP/s, training throughput (steps and whole epochs) and the four inference workloads; medians.",
          {{"model", "PATH", nullptr, "time this file's architecture for training (default: the mnist-z2 one)"},
           {"repeats", "N", "15", "timed repeats"},
           {"epochs", "N", "3", "whole training epochs on the data set to time (0: skip)"},
           kData, kDataDir, kRoot, kThreads},
          run_bench};
}

}  // namespace cli
