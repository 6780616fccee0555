// Trace reader on simdjson On Demand: one streaming pass; unknown fields are skipped unparsed.
// Needs simdjson >= 2 (current_location, INCOMPLETE_ARRAY_OR_OBJECT); see docs/platforms.md.
#ifdef FLAME_HAVE_SIMDJSON
#include <simdjson.h>

#include "flame/trace/detail/trace_event_collector.hpp"
#include "flame/trace/detail/trace_json_readers.hpp"

namespace flame::trace {
namespace {

using namespace detail;
namespace od = simdjson::ondemand;

// A correlation id as written: an integer, or a float with no fraction (a few exporters).
std::optional<std::int64_t> correlation_of(od::value v) {
  std::int64_t id = 0;
  if (v.get_int64().get(id) == simdjson::SUCCESS) return id;
  double d = 0;
  if (v.get_double().get(d) == simdjson::SUCCESS && d == static_cast<double>(static_cast<std::int64_t>(d)))
    return static_cast<std::int64_t>(d);
  return std::nullopt;
}

// Reads what "args" holds for us (a launch's or GPU op's correlation id, a layer call's flame_*
// description), leaving every other argument untouched.
void read_args(od::value args, RawEvent& ev) {
  od::object obj;
  if (args.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    const std::string_view key = field.unescaped_key().value();
    if (key == "correlation") {
      if (!ev.correlation) ev.correlation = correlation_of(field.value());
    } else if (key == kLayerTypeArg) {
      std::string_view s;
      if (field.value().get_string().get(s) == simdjson::SUCCESS) ev.layer_type = s;
    } else if (key.starts_with("flame_")) {
      model::SegmentFeatures f = ev.features.value_or(model::SegmentFeatures{});
      double v = 0;
      if (double* slot = layer_feature_arg(f, key);
          slot && field.value().get_double().get(v) == simdjson::SUCCESS) {
        *slot = v;
        ev.features = f;
      }
    }
  }
}

RawEvent read_event(od::object obj) {
  RawEvent ev;
  for (auto field : obj) {
    const od::raw_json_string key = field.key();
    if (key == "ph") {
      ev.ph = field.value().get_string().value();
    } else if (key == "cat") {
      ev.cat = field.value().get_string().value();
    } else if (key == "name") {
      std::string_view s;
      // Names are strings in Kineto; anything else is not one of our annotations.
      if (field.value().get_string().get(s) == simdjson::SUCCESS) ev.name = s;
    } else if (key == "ts") {
      ev.ts = trim_right(field.value().raw_json_token().value());
    } else if (key == "dur") {
      ev.dur = trim_right(field.value().raw_json_token().value());
    } else if (key == "args") {
      // Only launches, GPU ops and layer calls need args; skip the (large) args of everything else
      // when the category is already known.
      const Role role = ev.cat ? classify(*ev.cat).role : Role::Launch;
      if (role == Role::Launch || role == Role::Gpu || role == Role::Annotation) read_args(field.value(), ev);
    }
  }
  return ev;
}

void read_events(od::array events, EventCollector& collector, std::size_t& n_events,
                 std::string_view source) {
  for (auto element : events) {
    od::object obj;
    if (const auto err = element.get_object().get(obj); err != simdjson::SUCCESS) {
      if (err != simdjson::INCORRECT_TYPE) throw simdjson::simdjson_error(err);
      throw TraceError(source, "traceEvents[" + std::to_string(n_events) + "] is not a JSON object");
    }
    collector.add(n_events, read_event(obj));
    ++n_events;
  }
}

// Kineto's wall-clock anchor (integer nanoseconds); anything else is ignored.
std::optional<std::int64_t> base_time(od::value v) {
  std::int64_t ns = 0;
  if (v.get_int64().get(ns) == simdjson::SUCCESS) return ns;
  return std::nullopt;
}

// Byte offset of the parser's position; npos when it has none.
std::size_t error_offset(od::document& doc, const std::string& json) {
  const char* at = nullptr;
  if (doc.current_location().get(at) != simdjson::SUCCESS || at == nullptr) return std::string::npos;
  const auto offset = at - json.data();
  if (offset < 0) return std::string::npos;
  return std::min(static_cast<std::size_t>(offset), json.size());
}

}  // namespace

TraceEvents read_trace_json_simdjson(std::string json, std::string_view source) {
  const std::size_t size = json.size();
  if (json.capacity() < size + simdjson::SIMDJSON_PADDING) json.reserve(size + simdjson::SIMDJSON_PADDING);

  EventCollector collector(source);
  std::optional<std::int64_t> base_time_ns;
  std::size_t n_events = 0;
  bool in_events = false;  // where a JSON error happened, for the message
  bool iterating = false;  // a default-constructed document has no position to report
  od::parser parser;
  od::document doc;
  try {
    doc = parser.iterate(simdjson::padded_string_view(json.data(), size, json.capacity()));
    iterating = true;
    bool found = false;
    switch (doc.type().value()) {
      case od::json_type::array:  // the bare-array form of the Chrome trace format
        in_events = true;
        read_events(doc.get_array(), collector, n_events, source);
        in_events = false;
        found = true;
        break;
      case od::json_type::object:
        for (auto field : doc.get_object()) {
          const od::raw_json_string key = field.key();
          if (key == "baseTimeNanoseconds") {
            base_time_ns = base_time(field.value());
            continue;
          }
          if (key != "traceEvents") continue;
          if (found) throw TraceError(source, "more than one \"traceEvents\" member");
          od::array events;
          if (field.value().get_array().get(events) != simdjson::SUCCESS) {
            throw TraceError(source, "\"traceEvents\" is not an array");
          }
          in_events = true;
          read_events(events, collector, n_events, source);
          in_events = false;
          found = true;
        }
        break;
      default:
        throw TraceError(source, "not a Chrome trace: the JSON is neither an object nor an array");
    }
    if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS)
      throw TraceError(source, "unexpected content after the end of the JSON document");
    if (!found)
      throw TraceError(source, "no \"traceEvents\" array: not a Chrome trace (torch.profiler export)");
  } catch (const simdjson::simdjson_error& e) {
    // simdjson checks up front that the root value is closed at the end of the text, so a cut-off
    // file fails here before any event is read.
    if (e.error() == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || e.error() == simdjson::UNCLOSED_STRING) {
      throw TraceError(source,
                       "truncated JSON: the text (" + std::to_string(size) +
                           " bytes) ends before its objects, arrays or strings are closed, or has content "
                           "after its end (" +
                           e.what() + ")");
    }
    const std::size_t offset = iterating ? error_offset(doc, json) : std::string::npos;
    const std::string where =
        in_events ? " in traceEvents[" + std::to_string(n_events) + "]" : std::string(" outside traceEvents");
    if (offset == size) {  // cut right after a complete event: the array never closes
      throw TraceError(source, "truncated JSON: the text (" + std::to_string(size) + " bytes) ends" + where);
    }
    const std::string what =
        e.error() == simdjson::INCORRECT_TYPE ? "unexpected JSON type" : "malformed JSON";
    throw TraceError(source, what + where + " (" + e.what() + ")" +
                                 (offset != std::string::npos
                                      ? " near byte " + std::to_string(offset) + " of " + std::to_string(size)
                                      : std::string()));
  }
  TraceEvents out = std::move(collector).take();
  out.n_events = n_events;
  out.base_time_ns = base_time_ns;
  return out;
}

}  // namespace flame::trace
#endif  // FLAME_HAVE_SIMDJSON
