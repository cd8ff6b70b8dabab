// parallel_run: runs a fixed number of independent shards on up to `threads` OS threads. Work is split by
// shard, never by thread, so results do not depend on how many threads there are. The workers compute in the
// caller's floating-point environment (rounding, and on x86 the flushing of denormals: fpmode.hpp), so that a
// shard gives the same bits on whichever thread runs it (Linux threads inherit it anyway; not every system's do).
#pragma once
#include <cfenv>
#include <thread>
#include <vector>

namespace vae {

template <class F>
void parallel_run(int shards, int threads, F&& fn) {
  if (threads <= 1 || shards <= 1) {
    for (int s = 0; s < shards; ++s) fn(s);
    return;
  }
  const int workers = threads < shards ? threads : shards;
  std::fenv_t env;
  std::fegetenv(&env);
  std::vector<std::thread> pool;
  pool.reserve(size_t(workers - 1));
  for (int w = 1; w < workers; ++w)
    pool.emplace_back([&fn, &env, w, workers, shards] {
      std::fesetenv(&env);
      for (int s = w; s < shards; s += workers) fn(s);
    });
  for (int s = 0; s < shards; s += workers) fn(s);  // the calling thread takes worker 0's shards
  for (std::thread& t : pool) t.join();
}

}  // namespace vae
