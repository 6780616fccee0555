#include <catch2/catch.hpp>
#include <vector>

#include "flame/model/coupling_calibration.hpp"

using namespace flame;

namespace {
// A run measured on a machine whose hidden costs are known.
flame::model::ProfiledRun measured(std::vector<double> cpu, std::vector<double> gpu,
                                   const flame::model::TimelineCosts& truth) {
  flame::model::ProfiledRun run;
  run.cpu_ns = cpu;
  run.gpu_ns = gpu;
  const auto t = simulate_timeline(cpu, gpu, truth);
  run.e2e_median_ns = t.e2e_ns;
  run.sync_ns = t.e2e_ns - (t.cpu_end_ns);  // the host waits in synchronize from its last launch
  return run;
}
}  // namespace

TEST_CASE("calibration recovers host offset and sync latency of a launch-bound run") {
  flame::model::TimelineCosts truth;
  truth.cpu_offset_ns = 300;
  truth.sync_latency_ns = 25;
  const auto run = measured({100, 400, 200, 300}, {0, 50, 0, 80}, truth);
  REQUIRE_FALSE(execution_bound_at_profile(run));
  const auto costs = calibrate_costs(run, {});
  CHECK(costs.cpu_offset_ns == Approx(300));
  CHECK(costs.gpu_scale == Approx(1.0));
  // The tail kernel (80) runs after the last launch; the rest is sync latency.
  CHECK(costs.sync_latency_ns == Approx(25).margin(1e-6));
  CHECK(simulate_timeline(run.cpu_ns, run.gpu_ns, costs).e2e_ns == Approx(run.e2e_median_ns));
}

TEST_CASE("calibration splits an execution-bound run's slack using the machine's sync latency") {
  flame::model::TimelineCosts truth;
  truth.cpu_offset_ns = 50;
  truth.gpu_scale = 1.15;
  truth.sync_latency_ns = 30;
  const auto gpu_bound = measured({10, 20, 10, 20}, {0, 400, 0, 600}, truth);
  flame::model::TimelineCosts host_truth =
      truth;  // another model on the same machine; its GPU scale is invisible
  host_truth.gpu_scale = 1.0;
  const auto host_bound = measured({300, 400, 200, 300}, {0, 50, 0, 80}, host_truth);
  const std::vector<flame::model::ProfiledRun> runs{gpu_bound, host_bound};
  const auto machine = calibrate_machine(runs);
  REQUIRE(machine.sync_latency_ns);
  CHECK(*machine.sync_latency_ns == Approx(30).margin(1e-6));
  CHECK(machine.launch_bound_runs == 1);
  REQUIRE(execution_bound_at_profile(gpu_bound));
  const auto costs = calibrate_costs(gpu_bound, machine);
  CHECK(costs.gpu_scale == Approx(1.15).epsilon(1e-6));
  CHECK(costs.sync_latency_ns == Approx(30).margin(1e-6));
  // Without a machine calibration the slack can only be attributed to sync latency.
  const auto plain = calibrate_costs(gpu_bound, {});
  CHECK(plain.gpu_scale == Approx(1.0));
  CHECK(plain.sync_latency_ns == Approx(30 + 0.15 * 1000).margin(1e-6));
}

TEST_CASE("calibration rejects empty or inconsistent profiles") {
  flame::model::ProfiledRun run;
  CHECK_THROWS(calibrate_costs(run, {}));
  run.cpu_ns = {1, 2};
  run.gpu_ns = {1};
  run.e2e_median_ns = 5;
  CHECK_THROWS(calibrate_costs(run, {}));
}
