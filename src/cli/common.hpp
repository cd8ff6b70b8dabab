// What every `vae` subcommand shares: the option framework (Opt, Command, Args), the one-line error exit, output
// paths, PNG sheets, number formats and the model and data loaders. Not the subcommands (cmd_*.cpp each).
// The option parser is our own ~80 lines rather than CLI11 so that every usage error is the one tested line
// `vae CMD: --k "v" is not valid: expected ...` on stderr with exit code 2 (tests/e2e/cli_bad_input.py).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "png.hpp"
#include "vae/idx.hpp"
#include "vae/model.hpp"
#include "vae/model_io.hpp"
#include "vae/pca.hpp"
#include "vae/status.hpp"

namespace cli {

using vae::Status;

// ---- options ----

struct Opt {
  const char* name;   // without the leading "--"
  const char* value;  // placeholder for the value, or nullptr for a flag
  const char* def;    // default shown in --help (nullptr: none)
  const char* help;
};

class Args;

// One subcommand: each cmd_<name>.cpp returns its own from command_<name>(); main.cpp lists them.
struct Command {
  const char* name;
  const char* summary;
  std::vector<Opt> opts;
  std::function<int(Args&)> run;
};

// The option values of one command line, read through the typed getters below.
class Args {
 public:
  Args(const Command& cmd, std::map<std::string, std::string> values) : cmd_(cmd), values_(std::move(values)) {}
  bool has(const std::string& k) const { return values_.count(k) > 0; }
  // The value given, else the option's default, else "".
  std::string str(const std::string& k) const;
  // Numbers are checked whole and against a range; a bad one is a usage error (exit 2).
  long long integer(const std::string& k, long long lo, long long hi) const;
  double real(const std::string& k, double lo, double hi) const;
  std::string choice(const std::string& k, const std::vector<std::string>& allowed) const;
  // `vae CMD: --k "v" is not valid: expected WANT` on stderr, exit 2.
  [[noreturn]] void fail(const std::string& k, const std::string& want) const;
  // An option the command cannot run without: unless given, `vae CMD: --k VALUE is required (WHY)` on stderr, exit 2.
  void require(const std::string& k, const std::string& why) const;
  static std::string fmt(double x);  // "%g"

 private:
  const Command& cmd_;
  std::map<std::string, std::string> values_;
};

// The whole command line: usage, --help, unknown commands and options, then the command's run. Returns the
// exit code.
int cli_run(const std::vector<Command>& cmds, int argc, char** argv);

extern std::string g_command;  // the command line, for metadata

// Options several commands take, with the same help text everywhere.
extern const Opt kModel, kData, kDataDir, kRoot, kSeed, kThreads, kLabel;

// ---- shared pieces ----

// `vae CMD: message` on stderr, exit 1.
[[noreturn]] void die(const char* cmd, const Status& s);

vae::Vae load_model(const char* cmd, const std::string& path, vae::Metadata* meta = nullptr);
// For `vae sample` and `vae grid`: the plain model at --model, or, for a label-conditioned one, the plain model it
// is for --label Y (cvae_for_label), which such a model requires; --label on a plain model, or a label the model
// does not know, fails in one line (exit 2). label_note says which digit was drawn ("" for a plain model).
vae::Vae load_model_or_label(const char* cmd, Args& a, vae::Metadata* meta, std::string& label_note);
// The model at path with its whole file (metadata, riding tensors) and its PCA (K == 0 when the file has none).
vae::Vae load_model_and_pca(const char* cmd, const std::string& path, vae::StFile& file, vae::Pca& pca);
// The --data set's split from --data-dir / --root.
vae::Dataset load_data(const char* cmd, Args& a, const std::string& split);

std::string thousands(double v);      // 1234567 -> "1,234,567"
std::string duration(double seconds);  // "1h02m" or "3m07s"

// The value of an output option, checked before any work is done: not empty, in a folder that exists, not a
// folder itself and not the file another option names (a PNG written over --model would lose the model).
std::string out_path(const char* cmd, const Args& a, const std::string& key, const std::vector<std::string>& others);

void write_png(const char* cmd, const std::string& path, const TileSheet& sheet);

}  // namespace cli
