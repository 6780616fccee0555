#pragma once
// Prometheus text exposition of the policy's status, for node_exporter's textfile collector.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/policy/policy.hpp"

namespace flamed {

// What the socket front end counts beside the policy.
struct TransportCounters {
  uint64_t accept_failures = 0;
  uint64_t refused_max_connections = 0;  // limits.max_connections reached
  uint64_t refused_per_uid = 0;          // limits.max_connections_per_uid reached
  uint64_t closed_idle = 0;              // limits.idle_timeout_ms
  uint64_t closed_line_timeout = 0;      // limits.line_timeout_ms
};

// `degraded`: why flamed does not do its whole job (bus_state.hpp degraded_reasons); none = healthy.
std::string prometheus_text(const flame::policy::Status& status, const TransportCounters& transport = {},
                            const std::vector<std::string>& degraded = {});

}  // namespace flamed
