#include <catch2/catch.hpp>
#include <vector>

#include "flame/model/timeline.hpp"

using flame::model::SegmentBound;
using flame::model::simulate_timeline;
using flame::model::TimelineCosts;

TEST_CASE("timeline: launch-bound chain waits for every launch") {
  const std::vector<double> cpu{10, 10, 10}, gpu{2, 2, 2};
  const auto r = simulate_timeline(cpu, gpu, {}, 1.0, true);
  // GPU work i runs from 10i+10 to 10i+12: it always waits for the launch.
  CHECK(r.e2e_ns == Approx(32));
  CHECK(r.cpu_end_ns == Approx(30));
  CHECK(r.bubble_ns == Approx(10 + 8 + 8));
  CHECK(r.launch_bound == 3);
  CHECK(r.execution_bound == 0);
  CHECK(r.segments[1].gpu_start_ns == Approx(20));
}

TEST_CASE("timeline: execution-bound chain queues launches") {
  const std::vector<double> cpu{1, 1, 1}, gpu{10, 10, 10};
  const auto r = simulate_timeline(cpu, gpu, {}, 1.0, true);
  CHECK(r.e2e_ns == Approx(31));
  CHECK(r.bubble_ns == Approx(1));  // only before the first launch
  CHECK(r.segments[0].bound == SegmentBound::LaunchBound);
  CHECK(r.segments[1].bound == SegmentBound::ExecutionBound);
  CHECK(r.segments[2].bound == SegmentBound::ExecutionBound);
  CHECK(r.execution_bound == 2);
}

TEST_CASE("timeline: alternating layers absorb short launches in the queue") {
  const std::vector<double> cpu{5, 1, 5, 1}, gpu{1, 8, 1, 8};
  const auto r = simulate_timeline(cpu, gpu, {}, 1.0, true);
  // c: 5,6,11,12  g: [5,6] [6,14] [14,15] [15,23]
  CHECK(r.e2e_ns == Approx(23));
  CHECK(r.bubble_ns == Approx(5));
  CHECK(r.segments[2].gpu_start_ns == Approx(14));
  CHECK(r.segments[2].bound == SegmentBound::ExecutionBound);
}

TEST_CASE("timeline: a slower CPU flips execution-bound layers to launch-bound") {
  const std::vector<double> cpu{5, 1, 5, 1}, gpu{1, 8, 1, 8};
  const auto fast = simulate_timeline(cpu, gpu, {}, 1.0);
  const auto slow = simulate_timeline(cpu, gpu, {}, 3.0);
  // c: 15,18,33,36  g: [15,16] [18,26] [33,34] [36,44]
  CHECK(slow.e2e_ns == Approx(44));
  CHECK(slow.launch_bound == 4);
  CHECK(fast.launch_bound < slow.launch_bound);
}

TEST_CASE("timeline: empty and host-only profiles") {
  const std::vector<double> none;
  TimelineCosts costs;
  costs.sync_latency_ns = 7;
  CHECK(simulate_timeline(none, none, costs).e2e_ns == Approx(7));
  const std::vector<double> cpu{4, 6}, gpu{0, 0};
  const auto r = simulate_timeline(cpu, gpu, costs, 1.0, true);
  CHECK(r.e2e_ns == Approx(17));
  CHECK(r.segments[0].bound == SegmentBound::HostOnly);
  CHECK(r.bubble_ns == 0);
}

TEST_CASE("timeline: costs stretch the host and the device as documented") {
  const std::vector<double> cpu{10, 30}, gpu{0, 50};
  TimelineCosts costs;
  costs.cpu_offset_ns = 40;  // spread 1:3 over the two spans -> 20 and 60
  costs.gpu_scale = 1.2;
  costs.sync_latency_ns = 5;
  const auto r = simulate_timeline(cpu, gpu, costs, 2.0, true);
  CHECK(r.segments[0].cpu_end_ns == Approx(20 + 10));
  CHECK(r.cpu_end_ns == Approx(120));
  CHECK(r.e2e_ns == Approx(120 + 60 + 5));
}

TEST_CASE("timeline: bad input is rejected") {
  const std::vector<double> a{1, 2}, b{1};
  CHECK_THROWS_WITH(simulate_timeline(a, b, {}), Catch::Contains("different segment counts"));
  CHECK_THROWS_WITH(simulate_timeline(a, a, {}, 0.0), Catch::Contains("positive"));
}
