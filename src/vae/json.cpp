// Recursive-descent JSON parser (RFC 8259 grammar) with a depth bound, and the string quoter.
// Not lenient: anything RFC 8259 does not allow is an error with its byte offset, never a guess.
#include "vae/json.hpp"

#include <cmath>
#include <cstring>
#include <locale>
#include <sstream>
#include <unordered_set>

namespace vae {

const JsonValue* JsonValue::get(const std::string& key) const {
  if (kind != JsonKind::Object) return nullptr;
  for (const JsonMember& m : object)
    if (m.key == key) return &m.value;
  return nullptr;
}

namespace {

// Length (1..4) of the well-formed UTF-8 sequence at p[0, n), or 0 if it is not one.
// Lead bytes: 0xxxxxxx, 110xxxxx, 1110xxxx, 11110xxx; continuation bytes 10xxxxxx.
size_t utf8_sequence(const unsigned char* p, size_t n) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xE0u) == 0xC0u) {
    len = 2, cp = c & 0x1Fu, min = 0x80;
  } else if ((c & 0xF0u) == 0xE0u) {
    len = 3, cp = c & 0x0Fu, min = 0x800;
  } else if ((c & 0xF8u) == 0xF0u) {
    len = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  Parser(const char* s, size_t n, int max_depth) : s_(s), n_(n), max_depth_(max_depth) {}

  Status run(JsonValue& out) {
    JsonValue v;
    skip_ws();
    if (!value(v, 0)) return Status::error(err_);
    skip_ws();
    if (pos_ != n_) {
      fail("trailing characters after the JSON value", pos_);
      return Status::error(err_);
    }
    out = std::move(v);
    return Status::success();
  }

 private:
  bool fail(const std::string& what, size_t at) {
    err_ = what + " at byte " + std::to_string(at);
    return false;
  }

  bool unexpected(size_t at) {
    if (at >= n_) return fail("unexpected end of input", at);
    const unsigned char c = static_cast<unsigned char>(s_[at]);
    if (c >= 0x20 && c < 0x7F) return fail(std::string("unexpected character '") + static_cast<char>(c) + "'", at);
    static const char hex[] = "0123456789abcdef";
    return fail(std::string("unexpected byte 0x") + hex[c >> 4] + hex[c & 15], at);
  }

  void skip_ws() {
    while (pos_ < n_ && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  // depth = number of containers enclosing v.
  bool value(JsonValue& v, int depth) {
    if (pos_ >= n_) return unexpected(pos_);
    switch (s_[pos_]) {
      case '{': return object(v, depth);
      case '[': return array(v, depth);
      case '"': v.kind = JsonKind::String; return string(v.string);
      case 't': v.kind = JsonKind::Bool; v.boolean = true; return literal("true");
      case 'f': v.kind = JsonKind::Bool; v.boolean = false; return literal("false");
      case 'n': v.kind = JsonKind::Null; return literal("null");
      default:
        if (s_[pos_] == '-' || is_digit(s_[pos_])) return number(v);
        return unexpected(pos_);
    }
  }

  bool enter(int depth) {
    if (depth >= max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_) + " levels", pos_);
    return true;
  }

  bool object(JsonValue& v, int depth) {
    if (!enter(depth)) return false;
    v.kind = JsonKind::Object;
    ++pos_;  // '{'
    skip_ws();
    if (pos_ < n_ && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::unordered_set<std::string> seen;
    for (;;) {
      if (pos_ >= n_ || s_[pos_] != '"') {
        if (pos_ >= n_) return unexpected(pos_);
        return fail("expected a string key", pos_);
      }
      const size_t key_at = pos_;
      std::string key;
      if (!string(key)) return false;
      if (!seen.insert(key).second) return fail("duplicate key " + json_quote(key), key_at);
      skip_ws();
      if (pos_ >= n_ || s_[pos_] != ':') return pos_ >= n_ ? unexpected(pos_) : fail("expected ':'", pos_);
      ++pos_;
      skip_ws();
      v.object.push_back(JsonMember{std::move(key), JsonValue()});
      if (!value(v.object.back().value, depth + 1)) return false;
      skip_ws();
      if (pos_ >= n_) return unexpected(pos_);
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or '}'", pos_);
      ++pos_;
      skip_ws();
    }
  }

  bool array(JsonValue& v, int depth) {
    if (!enter(depth)) return false;
    v.kind = JsonKind::Array;
    ++pos_;  // '['
    skip_ws();
    if (pos_ < n_ && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      v.array.emplace_back();
      if (!value(v.array.back(), depth + 1)) return false;
      skip_ws();
      if (pos_ >= n_) return unexpected(pos_);
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or ']'", pos_);
      ++pos_;
      skip_ws();
    }
  }

  bool literal(const char* word) {
    const size_t len = std::strlen(word);
    if (n_ - pos_ < len || std::memcmp(s_ + pos_, word, len) != 0) return fail("invalid literal", pos_);
    pos_ += len;
    return true;
  }

  bool hex4(uint32_t& out) {
    if (n_ - pos_ < 4) return fail("expected 4 hex digits after \\u", pos_);
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_ + i];
      uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
      else return fail("expected 4 hex digits after \\u", pos_);
      out = (out << 4) | d;
    }
    pos_ += 4;
    return true;
  }

  // s_[pos_] is the opening quote.
  bool string(std::string& out) {
    const size_t open = pos_++;
    for (;;) {
      if (pos_ >= n_) return fail("unterminated string", open);
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        const size_t esc = pos_++;
        if (pos_ >= n_) return fail("unterminated string", open);
        switch (s_[pos_++]) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate", esc);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              // A high surrogate must be followed by \u and a low surrogate: U+10000 + (hi-D800)*400h + (lo-DC00).
              if (n_ - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u')
                return fail("unpaired high surrogate", esc);
              pos_ += 2;
              uint32_t lo = 0;
              if (!hex4(lo)) return false;
              if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired high surrogate", esc);
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default: return fail("invalid escape", esc);
        }
      } else if (c < 0x20) {
        return fail("control character in string", pos_);
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const size_t len = utf8_sequence(reinterpret_cast<const unsigned char*>(s_ + pos_), n_ - pos_);
        if (len == 0) return fail("invalid UTF-8", pos_);
        out.append(s_ + pos_, len);
        pos_ += len;
      }
    }
  }

  // Grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number(JsonValue& v) {
    const size_t start = pos_;
    const bool negative = s_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= n_ || !is_digit(s_[pos_])) return pos_ >= n_ ? unexpected(pos_) : fail("expected a digit", pos_);
    if (s_[pos_] == '0') {
      ++pos_;
      if (pos_ < n_ && is_digit(s_[pos_])) return fail("leading zero in number", start);
    } else {
      while (pos_ < n_ && is_digit(s_[pos_])) ++pos_;
    }
    bool integral = true;
    if (pos_ < n_ && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= n_ || !is_digit(s_[pos_])) return fail("expected a digit after '.'", pos_);
      while (pos_ < n_ && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < n_ && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < n_ && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= n_ || !is_digit(s_[pos_])) return fail("expected a digit in exponent", pos_);
      while (pos_ < n_ && is_digit(s_[pos_])) ++pos_;
    }
    if (integral) {
      // Exact int64 if it fits (magnitude up to 2^63 when negative, 2^63 - 1 otherwise); else a double.
      uint64_t mag = 0;
      bool fits = true;
      for (size_t i = start + (negative ? 1 : 0); i < pos_ && fits; ++i) {
        const uint64_t d = static_cast<uint64_t>(s_[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) fits = false;
        else mag = mag * 10 + d;
      }
      const uint64_t limit = negative ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
      if (fits && mag <= limit) {
        v.kind = JsonKind::Int;
        if (!negative) v.integer = static_cast<int64_t>(mag);
        else if (mag == (uint64_t{1} << 63)) v.integer = INT64_MIN;
        else v.integer = -static_cast<int64_t>(mag);
        v.number = static_cast<double>(v.integer);
        return true;
      }
    }
    // Conversion in the classic locale, so a decimal comma locale cannot change the result.
    std::istringstream in(std::string(s_ + start, pos_ - start));
    in.imbue(std::locale::classic());
    double d = 0.0;
    in >> d;
    if (in.fail() || !std::isfinite(d)) return fail("number out of range", start);
    v.kind = JsonKind::Number;
    v.number = d;
    return true;
  }

  const char* s_;
  size_t n_;
  int max_depth_;
  size_t pos_ = 0;
  std::string err_;
};

}  // namespace

Status json_parse(const char* text, size_t size, JsonValue& out, int max_depth) {
  if (text == nullptr) size = 0;
  static const char empty[1] = {0};
  Parser p(text ? text : empty, size, max_depth);
  return p.run(out);
}

Status json_parse(const std::string& text, JsonValue& out, int max_depth) {
  return json_parse(text.data(), text.size(), out, max_depth);
}

std::string json_quote(const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

bool json_utf8_valid(const char* s, size_t n) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < n) {
    const size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace vae
