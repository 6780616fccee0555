#pragma once
// A segment profile built from a profiler trace alone: iterations, leaf-module calls and the
// glue between them, with each GPU op attributed to the segment whose host span launched it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "flame/model/segment_profile.hpp"
#include "flame/trace/trace_events.hpp"

namespace flame::trace {

// What delimits iterations in the trace.
enum class IterationMarker {
  IterAnnotation,  // `iter<k>` ranges (as profile_coupling.py writes them)
  ProfilerStep,    // `ProfilerStep#N` ranges (torch.profiler schedule + prof.step())
  WholeTrace,      // neither: the whole host extent is one iteration
};

const char* to_string(IterationMarker m);

struct IterationTotals {
  std::int64_t start_ns = 0;  // where the iteration starts, on the trace's clock
  std::int64_t cpu_ns = 0;    // host span of the iteration
  std::int64_t gpu_ns = 0;    // durations of the GPU ops launched inside it
  int n_gpu_ops = 0;
  // From the iteration's start to the later of its host end and the end of the last GPU op it
  // launched: the latency a synchronize after the iteration would see (minus the sync call itself).
  std::int64_t end_to_end_ns = 0;
  // How long the GPU kept running after the host span ended (0 when the host finished last).
  std::int64_t drain_ns = 0;
};

struct TraceSummary {
  std::string source;
  IterationMarker marker = IterationMarker::WholeTrace;
  // Segments glue0, call0, glue1, ..., glueN. cpu_ns, gpu_ns and n_kernels are medians over
  // iterations (n_kernels truncated to an integer, like the reference script). `type` is empty:
  // the trace does not name module classes.
  model::SegmentProfile profile;
  std::vector<IterationTotals> per_iteration;
  double total_cpu_ns = 0;                   // median over iterations of the iteration's host span
  double total_gpu_ns = 0;                   // median over iterations of the iteration's attributed GPU time
  int gpu_ops_total = 0;                     // kernel + memcpy + memset events in the whole trace
  int kernels_unattributed = 0;              // no launch event carries their correlation id
  int kernels_outside_iterations = 0;        // launched, but outside every iteration
  std::optional<std::int64_t> base_time_ns;  // the trace's wall-clock anchor, when it has one

  int iterations() const { return static_cast<int>(per_iteration.size()); }
};

// Pure: builds the summary from parsed events. Throws TraceError (naming events.source) when
// the trace has no GPU ops, or when layer-call ranges cannot form a partition (a call index
// twice in one iteration, calls out of index order or overlapping, a call crossing the end of
// its iteration, one index naming different modules in different iterations).
TraceSummary build_trace_summary(const TraceEvents& events);

// read_trace_text + parse_trace_events + build_trace_summary.
TraceSummary summarize_trace_file(const std::filesystem::path& path);

// When the recorded iterations ran, in Unix time (ns): from the first one's start to the end of the
// last one's GPU work. Needs the trace's `baseTimeNanoseconds`; nullopt without it.
struct WallWindow {
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;
};
std::optional<WallWindow> iterations_wall_window(const TraceSummary& s);

// "dir/resnet50_b1.json.gz" -> "resnet50_b1".
std::string trace_tag(std::string_view source);

}  // namespace flame::trace
