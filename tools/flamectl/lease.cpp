#include "lease.hpp"

#include <algorithm>

namespace flamectl {

nlohmann::json begin_request(const BeginArgs& a) {
  nlohmann::json r = {{"op", "begin"}, {"id", a.id}, {"model", a.model}, {"deadline_ms", a.deadline_ms}};
  if (a.ctx) r["ctx"] = *a.ctx;
  if (a.phase) r["phase"] = *a.phase;
  return r;
}

std::optional<nlohmann::json> Lease::begin() {
  auto r = link_.call(begin_request(args_));
  if (r && r->value("ok", false)) learn_expiry();
  return r;
}

void Lease::learn_expiry() {
  // Pages are in (client, id) order: starting just before our own request finds it in one small
  // page however many others are held.
  nlohmann::json req = {{"op", "status"}, {"detail", "requests"}, {"limit", 1000}};
  if (link_.client_number() >= 0 && args_.id > 0)
    req["after"] = std::to_string(link_.client_number()) + ":" + std::to_string(args_.id - 1);
  const auto s = link_.client().request(req.dump());
  if (!s || !s->ok) return;
  const auto status = nlohmann::json::parse(s->raw, nullptr, false);
  if (!status.is_object() || !status.contains("requests") || !status["requests"].is_array()) return;
  for (const auto& a : status["requests"]) {
    if (a.value("id", int64_t{-1}) != args_.id) continue;
    if (link_.client_number() >= 0 && a.value("client", -1) != link_.client_number()) continue;
    const double left = a.value("expires_in_ms", 0.0);
    if (left > 0)
      interval_ = std::chrono::milliseconds(std::max<int64_t>(50, static_cast<int64_t>(left / 3)));
    return;
  }
}

bool Lease::renew() {
  const auto r = link_.client().request(begin_request(args_).dump());
  return r && r->ok;
}

std::optional<nlohmann::json> Lease::end(std::optional<double> latency_ms) {
  nlohmann::json req = {{"op", "end"}, {"id", args_.id}};
  if (latency_ms) req["latency_ms"] = *latency_ms;
  return link_.call(req);
}

}  // namespace flamectl
