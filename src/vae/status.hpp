// Status: how the engine reports failure. A one-line message the caller shows; the engine never throws,
// prints or exits on bad input.
#pragma once
#include <string>
#include <utility>

namespace vae {

class Status {
 public:
  static Status success() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), false); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& message() const { return message_; }

  // Prefixes context, e.g. the file name: "assets/m.safetensors: header length past end of file".
  Status with_context(const std::string& context) const {
    return ok_ ? *this : error(context + ": " + message_);
  }

 private:
  Status() = default;
  Status(std::string m, bool ok) : message_(std::move(m)), ok_(ok) {}
  std::string message_;
  bool ok_ = true;
};

}  // namespace vae
