#pragma once
// The client protocol: newline-delimited JSON over a Unix stream socket (docs/protocol.md).
// Parsing is pure so that every malformed input can be table-tested and fuzzed.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "flame/policy/policy.hpp"

namespace flamed {

inline constexpr int kProtocolVersion = 1;

struct Hello {
  int proto = kProtocolVersion;
  std::string app;
};

// Every request may carry "t_ms", its time under the simulation clock (docs/protocol.md).
struct Begin : flame::policy::BeginRequest {
  std::optional<double> t_ms;
};

struct End : flame::policy::EndRequest {
  std::optional<double> t_ms;
};

// A status is a summary (counts); "detail":"requests" asks for a page of the active requests
// instead, at most `limit` after the cursor `after` (docs/protocol.md).
inline constexpr size_t kDefaultRequestPage = 100;
inline constexpr size_t kMaxRequestPage = 1000;

struct Status {
  std::optional<double> t_ms;
  bool requests = false;
  size_t limit = kDefaultRequestPage;
  std::optional<flame::policy::RequestKey> after;
};

using Request = std::variant<Hello, Begin, End, Status>;

struct Parsed {
  std::optional<Request> request;  // set on success
  nlohmann::json id;               // the request's id when it had a usable one, else null
  std::string error;               // set on failure
};

Parsed parse_request(std::string_view line);

nlohmann::json error_reply(const nlohmann::json& id, const std::string& message);

// The replies (docs/protocol.md) of the policy's typed results.
nlohmann::json clocks_json(const flame::Clocks& c);
nlohmann::json to_json(const flame::policy::BeginResult& r);
nlohmann::json to_json(const flame::policy::EndResult& r);
// Which active requests a caller sees: everyone's (root, the admin group) or its own uid's.
enum class RequestScope { All, Own };
// `own_requests`: the active requests of the caller's scope (all of them for RequestScope::All).
nlohmann::json to_json(const flame::policy::Status& s, size_t connections,
                       const std::vector<std::string>& degraded = {}, size_t own_requests = 0,
                       RequestScope scope = RequestScope::All);
nlohmann::json to_json(const flame::policy::RequestPage& page, RequestScope scope);
// The cursor of a page ("client:id"), and back; nothing for text that is not one.
std::string cursor_text(const flame::policy::RequestKey& key);
std::optional<flame::policy::RequestKey> parse_cursor(std::string_view text);

}  // namespace flamed
