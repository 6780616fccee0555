#pragma once
// The client protocol: newline-delimited JSON over a Unix stream socket (docs/protocol.md).
// Parsing is pure so that every malformed input can be table-tested and fuzzed.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flamed {

inline constexpr int kProtocolVersion = 1;

struct Hello {
  int proto = kProtocolVersion;
  std::string app;
};

struct Begin {
  int64_t id = 0;
  std::string model;
  double deadline_ms = 0;
  std::optional<int> ctx;            // SLM context length
  std::optional<std::string> phase;  // "prefill" or "decode"
};

struct End {
  int64_t id = 0;
  std::optional<double> latency_ms;  // measured latency, for recalibration
};

struct Status {};

using Request = std::variant<Hello, Begin, End, Status>;

struct Parsed {
  std::optional<Request> request;  // set on success
  nlohmann::json id;               // the request's id when it had a usable one, else null
  std::string error;               // set on failure
};

Parsed parse_request(std::string_view line);

nlohmann::json error_reply(const nlohmann::json& id, const std::string& message);

}  // namespace flamed
