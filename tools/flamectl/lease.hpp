#pragma once
// A deadline request that flamectl holds for longer than one exchange (`run`, `begin`): the
// daemon expires requests after request_expiry_ms, so the lease re-sends the same begin (which
// replaces the request) every third of the remaining expiry until it is ended, so a stalled
// flamectl still has two thirds of the expiry in hand.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon_link.hpp"

namespace flamectl {

struct BeginArgs {
  int64_t id = 1;
  std::string model;
  double deadline_ms = 0;
  std::optional<int> ctx;
  std::optional<std::string> phase;
};

nlohmann::json begin_request(const BeginArgs& a);

class Lease {
 public:
  Lease(DaemonLink& link, BeginArgs args) : link_(link), args_(std::move(args)) {}

  // Sends begin; the reply (ok or not), or nothing when the daemon is unreachable (reported).
  std::optional<nlohmann::json> begin();
  // How long until the next renewal: a third of the expiry the daemon reports for this request.
  std::chrono::milliseconds renew_interval() const { return interval_; }
  // Re-sends begin; false when the daemon no longer answers or refuses.
  bool renew();
  std::optional<nlohmann::json> end(std::optional<double> latency_ms);
  const BeginArgs& args() const { return args_; }

 private:
  void learn_expiry();

  DaemonLink& link_;
  BeginArgs args_;
  std::chrono::milliseconds interval_{4000};
};

}  // namespace flamectl
