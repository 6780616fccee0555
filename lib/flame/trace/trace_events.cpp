#include "flame/trace/trace_events.hpp"

#include <string_view>
#include <utility>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/detail/trace_event_collector.hpp"
#include "flame/trace/detail/trace_json_readers.hpp"

namespace flame::trace {

TraceEvents parse_trace_events(std::string json, std::string_view source) {
  if (detail::trim_right(json).empty()) throw TraceError(source, "empty trace (no JSON text)");
  if (const auto first = json.find_first_not_of(" \t\r\n"); json[first] != '{' && json[first] != '[') {
    // Not even the start of a JSON document: say so rather than quote a parser error.
    const unsigned char c = static_cast<unsigned char>(json[first]);
    const std::string shown =
        c >= 0x20 && c < 0x7f ? "'" + std::string(1, json[first]) + "'" : "byte " + std::to_string(c);
    throw TraceError(source, "not a JSON trace: the text starts with " + shown +
                                 ", expected a Chrome-trace JSON object or array (or its gzip)");
  }
#ifdef FLAME_HAVE_SIMDJSON
  return read_trace_json_simdjson(std::move(json), source);
#else
  return read_trace_json_nlohmann(json, source);
#endif
}

}  // namespace flame::trace
