#pragma once
// The few Chrome-trace events the FLAME profile needs, pulled out of a torch.profiler (Kineto)
// trace in one streaming pass. Everything else in the trace (cpu_ops, flows, metadata, python
// stacks) is skipped without being materialised.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flame/model/segment_profile.hpp"

namespace flame::trace {

// A host-side annotation range: `iter<k>` or `ProfilerStep#N`.
struct HostRange {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::string name;
};

// A leaf-module call, annotated as `u<index>:<module path>`.
struct LayerCallRange {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  int index = 0;
  std::string module;
  // What the application said of the layer in the range's args (docs/trace-format.md, "Layer
  // features"): its class and counter-like features; empty / nullopt when it said nothing.
  std::string type;
  std::optional<model::SegmentFeatures> features;
};

// A CUDA runtime/driver call that carries a correlation id (kernel launches, memcpys, ...).
struct LaunchEvent {
  std::int64_t correlation = 0;
  std::int64_t ts_ns = 0;
};

enum class GpuOpKind { Kernel, Memcpy, Memset };

// Device-side work, linked to its launch by the correlation id.
struct GpuOp {
  GpuOpKind kind = GpuOpKind::Kernel;
  std::int64_t correlation = 0;
  std::int64_t ts_ns = 0;
  std::int64_t dur_ns = 0;
};

struct TraceEvents {
  std::string source;                     // file name (or label) used in error messages
  std::vector<HostRange> iterations;      // `iter<k>` annotations
  std::vector<HostRange> profiler_steps;  // `ProfilerStep#N` annotations
  std::vector<LayerCallRange> calls;
  std::vector<LaunchEvent> launches;
  std::vector<GpuOp> gpu_ops;
  // Extent of all host-side ranges (annotations, cpu_ops, runtime calls): the single iteration
  // of a trace without iteration markers.
  bool has_host_extent = false;
  std::int64_t host_begin_ns = 0;
  std::int64_t host_end_ns = 0;
  std::size_t n_events = 0;  // entries of traceEvents, all kinds
  // Top-level `baseTimeNanoseconds` (torch >= 2.4): the Unix time in ns that `ts` 0 stands for.
  std::optional<std::int64_t> base_time_ns;
};

// Parses Chrome-trace JSON (an object with "traceEvents", or a bare event array). `json` is
// taken by value so a buffer from read_trace_text is used in place. Throws TraceError naming
// `source` on malformed/truncated JSON, a missing traceEvents array, or a needed event lacking
// a required field.
TraceEvents parse_trace_events(std::string json, std::string_view source);

}  // namespace flame::trace
