#pragma once
// Prometheus text exposition of the policy's status, for node_exporter's textfile collector.
#include <string>

#include "flame/policy/policy.hpp"

namespace flamed {

std::string prometheus_text(const flame::policy::Status& status);

}  // namespace flamed
