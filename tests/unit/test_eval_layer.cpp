// The governor comparison on the live layer-level boards: the board definition, the camera workloads
// of docs/workloads.md, the non-clairvoyant oracle and zTT's action space on other clock tables.
#include <catch2/catch.hpp>
#include <string>

#include "flame/eval/camera_workload.hpp"
#include "flame/eval/detail/eval_run.hpp"
#include "flame/eval/detail/max_governor.hpp"
#include "flame/eval/detail/oracle_governor.hpp"
#include "flame/eval/detail/ztt_governor.hpp"
#include "flame/eval/eval_board.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "h200_data.hpp"

using namespace flame::eval;
namespace sim = flame::sim;

namespace {

const std::string kTag = "resnet50_b1_float32";

const flame::model::CouplingDataset& data() {
  return flame::test::h200_run2();
}

const EvalBoard& orin() {
  static const EvalBoard b = layer_eval_board(*sim::layer_board("layer-orin"), data(), {kTag});
  return b;
}

sim::SimClocks top(const EvalBoard& b) {
  return b.levels().max();
}

}  // namespace

TEST_CASE("eval layer: the Orin board runs the configuration at the levels of its tree", "[eval][layer]") {
  const EvalBoard& b = orin();
  CHECK(b.name == "layer-orin");
  CHECK(b.cores == 6);
  const BoardLevels l = b.levels();
  CHECK(l.gpu_hz.back() == 1020000000u);
  CHECK(l.emc_hz.back() == 3199000000u);
  CHECK(b.truth(kTag).name() == kTag);
  CHECK_THROWS_AS(b.truth("nosuch"), std::invalid_argument);
  CHECK(b.ztt_power_scale_w > 4);  // the Orin's busy power, not the TX2's
}

TEST_CASE("eval layer: the camera stream's deadline is the stated multiple of the fastest median",
          "[eval][layer]") {
  const EvalBoard& b = orin();
  const double fast = fastest_median_ms(b.truth(kTag), top(b), 1.0);
  CHECK(fast > 0);
  CHECK(fast == Approx(b.truth(kTag).mean(top(b)).latency_ms).epsilon(0.05));
  for (const char* cls : {"tight", "loose"}) {
    const CameraClass c = camera_class(cls);
    const sim::Workload w = camera_workload(b.truth(kTag), top(b), 1.0, c, 3, 40);
    REQUIRE(w.requests.size() == 40);
    for (const auto& r : w.requests) {
      CHECK(r.deadline_ms == Approx(c.factor * fast).epsilon(1e-4));
      CHECK(r.model == kTag);
    }
    // Period = deadline: frame k arrives at k x D (plus a jitter within 0.5 ms).
    CHECK(w.requests[10].t_ms == Approx(10 * w.requests[0].deadline_ms).margin(1.0));
  }
  CHECK_THROWS_AS(camera_class("medium"), std::invalid_argument);
}

TEST_CASE("eval layer: MAX meets every tight camera deadline; the oracles meet them with less energy",
          "[eval][layer]") {
  const EvalBoard& b = orin();
  const sim::Workload w = camera_workload(b.truth(kTag), top(b), 1.0, camera_class("tight"), 1, 30);
  RunOptions o;
  MaxGovernor mx;
  ExpectationOracle nc(b, o.sim);
  OracleGovernor oracle(b, o.sim);
  const RunResult rm = run_governor(w, b, mx, o);
  const RunResult rn = run_governor(w, b, nc, o);
  const RunResult ro = run_governor(w, b, oracle, o);
  CHECK(rm.summary.met_pct == 100);
  CHECK(rn.summary.met_pct >= 96);
  CHECK(rn.summary.energy_per_inference_j < rm.summary.energy_per_inference_j);
  // Knowing each draw can only help (same per-request rule, exact instead of a 99 % quantile).
  CHECK(ro.summary.energy_per_inference_j <= rn.summary.energy_per_inference_j * 1.001);
}

TEST_CASE("eval layer: without noise the non-clairvoyant oracle is the clairvoyant one", "[eval][layer]") {
  const EvalBoard& b = orin();
  const sim::Workload w = camera_workload(b.truth(kTag), top(b), 0.0, camera_class("tight"), 1, 20);
  RunOptions o;
  o.sim.noise_scale = 0;
  ExpectationOracle nc(b, o.sim);
  OracleGovernor oracle(b, o.sim);
  const RunResult rn = run_governor(w, b, nc, o);
  const RunResult ro = run_governor(w, b, oracle, o);
  REQUIRE(rn.records.size() == ro.records.size());
  for (std::size_t i = 0; i < rn.records.size(); ++i)
    CHECK(rn.records[i].energy_j == Approx(ro.records[i].energy_j));
}

TEST_CASE("eval layer: the non-clairvoyant oracle plans for a high quantile of the noise", "[eval][layer]") {
  const EvalBoard& b = orin();
  const sim::ModelTruth& t = b.truth(kTag);
  sim::SimOptions so;
  const BoardLevels l = b.levels();
  // A budget just above the mean latency at some mid clocks: the quantile rule must pick faster ones.
  const Target mid{l.cores, l.cpu_khz[l.cpu_khz.size() / 2], l.gpu_hz[l.gpu_hz.size() / 2], l.emc_hz.back()};
  const double mean = inference_cost(t, so, mid, mid, {}).latency_ms;
  ExpectationOracle nc(b, so);
  nc.reset(l);
  Decision d;
  d.model = kTag;
  d.deadline_ms = d.budget_ms = mean * 1.0001;
  const Target c = nc.decide(d);
  sim::TruthDraw q99{2.326, 0, 1.0};
  CHECK(inference_cost(t, so, l.max(), c, q99).latency_ms <= d.budget_ms * 1.0001);
  CHECK_THROWS_AS(ExpectationOracle(b, so, 1.0), std::invalid_argument);
}

TEST_CASE("eval layer: zTT's action space sits at the same relative positions of the Orin tables",
          "[eval][layer][ztt]") {
  const EvalBoard& b = orin();
  ZttGovernor z({{kTag, 10.0}});
  const BoardLevels l = b.levels();
  z.reset(l);
  CHECK(z.action_clocks(8).cpu_khz == l.cpu_khz.back());
  CHECK(z.action_clocks(8).gpu_hz == l.gpu_hz.back());
  CHECK(z.action_clocks(0).cpu_khz ==
        l.cpu_khz[static_cast<std::size_t>(std::lround(3.0 / 11 * (l.cpu_khz.size() - 1)))]);
  CHECK(z.action_clocks(0).gpu_hz < z.action_clocks(1).gpu_hz);
}
