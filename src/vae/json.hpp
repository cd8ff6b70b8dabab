// A small strict JSON (RFC 8259) parser and string quoter, just enough for safetensors headers.
// Not a general JSON library: no streaming, no comments, no NaN/Infinity literals, no serialiser beyond json_quote.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vae/status.hpp"

namespace vae {

enum class JsonKind { Null, Bool, Int, Number, String, Array, Object };

struct JsonMember;

struct JsonValue {
  JsonKind kind = JsonKind::Null;
  bool boolean = false;             // kind Bool
  int64_t integer = 0;              // kind Int: a number written without '.', 'e' or 'E' that fits in int64
  double number = 0.0;              // kind Int or Number: the value as a double
  std::string string;               // kind String: decoded to UTF-8 (may contain NUL from \u0000)
  std::vector<JsonValue> array;     // kind Array
  std::vector<JsonMember> object;   // kind Object: members in file order, keys unique

  // The member named key of an object, or nullptr (also when this is not an object).
  const JsonValue* get(const std::string& key) const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Containers nested deeper than this are rejected (the parser recurses once per level).
constexpr int kJsonMaxDepth = 64;

// Parses exactly one JSON value from text[0, size), surrounded only by whitespace (space, tab, CR, LF).
// Rejects: invalid UTF-8 inside strings, raw control characters, unpaired surrogates, duplicate object keys,
// leading zeros, trailing garbage, numbers too large for a double, nesting deeper than max_depth.
// Error messages end with "at byte N" (offset into text). out is replaced only on success.
Status json_parse(const char* text, size_t size, JsonValue& out, int max_depth = kJsonMaxDepth);
Status json_parse(const std::string& text, JsonValue& out, int max_depth = kJsonMaxDepth);

// s as a JSON string literal with its quotes: escapes '"', '\\' and the control characters below 0x20
// (\b \f \n \r \t, else \u00XX); all other bytes, including UTF-8 sequences, are copied unchanged.
std::string json_quote(const std::string& s);

// True if s[0, n) is well-formed UTF-8: no overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF.
bool json_utf8_valid(const char* s, size_t n);

}  // namespace vae
