#pragma once
// `flamectl begin` / `flamectl end` for shell scripts. The daemon releases a request when its
// connection closes, so `begin` leaves a small holder process behind that keeps the connection
// (renewing the request) until `flamectl end --id N` tells it, through a private Unix socket, to
// send end with the measured latency. A holder gives up after --max-hold-s.
#include <optional>

#include "daemon_link.hpp"
#include "lease.hpp"

namespace flamectl {

struct HoldOptions {
  BeginArgs args;
  double max_hold_s = 600;
  bool id_given = false;
};

int begin_command(const Globals& g, HoldOptions o);
int end_command(const Globals& g, int64_t id, std::optional<double> latency_ms);

}  // namespace flamectl
