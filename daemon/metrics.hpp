#pragma once
// Prometheus text exposition of the governor's state, for node_exporter's textfile collector.
#include <string>

#include "governor.hpp"

namespace flamed {

std::string prometheus_text(const Governor& governor);

}  // namespace flamed
