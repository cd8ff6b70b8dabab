// The project's one random number generator: PCG32 (O'Neill 2014) with its own uniform and normal samplers.
// Not std::normal_distribution: libstdc++ and Emscripten's libc++ give different numbers for the same seed,
// and not libm's log either, so a seed gives the same stream natively and in the browser.
#pragma once
#include <cstdint>

namespace vae {

class Pcg32 {
 public:
  explicit Pcg32(uint64_t seed = 0x853c49e6748fea9bULL, uint64_t stream = 0xda3e39cb94b95bdbULL);

  uint32_t next_u32();
  // Uniform in [0, 1) with 24 random bits, exactly representable as float.
  float uniform();
  // Uniform in [0, n) without modulo bias.
  uint32_t below(uint32_t n);
  // Standard normal by Marsaglia's polar method; the second value of each pair is kept for the next call.
  float normal();

 private:
  uint64_t state_ = 0;
  uint64_t inc_ = 0;
  bool have_spare_ = false;
  float spare_ = 0.f;
};

// Natural log of x > 0 from +, *, / and exponent extraction only (bit-reproducible on every IEEE platform
// when contraction to FMA is off, which the build sets).
double prng_log(double x);

// Mixes two 64-bit words into one (SplitMix64 finaliser); used to derive independent streams from
// (seed, epoch, step) so that every batch's noise depends only on its position in the run.
uint64_t prng_mix(uint64_t a, uint64_t b);

}  // namespace vae
