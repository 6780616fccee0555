#pragma once
// The asynchronous CPU→GPU launch queue of one inference, rebuilt from per-segment costs.
//
// The host runs ahead and enqueues each segment's kernels at the end of its host span; the GPU
// starts a segment's work no earlier than that launch and no earlier than the previous GPU work
// ended. When launches fall behind, the GPU idles (a bubble) and the segment is launch-bound;
// when the GPU still has queued work, the segment is execution-bound. The final synchronize
// returns after both sides are done plus a fixed synchronisation latency.
#include <span>
#include <vector>

namespace flame::model {

// Costs that a profile alone does not show, fitted by calibration (see coupling_calibration.hpp).
struct TimelineCosts {
  double cpu_offset_ns = 0;    // per-iteration host time not in the sum of per-segment medians
  double gpu_scale = 1;        // device time per profiled kernel time (inter-kernel gaps, profiler bias)
  double sync_latency_ns = 0;  // from the last completion to the host returning from synchronize
};

enum class SegmentBound { HostOnly, LaunchBound, ExecutionBound };

struct SegmentTiming {
  double cpu_end_ns = 0;    // when the host finished this segment (its launches)
  double gpu_start_ns = 0;  // when the GPU started this segment's work
  double gpu_end_ns = 0;
  double bubble_ns = 0;  // GPU idle time right before this segment's work
  SegmentBound bound = SegmentBound::HostOnly;
};

struct TimelineResult {
  double e2e_ns = 0;
  double cpu_end_ns = 0;
  double gpu_end_ns = 0;
  double bubble_ns = 0;         // total GPU idle time before the last GPU work ended
  double final_backlog_ns = 0;  // queued GPU work ahead of the last launch (0 when launch-bound)
  int launch_bound = 0;
  int execution_bound = 0;
  std::vector<SegmentTiming> segments;  // filled only when requested
};

// cpu_ns and gpu_ns are per-segment host spans and device times in execution order; cpu_ratio
// stretches every host span (a CPU clocked k times slower has cpu_ratio = k).
TimelineResult simulate_timeline(std::span<const double> cpu_ns, std::span<const double> gpu_ns,
                                 const TimelineCosts& costs, double cpu_ratio = 1.0,
                                 bool per_segment = false);

}  // namespace flame::model
