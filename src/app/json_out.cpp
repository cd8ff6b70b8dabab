// The studio's state JSON, written (json_out.hpp).
#include "app/json_out.hpp"

namespace app {

std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace app
