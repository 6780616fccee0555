#pragma once
// Fits the timeline's hidden costs from one profiled run at the reference clocks.
//
// Three effects separate a profile from the measured end-to-end time (see docs/timeline-model.md):
//  * host offset: the median iteration is longer than the sum of per-segment medians (host jitter
//    is skewed), measured directly as e2e - sum(cpu) - sync;
//  * GPU scale: kernel durations from the profiler miss inter-kernel gaps, visible only when the
//    run is execution-bound;
//  * sync latency: from the last completion to the host returning, visible when launch-bound.
// An execution-bound run cannot separate GPU scale from sync latency; the sync latency then comes
// from the launch-bound runs of the same machine (MachineCalibration).
#include <optional>
#include <span>
#include <vector>

#include "flame/model/timeline.hpp"

namespace flame::model {

struct ProfiledRun {
  std::vector<double> cpu_ns;  // per-segment host spans (medians)
  std::vector<double> gpu_ns;  // per-segment device time (medians)
  double e2e_median_ns = 0;    // median end-to-end time of the same runs
  double sync_ns = 0;          // median host wait in the final synchronize
};

struct MachineCalibration {
  std::optional<double> sync_latency_ns;  // unset when no launch-bound run was seen
  int launch_bound_runs = 0;
};

// True when the GPU, fed by the host at the profiled speed, finishes after the host.
bool execution_bound_at_profile(const ProfiledRun& run);

MachineCalibration calibrate_machine(std::span<const ProfiledRun> runs);

TimelineCosts calibrate_costs(const ProfiledRun& run, const MachineCalibration& machine);

}  // namespace flame::model
