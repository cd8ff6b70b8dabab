// The studio's JSON writer (json_out.hpp).
#include "app/json_out.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "vae/json.hpp"

namespace app {

void JsonOut::value_start() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) s_ += ',';
    first_.back() = false;
  }
}

JsonOut& JsonOut::begin_object() {
  value_start();
  s_ += '{';
  first_.push_back(true);
  return *this;
}

JsonOut& JsonOut::end_object() {
  s_ += '}';
  first_.pop_back();
  return *this;
}

JsonOut& JsonOut::begin_array() {
  value_start();
  s_ += '[';
  first_.push_back(true);
  return *this;
}

JsonOut& JsonOut::end_array() {
  s_ += ']';
  first_.pop_back();
  return *this;
}

JsonOut& JsonOut::key(const std::string& k) {
  value_start();
  s_ += vae::json_quote(k);
  s_ += ':';
  after_key_ = true;
  return *this;
}

JsonOut& JsonOut::num(double x) {
  value_start();
  if (!std::isfinite(x)) {
    s_ += "null";
    return *this;
  }
  char b[40];
  std::snprintf(b, sizeof b, "%.6g", x);
  s_ += b;
  return *this;
}

JsonOut& JsonOut::integer(long long x) {
  value_start();
  s_ += std::to_string(x);
  return *this;
}

JsonOut& JsonOut::str(const std::string& v) {
  value_start();
  s_ += vae::json_quote(v);
  return *this;
}

JsonOut& JsonOut::boolean(bool b) {
  value_start();
  s_ += b ? "true" : "false";
  return *this;
}

JsonOut& JsonOut::null() {
  value_start();
  s_ += "null";
  return *this;
}

JsonOut& JsonOut::floats(const std::vector<float>& v) {
  begin_array();
  for (float x : v) num(x);
  return end_array();
}

}  // namespace app
