#pragma once
// What the trace readers share: which events matter (by "cat") and how one event's fields become
// the profile's ranges, launches and GPU ops. The JSON reading itself is in trace_json_*.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/detail/trace_time.hpp"
#include "flame/trace/trace_events.hpp"

namespace flame::trace::detail {

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
inline Category classify(std::string_view cat) {
  if (cat == "user_annotation") return {Role::Annotation};
  if (cat == "cpu_op" || cat == "Operator") return {Role::CpuOp};
  if (cat == "cuda_runtime" || cat == "cuda_driver" || cat == "Runtime") return {Role::Launch};
  if (cat == "kernel" || cat == "Kernel") return {Role::Gpu, GpuOpKind::Kernel};
  if (cat == "gpu_memcpy" || cat == "Memcpy") return {Role::Gpu, GpuOpKind::Memcpy};
  if (cat == "gpu_memset" || cat == "Memset") return {Role::Gpu, GpuOpKind::Memset};
  if (cat == "python_function") return {Role::HostOther};
  return {Role::Ignored};
}

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline bool is_iteration_name(std::string_view name) {
  return name.starts_with("iter") && all_digits(name.substr(4));
}

inline bool is_profiler_step_name(std::string_view name) {
  constexpr std::string_view kPrefix = "ProfilerStep#";
  return name.starts_with(kPrefix) && all_digits(name.substr(kPrefix.size()));
}

// `u<index>:<module path>` -> (index, module path).
inline std::optional<std::pair<int, std::string_view>> parse_call_name(std::string_view name) {
  if (name.size() < 3 || name[0] != 'u') return std::nullopt;
  const auto colon = name.find(':');
  if (colon == std::string_view::npos || colon + 1 >= name.size()) return std::nullopt;
  const std::string_view digits = name.substr(1, colon - 1);
  if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
  int index = 0;
  for (char c : digits) index = index * 10 + (c - '0');
  return std::pair{index, name.substr(colon + 1)};
}

inline std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Argument names a layer call's range carries its description under (docs/trace-format.md).
inline constexpr std::string_view kLayerTypeArg = "flame_type";

// The feature a numeric `flame_*` argument sets; nullptr for any other argument.
inline double* layer_feature_arg(model::SegmentFeatures& f, std::string_view key) {
  if (key == "flame_macs") return &f.macs;
  if (key == "flame_flops") return &f.flops;
  if (key == "flame_bytes_in") return &f.bytes_in;
  if (key == "flame_bytes_out") return &f.bytes_out;
  if (key == "flame_param_bytes") return &f.param_bytes;
  return nullptr;
}

// The fields of one event that matter; string views point into the parser's buffers, which
// live as long as the document.
struct RawEvent {
  std::optional<std::string_view> ph, cat, name;
  std::optional<std::string_view> ts, dur;  // raw number text, microseconds
  std::optional<std::int64_t> correlation;
  std::optional<std::string_view> layer_type;      // args.flame_type
  std::optional<model::SegmentFeatures> features;  // set when any numeric flame_* argument is
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
    if (call) {
      if (ev.features) check_features(index, ev, *ev.features);
      out_.calls.push_back({start, start + dur, call->first, std::string(call->second),
                            std::string(ev.layer_type.value_or(std::string_view{})), ev.features});
    }
  }

  void check_features(std::size_t index, const RawEvent& ev, const model::SegmentFeatures& f) const {
    for (double v : {f.macs, f.flops, f.bytes_in, f.bytes_out, f.param_bytes})
      if (!std::isfinite(v) || v < 0) fail(index, ev, "a flame_* feature argument is negative or not finite");
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

}  // namespace flame::trace::detail
