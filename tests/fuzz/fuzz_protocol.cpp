// libFuzzer target: one client line through the protocol parser (tests/integration/fuzz.sh).
// Whatever the bytes, parse_request must return (no exception, crash or hang), and exactly one of
// request/error must be set; the error reply must serialise (valid UTF-8 handling included).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const flamed::Parsed p = flamed::parse_request(line);
  if (p.request.has_value() == !p.error.empty()) std::abort();
  if (!p.error.empty()) {
    const auto reply = flamed::error_reply(p.id, p.error);
    (void)reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  }
  return 0;
}
