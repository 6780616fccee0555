#pragma once
// Prometheus text exposition of the policy's status, for node_exporter's textfile collector.
#include <cstdint>
#include <string>

#include "flame/policy/policy.hpp"

namespace flamed {

// What the socket front end counts beside the policy.
struct TransportCounters {
  uint64_t accept_failures = 0;
};

std::string prometheus_text(const flame::policy::Status& status, const TransportCounters& transport = {});

}  // namespace flamed
