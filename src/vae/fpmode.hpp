// Denormal floats flushed to zero for a scope (x86: MXCSR's FTZ and DAZ bits; elsewhere nothing changes).
// Training turns it on: as the decoder grows sure of MNIST's empty border, sigmoid(logit) and its gradient fall
// below 2^-126, and x86 cores take a slow microcode path for every such operand (measured: a training epoch
// ran 2.4x slower from the second epoch on, on an Intel Xeon). The flushed values are below any precision the
// model uses; TensorFlow flushes denormals on CPU for the same reason.
#pragma once
#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

namespace vae {

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() {
#if defined(__SSE2__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON);
#endif
  }
  ~ScopedFlushDenormals() {
#if defined(__SSE2__)
    _mm_setcsr(saved_);
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace vae
