#pragma once
// The time flamed gives the policy (flame::policy::TimeMs): milliseconds of the steady clock since
// the daemon started, or, with simulation_clock (a test and simulation option, docs/config.md), the
// time each client request carries in "t_ms" (docs/protocol.md). Simulated time never runs
// backwards: an earlier t_ms is taken as the latest seen.
#include <chrono>
#include <optional>
#include <string>

#include "flame/policy/time.hpp"

namespace flamed {

// The time of one request, or why it has none.
struct RequestTime {
  std::optional<flame::policy::TimeMs> at;
  std::string error;
};

class PolicyClock {
 public:
  using Steady = std::chrono::steady_clock;
  explicit PolicyClock(bool simulated) : simulated_(simulated), epoch_(Steady::now()) {}

  bool simulated() const { return simulated_; }
  // The time of a request that carried `client_ms` (may be absent). No time, and the reason, when
  // the simulation clock needs a time the request did not carry.
  RequestTime request(std::optional<double> client_ms);
  // The time now for events without a request (disconnects, timers, D-Bus): the latest client time
  // under the simulation clock.
  flame::policy::TimeMs now() const;
  // When the steady clock reaches policy time `t` (to arm a timer; wall clock only).
  Steady::time_point steady(flame::policy::TimeMs t) const;

 private:
  bool simulated_;
  Steady::time_point epoch_;
  flame::policy::TimeMs latest_ = 0;  // simulated
};

}  // namespace flamed
