// Placeholder for `vae pca` (being written).
#include <cstdio>

#include "common.hpp"

namespace cli {

Command command_pca() {
  return {"pca", "(being written)", {}, [](Args&) { std::fprintf(stderr, "vae pca: not written yet\n"); return 1; }};
}

}  // namespace cli
