// Placeholder for `vae compare` (being written).
#include <cstdio>

#include "common.hpp"

namespace cli {

Command command_compare() {
  return {"compare", "(being written)", {}, [](Args&) { std::fprintf(stderr, "vae compare: not written yet\n"); return 1; }};
}

}  // namespace cli
