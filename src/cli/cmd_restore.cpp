// Placeholder for `vae restore` (being written).
#include <cstdio>

#include "common.hpp"

namespace cli {

Command command_restore() {
  return {"restore", "(being written)", {}, [](Args&) { std::fprintf(stderr, "vae restore: not written yet\n"); return 1; }};
}

}  // namespace cli
