#pragma once
// The two JSON readers behind parse_trace_events (which checks the text's first byte, then picks
// simdjson when the build has it, else nlohmann-json). Both throw TraceError naming `source`.
#include <string>
#include <string_view>

#include "flame/trace/trace_events.hpp"

namespace flame::trace {

#ifdef FLAME_HAVE_SIMDJSON
// One streaming pass with simdjson On Demand; `json` is padded in place.
TraceEvents read_trace_json_simdjson(std::string json, std::string_view source);
#endif

// The portable reader (nlohmann-json DOM), for builds without simdjson >= 2 such as Ubuntu 22.04.
TraceEvents read_trace_json_nlohmann(const std::string& json, std::string_view source);

}  // namespace flame::trace
