#pragma once
// Every failure to read or interpret a profiler trace: the message names the file (or the label
// the caller gave an in-memory trace) and says what is wrong, so a user can act on it.
#include <stdexcept>
#include <string>
#include <string_view>

namespace flame::trace {

class TraceError : public std::runtime_error {
 public:
  TraceError(std::string_view source, std::string_view what)
      : std::runtime_error(std::string(source) + ": " + std::string(what)), source_(source) {}

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

}  // namespace flame::trace
