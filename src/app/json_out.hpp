// A JSON writer for the studio's state (app_state_json): objects, arrays, numbers ("%.6g", null when not
// finite), strings (vae::json_quote) and booleans, with the commas placed for the caller. Not a parser.
#pragma once
#include <string>
#include <vector>

namespace app {

class JsonOut {
 public:
  JsonOut& begin_object();
  JsonOut& end_object();
  JsonOut& begin_array();
  JsonOut& end_array();
  JsonOut& key(const std::string& k);  // inside an object: the next value's name
  JsonOut& num(double x);
  JsonOut& integer(long long x);  // counters, whole: never in exponent notation
  JsonOut& str(const std::string& s);
  JsonOut& boolean(bool b);
  JsonOut& null();
  JsonOut& floats(const std::vector<float>& v);
  // key + value in one call.
  JsonOut& field(const std::string& k, double x) { return key(k).num(x); }
  JsonOut& field(const std::string& k, int x) { return key(k).integer(x); }
  JsonOut& field(const std::string& k, const std::string& s) { return key(k).str(s); }
  JsonOut& field(const std::string& k, const char* s) { return key(k).str(s); }
  JsonOut& field(const std::string& k, bool b) { return key(k).boolean(b); }
  JsonOut& field(const std::string& k, const std::vector<float>& v) { return key(k).floats(v); }
  const std::string& text() const { return s_; }

 private:
  void value_start();
  std::string s_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace app
