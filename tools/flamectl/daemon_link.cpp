#include "daemon_link.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace flamectl {

void report_error(const Globals& g, const std::string& message, const std::string& reason) {
  std::fprintf(stderr, "flamectl: %s\n", message.c_str());
  if (g.json)
    std::printf("%s\n", nlohmann::json{{"ok", false}, {"error", message}, {"reason", reason}}.dump().c_str());
}

static flame::ClientOptions options(const Globals& g) {
  flame::ClientOptions o;
  o.socket_path = g.socket;
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000));
  o.retry_interval = std::chrono::milliseconds(0);
  o.warn = false;  // flamectl reports failures itself
  return o;
}

DaemonLink::DaemonLink(const Globals& g) : g_(g), client_(options(g)) {}

std::string DaemonLink::unreachable_reason() const {
  switch (client_.last_failure()) {
    case flame::Unavailable::Absent:
    case flame::Unavailable::Refused:
      return "not-running";
    case flame::Unavailable::Denied:
      return "access-denied";
    case flame::Unavailable::Timeout:
      return "timeout";
    case flame::Unavailable::Closed:
      return "closed";
    default:
      return "unreachable";
  }
}

std::optional<nlohmann::json> DaemonLink::call(const nlohmann::json& request) {
  const auto reply = client_.request(request.dump());
  if (!reply) {
    report_error(g_, client_.last_error(), unreachable_reason());
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(reply->raw);
  } catch (const nlohmann::json::exception&) {
    report_error(g_, "flamed sent a reply that is not JSON: " + reply->raw, "protocol");
    return std::nullopt;
  }
}

bool DaemonLink::hello(const std::string& app) {
  const auto r = call({{"op", "hello"}, {"proto", 1}, {"app", app}});
  if (!r) return false;
  if (!r->value("ok", false)) {
    report_error(g_, "flamed refused hello: " + r->value("error", std::string("?")), "protocol");
    return false;
  }
  client_number_ = r->value("client", -1);
  return true;
}

}  // namespace flamectl
