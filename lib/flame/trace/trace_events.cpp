#include "flame/trace/trace_events.hpp"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "flame/trace/trace_error.hpp"
#include "flame/trace/trace_time.hpp"

namespace flame {
namespace {

namespace od = simdjson::ondemand;

// What an event can contribute, decided by its "cat".
enum class Role {
  Annotation,  // user_annotation or no cat: iteration markers and layer calls
  CpuOp,       // cpu_op: may carry ProfilerStep#N / iter<k> in some torch versions
  HostOther,   // python_function: only widens the host extent
  Launch,      // cuda_runtime / cuda_driver
  Gpu,         // kernel / gpu_memcpy / gpu_memset
  Ignored,
};

struct Category {
  Role role = Role::Ignored;
  GpuOpKind gpu_kind = GpuOpKind::Kernel;
};

// Kineto names; the capitalised ones are what torch < 1.10 wrote.
Category classify(std::string_view cat) {
  if (cat == "user_annotation") return {Role::Annotation};
  if (cat == "cpu_op" || cat == "Operator") return {Role::CpuOp};
  if (cat == "cuda_runtime" || cat == "cuda_driver" || cat == "Runtime") return {Role::Launch};
  if (cat == "kernel" || cat == "Kernel") return {Role::Gpu, GpuOpKind::Kernel};
  if (cat == "gpu_memcpy" || cat == "Memcpy") return {Role::Gpu, GpuOpKind::Memcpy};
  if (cat == "gpu_memset" || cat == "Memset") return {Role::Gpu, GpuOpKind::Memset};
  if (cat == "python_function") return {Role::HostOther};
  return {Role::Ignored};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_iteration_name(std::string_view name) {
  return name.starts_with("iter") && all_digits(name.substr(4));
}

bool is_profiler_step_name(std::string_view name) {
  constexpr std::string_view kPrefix = "ProfilerStep#";
  return name.starts_with(kPrefix) && all_digits(name.substr(kPrefix.size()));
}

// `u<index>:<module path>` -> (index, module path).
std::optional<std::pair<int, std::string_view>> parse_call_name(std::string_view name) {
  if (name.size() < 3 || name[0] != 'u') return std::nullopt;
  const auto colon = name.find(':');
  if (colon == std::string_view::npos || colon + 1 >= name.size()) return std::nullopt;
  const std::string_view digits = name.substr(1, colon - 1);
  if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
  int index = 0;
  for (char c : digits) index = index * 10 + (c - '0');
  return std::pair{index, name.substr(colon + 1)};
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The fields of one event that matter; string views point into the parser's buffers, which
// live as long as the document.
struct RawEvent {
  std::optional<std::string_view> ph, cat, name;
  std::optional<std::string_view> ts, dur;  // raw number text, microseconds
  std::optional<std::int64_t> correlation;
};

class EventCollector {
 public:
  explicit EventCollector(std::string_view source) { out_.source = source; }

  void add(std::size_t index, const RawEvent& ev) {
    const Category cat = ev.cat ? classify(*ev.cat) : Category{Role::Annotation};
    switch (cat.role) {
      case Role::Ignored:
        return;
      case Role::Annotation:
      case Role::CpuOp:
        add_host_range(index, ev, cat.role);
        return;
      case Role::HostOther:
        if (is_complete(ev) && ev.ts && ev.dur) widen_host(ns(index, ev, "ts"), ns(index, ev, "dur"));
        return;
      case Role::Launch:
        add_launch(index, ev);
        return;
      case Role::Gpu:
        add_gpu_op(index, ev, cat.gpu_kind);
        return;
    }
  }

  TraceEvents take() && { return std::move(out_); }

 private:
  static bool is_complete(const RawEvent& ev) { return ev.ph && *ev.ph == "X"; }

  [[noreturn]] void fail(std::size_t index, const RawEvent& ev, std::string_view what) const {
    std::string msg = "traceEvents[" + std::to_string(index) + "]";
    if (ev.name) msg += " '" + std::string(ev.name->substr(0, 80)) + "'";
    if (ev.cat) msg += " (cat " + std::string(*ev.cat) + ")";
    msg += ": ";
    msg += what;
    throw TraceError(out_.source, msg);
  }

  std::int64_t ns(std::size_t index, const RawEvent& ev, const char* field) const {
    const auto& text = std::string_view(field) == "ts" ? ev.ts : ev.dur;
    if (!text) fail(index, ev, std::string("missing required field '") + field + "'");
    const auto v = microseconds_text_to_ns(*text);
    if (!v)
      fail(index, ev, std::string("'") + field + "' is not a number: " + std::string(text->substr(0, 40)));
    if (std::string_view(field) == "dur" && *v < 0) fail(index, ev, "negative 'dur'");
    return *v;
  }

  void widen_host(std::int64_t start, std::int64_t dur) {
    const std::int64_t end = start + dur;
    if (!out_.has_host_extent) {
      out_.host_begin_ns = start;
      out_.host_end_ns = end;
      out_.has_host_extent = true;
    } else {
      out_.host_begin_ns = std::min(out_.host_begin_ns, start);
      out_.host_end_ns = std::max(out_.host_end_ns, end);
    }
  }

  void add_host_range(std::size_t index, const RawEvent& ev, Role role) {
    if (!is_complete(ev)) return;  // instants, flows, metadata and B/E pairs carry no range we use
    const std::string_view name = ev.name.value_or(std::string_view{});
    const bool iteration = is_iteration_name(name);
    const bool step = is_profiler_step_name(name);
    const auto call = role == Role::Annotation ? parse_call_name(name) : std::nullopt;
    const bool marker = iteration || step || call;
    if (!marker && (!ev.ts || !ev.dur)) return;  // an odd cpu_op is not our business
    const std::int64_t start = ns(index, ev, "ts");
    const std::int64_t dur = ns(index, ev, "dur");
    widen_host(start, dur);
    if (iteration) out_.iterations.push_back({start, start + dur, std::string(name)});
    if (step) out_.profiler_steps.push_back({start, start + dur, std::string(name)});
    if (call) out_.calls.push_back({start, start + dur, call->first, std::string(call->second)});
  }

  void add_launch(std::size_t index, const RawEvent& ev) {
    // Runtime calls without a correlation (cudaGetDevice, ...) launch nothing.
    if (!ev.correlation) {
      if (is_complete(ev) && ev.ts && ev.dur) widen_host(ns(index, ev, "ts"), ns(index, ev, "dur"));
      return;
    }
    const std::int64_t ts = ns(index, ev, "ts");
    if (ev.dur) widen_host(ts, ns(index, ev, "dur"));
    out_.launches.push_back({*ev.correlation, ts});
  }

  void add_gpu_op(std::size_t index, const RawEvent& ev, GpuOpKind kind) {
    if (ev.ph && *ev.ph != "X") return;  // flow arrows may reuse GPU categories in some exporters
    const std::int64_t ts = ns(index, ev, "ts");
    const std::int64_t dur = ns(index, ev, "dur");
    if (!ev.correlation) fail(index, ev, "missing required field 'args.correlation'");
    out_.gpu_ops.push_back({kind, *ev.correlation, ts, dur});
  }

  TraceEvents out_;
};

// Reads a correlation id out of "args", leaving every other argument untouched.
std::optional<std::int64_t> find_correlation(od::value args) {
  od::object obj;
  if (args.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  for (auto field : obj) {
    if (field.key().value() != "correlation") continue;
    od::value v = field.value();
    std::int64_t id = 0;
    if (v.get_int64().get(id) == simdjson::SUCCESS) return id;
    double d = 0;  // a few exporters write ids as floats
    if (v.get_double().get(d) == simdjson::SUCCESS &&
        d == static_cast<double>(static_cast<std::int64_t>(d))) {
      return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
  }
  return std::nullopt;
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
      // Only launches and GPU ops need args; skip the (large) args of everything else when the
      // category is already known.
      const Role role = ev.cat ? classify(*ev.cat).role : Role::Launch;
      if (role == Role::Launch || role == Role::Gpu) ev.correlation = find_correlation(field.value());
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

// Byte offset of the parser's position; npos when it has none.
std::size_t error_offset(od::document& doc, const std::string& json) {
  const char* at = nullptr;
  if (doc.current_location().get(at) != simdjson::SUCCESS || at == nullptr) return std::string::npos;
  const auto offset = at - json.data();
  if (offset < 0) return std::string::npos;
  return std::min(static_cast<std::size_t>(offset), json.size());
}

}  // namespace

TraceEvents parse_trace_events(std::string json, std::string_view source) {
  if (trim_right(json).empty()) throw TraceError(source, "empty trace (no JSON text)");
  const std::size_t size = json.size();
  if (const auto first = json.find_first_not_of(" \t\r\n"); json[first] != '{' && json[first] != '[') {
    // Not even the start of a JSON document: say so rather than quote a parser error.
    const unsigned char c = static_cast<unsigned char>(json[first]);
    const std::string shown =
        c >= 0x20 && c < 0x7f ? "'" + std::string(1, json[first]) + "'" : "byte " + std::to_string(c);
    throw TraceError(source, "not a JSON trace: the text starts with " + shown +
                                 ", expected a Chrome-trace JSON object or array (or its gzip)");
  }
  if (json.capacity() < size + simdjson::SIMDJSON_PADDING) json.reserve(size + simdjson::SIMDJSON_PADDING);

  EventCollector collector(source);
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
  return out;
}

}  // namespace flame
