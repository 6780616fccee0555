#pragma once
// Human-readable rendering of flamed's replies (flamectl without --json).
#include <nlohmann/json.hpp>
#include <string>

namespace flamectl {

std::string format_clocks(const nlohmann::json& clocks);  // "CPU 1420.8 MHz x4, GPU 918 MHz, EMC 2133 MHz"
std::string format_status(const nlohmann::json& status);
// The table of active requests (status "detail":"requests"); `total`: how many there are in all.
std::string format_requests(const nlohmann::json& requests, size_t total);
std::string format_models(const nlohmann::json& status);
std::string format_applied(const nlohmann::json& status);
std::string format_begin(const nlohmann::json& reply);
std::string format_end(const nlohmann::json& reply);

}  // namespace flamectl
