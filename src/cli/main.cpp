// `vae`: the command-line tool, a thin shell over src/vae: train, eval, sample, grid, reconstruct, map, quantize,
// info, bench.
// The one list of subcommands; each lives in its cmd_<name>.cpp, the option framework in common.cpp.
#include <vector>

#include "common.hpp"

namespace cli {
Command command_train();
Command command_eval();
Command command_sample();
Command command_grid();
Command command_reconstruct();
Command command_map();
Command command_info();
Command command_bench();
Command command_pca();
Command command_compare();
Command command_restore();
Command command_digits();
Command command_analogies();
Command command_quantize();
}  // namespace cli

int main(int argc, char** argv) {
  using namespace cli;
  // In `vae --help` order. A new subcommand is its cmd_<name>.cpp, its declaration above and one entry here,
  // and its file in CMakeLists.txt.
  const std::vector<Command> commands = {command_train(), command_eval(), command_sample(), command_grid(),
                                         command_reconstruct(), command_map(), command_pca(), command_compare(), command_restore(),
                                         command_digits(), command_analogies(), command_quantize(), command_info(), command_bench()};
  return cli_run(commands, argc, argv);
}
