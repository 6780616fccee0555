#include "flame/model/timeline.hpp"

#include <algorithm>
#include <stdexcept>

namespace flame::model {

TimelineResult simulate_timeline(std::span<const double> cpu_ns, std::span<const double> gpu_ns,
                                 const TimelineCosts& costs, double cpu_ratio, bool per_segment) {
  if (cpu_ns.size() != gpu_ns.size())
    throw std::invalid_argument("timeline: CPU and GPU sides have different segment counts");
  if (!(cpu_ratio > 0)) throw std::invalid_argument("timeline: CPU ratio must be positive");

  double base_cpu = 0;
  for (double c : cpu_ns) base_cpu += c;
  const double scaled_cpu = base_cpu * cpu_ratio;
  // The per-iteration host offset is spread over the segments in proportion to their span, so a
  // long-running glue segment absorbs more of it than a tiny one.
  const double stretch =
      scaled_cpu > 0 ? std::max(0.0, scaled_cpu + costs.cpu_offset_ns) / scaled_cpu * cpu_ratio : cpu_ratio;

  TimelineResult r;
  if (per_segment) r.segments.resize(cpu_ns.size());
  double c = 0, g = 0;
  for (size_t i = 0; i < cpu_ns.size(); ++i) {
    c += cpu_ns[i] * stretch;
    SegmentTiming t;
    t.cpu_end_ns = c;
    const double work = gpu_ns[i] * costs.gpu_scale;
    if (work > 0) {
      const double start = std::max(g, c);
      t.bubble_ns = start - g;
      t.gpu_start_ns = start;
      g = start + work;
      t.gpu_end_ns = g;
      // A launch that arrives while the GPU is still busy is absorbed by the queue; one that
      // arrives after it drained leaves the GPU waiting.
      if (t.bubble_ns > 0) {
        t.bound = SegmentBound::LaunchBound;
        ++r.launch_bound;
      } else {
        t.bound = SegmentBound::ExecutionBound;
        ++r.execution_bound;
      }
      r.bubble_ns += t.bubble_ns;
      r.final_backlog_ns = start - c;
    } else {
      t.gpu_start_ns = t.gpu_end_ns = g;
    }
    if (per_segment) r.segments[i] = t;
  }
  r.cpu_end_ns = c;
  r.gpu_end_ns = g;
  r.e2e_ns = std::max(c, g) + costs.sync_latency_ns;
  return r;
}

}  // namespace flame::model
