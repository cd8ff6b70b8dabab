// The Repair panel natively, without a window: loads a model and the shipped test digits, repairs digit INDEX with
// the panel's defaults (or the damage and block given) and prints the app's state JSON, whose "repair" part
// web/tests/repair.mjs compares with what the page computes for the same digit.
//   e2e_repair_state MODEL DIGITS INDEX [DAMAGE [BLOCK]]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "app/app.hpp"

namespace {

bool read(const char* path, std::vector<uint8_t>& out) {
  std::ifstream f(path, std::ios::binary);
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return bool(f) || f.eof();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: e2e_repair_state MODEL DIGITS INDEX [DAMAGE [BLOCK]]\n");
    return 2;
  }
  std::vector<uint8_t> model, digits;
  if (!read(argv[1], model) || !read(argv[2], digits)) {
    std::fprintf(stderr, "e2e_repair_state: cannot read %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  app::App a;
  vae::Status s = app::app_load_model(a, "model", model.data(), model.size());
  if (s) s = app::app_load_digits(a, digits.data(), digits.size());
  app::RepairPanel& p = app::panel<app::RepairPanel>(a);
  p.digit = std::atoi(argv[3]);
  if (s && argc > 4 && !vae::damage_from_name(argv[4], p.damage.kind)) s = vae::Status::error(std::string("no damage ") + argv[4]);
  if (s && argc > 5 && !vae::block_from_name(argv[5], p.damage.block)) s = vae::Status::error(std::string("no block ") + argv[5]);
  if (!s) {
    std::fprintf(stderr, "e2e_repair_state: %s\n", s.message().c_str());
    return 1;
  }
  app::app_update(a);
  std::printf("%s\n", app::app_state_json(a).c_str());
  return 0;
}
