// The studio's state JSON (app_state_json) is a nlohmann/json tree that each panel fills in (panel_json) and
// that is written once, here. Members keep the order they were set in; non-finite numbers are written as null.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace app {

using Json = nlohmann::ordered_json;

// v when known, else null (a figure that does not exist yet, never a made-up number).
template <class T>
Json json_or_null(bool known, const T& v) {
  return known ? Json(v) : Json(nullptr);
}

// Compact text. Bytes that are not UTF-8 (a file name, say) become U+FFFD instead of aborting the module, which
// is what nlohmann/json does on them when built without exceptions (JSON_NOEXCEPTION, as here).
std::string json_text(const Json& j);

}  // namespace app
