#include "flame/model/coupling_calibration.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "flame/fit/median.hpp"

namespace flame::model {
namespace {

double host_offset(const ProfiledRun& run) {
  const double cpu = std::accumulate(run.cpu_ns.begin(), run.cpu_ns.end(), 0.0);
  return run.e2e_median_ns - cpu - run.sync_ns;
}

TimelineResult at_profile(const ProfiledRun& run, double gpu_scale) {
  TimelineCosts costs;
  costs.cpu_offset_ns = host_offset(run);
  costs.gpu_scale = gpu_scale;
  return simulate_timeline(run.cpu_ns, run.gpu_ns, costs);
}

void check(const ProfiledRun& run) {
  if (run.cpu_ns.size() != run.gpu_ns.size() || run.cpu_ns.empty())
    throw std::invalid_argument("calibration: profile has no segments or mismatched sides");
  if (!(run.e2e_median_ns > 0)) throw std::invalid_argument("calibration: end-to-end time must be positive");
}

}  // namespace

bool execution_bound_at_profile(const ProfiledRun& run) {
  check(run);
  // The GPU still had queued work when the last kernels were launched.
  return at_profile(run, 1.0).final_backlog_ns > 0;
}

MachineCalibration calibrate_machine(std::span<const ProfiledRun> runs) {
  std::vector<double> latencies;
  for (const auto& run : runs) {
    if (execution_bound_at_profile(run)) continue;
    const TimelineResult r = at_profile(run, 1.0);
    latencies.push_back(std::max(0.0, run.e2e_median_ns - std::max(r.cpu_end_ns, r.gpu_end_ns)));
  }
  MachineCalibration m;
  m.launch_bound_runs = static_cast<int>(latencies.size());
  if (!latencies.empty()) m.sync_latency_ns = fit::median(latencies);
  return m;
}

TimelineCosts calibrate_costs(const ProfiledRun& run, const MachineCalibration& machine) {
  check(run);
  TimelineCosts costs;
  costs.cpu_offset_ns = host_offset(run);
  const TimelineResult plain = at_profile(run, 1.0);
  const double slack = run.e2e_median_ns - std::max(plain.cpu_end_ns, plain.gpu_end_ns);
  if (plain.final_backlog_ns <= 0 || !machine.sync_latency_ns) {
    // Launch-bound (or nothing better known): everything after the last completion is sync latency.
    costs.sync_latency_ns = std::max(0.0, slack);
    return costs;
  }
  // Execution-bound: the machine's sync latency is known, the rest of the slack is GPU time.
  // The measured slack bounds it: the profiler's kernel time is never more than the device time.
  costs.sync_latency_ns = std::clamp(*machine.sync_latency_ns, 0.0, std::max(0.0, slack));
  const double target = run.e2e_median_ns - costs.sync_latency_ns;
  double lo = 1.0, hi = 4.0;  // device time within 4x of the profiler's kernel time
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    const TimelineResult r = at_profile(run, mid);
    (std::max(r.cpu_end_ns, r.gpu_end_ns) < target ? lo : hi) = mid;
  }
  costs.gpu_scale = 0.5 * (lo + hi);
  return costs;
}

}  // namespace flame::model
