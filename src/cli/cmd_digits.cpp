// Placeholder for `vae digits` (being written).
#include <cstdio>

#include "common.hpp"

namespace cli {

Command command_digits() {
  return {"digits", "(being written)", {}, [](Args&) { std::fprintf(stderr, "vae digits: not written yet\n"); return 1; }};
}

}  // namespace cli
