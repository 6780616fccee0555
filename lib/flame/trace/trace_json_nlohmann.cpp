// Trace reader on nlohmann-json's SAX interface: one pass, no document tree. Used where simdjson
// is older than 2 (Ubuntu 22.04 ships 1.0.2; docs/platforms.md). SAX hands over a float's text as
// written, so timestamps keep the digits a double would drop, as with simdjson's raw tokens.
#include <charconv>
#include <nlohmann/json.hpp>

#include "flame/trace/detail/trace_event_collector.hpp"
#include "flame/trace/detail/trace_json_readers.hpp"

namespace flame::trace {
namespace {

using namespace detail;
using Json = nlohmann::json;

// One event's fields, owned until the collector has taken them.
struct EventFields {
  std::optional<std::string> ph, cat, name, ts, dur;
  std::optional<std::int64_t> correlation;
  bool correlation_seen = false;
  std::optional<std::string> layer_type;
  std::optional<model::SegmentFeatures> features;
};

enum class Kind { Scalar, String, Object, Array };

class TraceSax final : public nlohmann::json_sax<Json> {
 public:
  TraceSax(std::string_view source, std::size_t size) : source_(source), size_(size), collector_(source) {}

  bool null() override { return value(Kind::Scalar, "null"); }
  bool boolean(bool b) override { return value(Kind::Scalar, b ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return value(Kind::Scalar, std::to_string(v), v); }
  bool number_unsigned(number_unsigned_t v) override {
    if (v > static_cast<number_unsigned_t>(INT64_MAX)) return value(Kind::Scalar, std::to_string(v));
    return value(Kind::Scalar, std::to_string(v), static_cast<std::int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t& text) override {
    // A few exporters write correlation ids as floats.
    const bool integral = v == static_cast<double>(static_cast<std::int64_t>(v));
    return value(Kind::Scalar, text,
                 integral ? std::optional<std::int64_t>(static_cast<std::int64_t>(v)) : std::nullopt);
  }
  bool string(string_t& s) override { return value(Kind::String, s); }
  bool binary(binary_t&) override { return value(Kind::Scalar, "binary"); }

  bool start_object(std::size_t) override {
    value(Kind::Object, "{");
    if (depth_ == events_level_) {
      event_level_ = depth_ + 1;
      event_ = {};
    } else if (depth_ == event_level_ && field_ == "args") {
      args_level_ = depth_ + 1;
    }
    ++depth_;
    return true;
  }
  bool end_object() override {
    if (depth_ == args_level_) args_level_ = 0;
    if (depth_ == event_level_) {
      finish_event();
      event_level_ = 0;
    }
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    const bool events = (depth_ == 0) || (depth_ == 1 && root_key_is_events_);
    value(Kind::Array, "[");
    ++depth_;
    if (events) events_level_ = depth_;
    return true;
  }
  bool end_array() override {
    if (depth_ == events_level_) events_level_ = 0;
    --depth_;
    return true;
  }

  bool key(string_t& k) override {
    if (depth_ == 1) {
      root_key_is_base_ = k == "baseTimeNanoseconds";
      root_key_is_events_ = k == "traceEvents";
      if (root_key_is_events_) {
        if (found_) throw TraceError(source_, "more than one \"traceEvents\" member");
        found_ = true;
      }
    } else if (depth_ == event_level_) {
      field_ = k;
    } else if (depth_ == args_level_) {
      arg_ = k;
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    const std::string what = ex.what();
    const std::string where = events_level_ != 0 ? " in traceEvents[" + std::to_string(n_events_) + "]"
                                                 : std::string(" outside traceEvents");
    // nlohmann-json says "...; expected end of input" of content after the document, and
    // "unexpected end of input; expected ..." of a document cut short.
    if (what.find("; expected end of input") != std::string::npos) {
      throw TraceError(source_, "unexpected content after its end, near byte " + std::to_string(position) +
                                    " of " + std::to_string(size_) + " (" + what + ")");
    }
    if (position >= size_ || what.find("unexpected end of input") != std::string::npos) {
      throw TraceError(source_, "truncated JSON: the text (" + std::to_string(size_) + " bytes) ends" +
                                    where + " before its objects, arrays or strings are closed (" + what +
                                    ")");
    }
    throw TraceError(source_, "malformed JSON" + where + " (" + what + ") near byte " +
                                  std::to_string(position) + " of " + std::to_string(size_));
  }

  TraceEvents take() && {
    if (!found_)
      throw TraceError(source_, "no \"traceEvents\" array: not a Chrome trace (torch.profiler export)");
    TraceEvents out = std::move(collector_).take();
    out.n_events = n_events_;
    out.base_time_ns = base_time_ns_;
    return out;
  }

  void root_is_array() { found_ = true; }

 private:
  // A value (or the start of a container) at the current depth.
  bool value(Kind kind, std::string_view text, std::optional<std::int64_t> integral = std::nullopt) {
    if (depth_ == 1 && root_key_is_base_) {
      root_key_is_base_ = false;
      if (kind == Kind::Scalar) base_time_ns_ = integral;  // Kineto's wall-clock anchor, integer ns
    } else if (depth_ == 1 && root_key_is_events_) {
      root_key_is_events_ = false;
      if (kind != Kind::Array) throw TraceError(source_, "\"traceEvents\" is not an array");
    } else if (depth_ != 0 && depth_ == events_level_ && kind != Kind::Object) {
      throw TraceError(source_, "traceEvents[" + std::to_string(n_events_) + "] is not a JSON object");
    } else if (depth_ != 0 && depth_ == event_level_) {
      event_field(kind, text);
    } else if (depth_ != 0 && depth_ == args_level_) {
      event_arg(kind, text, integral);
    }
    return true;
  }

  void event_arg(Kind kind, std::string_view text, std::optional<std::int64_t> integral) {
    if (arg_ == "correlation") {
      if (!event_.correlation_seen) event_.correlation = integral;
      event_.correlation_seen = true;
    } else if (arg_ == kLayerTypeArg) {
      if (kind == Kind::String) event_.layer_type = std::string(text);
    } else if (kind == Kind::Scalar) {
      model::SegmentFeatures f = event_.features.value_or(model::SegmentFeatures{});
      double* slot = layer_feature_arg(f, arg_);
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (slot && ec == std::errc() && end == text.data() + text.size()) {
        *slot = v;
        event_.features = f;
      }
    }
  }

  void event_field(Kind kind, std::string_view text) {
    if (field_ == "ph" || field_ == "cat") {
      if (kind != Kind::String) {
        throw TraceError(source_, "traceEvents[" + std::to_string(n_events_) +
                                      "]: unexpected JSON type for '" + field_ + "' (a string is expected)");
      }
      (field_ == "ph" ? event_.ph : event_.cat) = std::string(text);
    } else if (field_ == "name") {
      if (kind == Kind::String) event_.name = std::string(text);  // anything else is not an annotation
    } else if (field_ == "ts" || field_ == "dur") {
      // Non-numbers keep their JSON look so the error quotes them as written.
      (field_ == "ts" ? event_.ts : event_.dur) =
          kind == Kind::String ? "\"" + std::string(text) + "\"" : std::string(text);
    }
  }

  void finish_event() {
    RawEvent ev;
    if (event_.ph) ev.ph = *event_.ph;
    if (event_.cat) ev.cat = *event_.cat;
    if (event_.name) ev.name = *event_.name;
    if (event_.ts) ev.ts = trim_right(*event_.ts);
    if (event_.dur) ev.dur = trim_right(*event_.dur);
    ev.correlation = event_.correlation;
    if (event_.layer_type) ev.layer_type = *event_.layer_type;
    ev.features = event_.features;
    collector_.add(n_events_, ev);
    ++n_events_;
  }

  std::string_view source_;
  std::size_t size_;
  EventCollector collector_;
  std::size_t n_events_ = 0;
  std::size_t depth_ = 0;         // open containers
  std::size_t events_level_ = 0;  // depth at which traceEvents' elements arrive; 0: not inside
  std::size_t event_level_ = 0;   // depth at which the current event's fields arrive
  std::size_t args_level_ = 0;    // depth at which the current event's args arrive
  bool root_key_is_events_ = false;
  bool root_key_is_base_ = false;
  std::optional<std::int64_t> base_time_ns_;
  bool found_ = false;
  std::string arg_;  // the current key inside an event's args
  std::string field_;
  EventFields event_;
};

}  // namespace

TraceEvents read_trace_json_nlohmann(const std::string& json, std::string_view source) {
  TraceSax sax(source, json.size());
  if (json[json.find_first_not_of(" \t\r\n")] == '[') sax.root_is_array();
  Json::sax_parse(json, &sax);
  return std::move(sax).take();
}

}  // namespace flame::trace
