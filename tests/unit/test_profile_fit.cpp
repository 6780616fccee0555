// Fitting journal steps into model files: recovery of a known board, cross-validation that sees a
// bad measurement, segment-structure checks, and files flamed can load.
#include <catch2/catch.hpp>
#include <cmath>

#include "flame/board/description_grid.hpp"
#include "flame/model/model_file.hpp"
#include "flame/profile/profile_fit.hpp"
#include "flame/profile/profile_plan.hpp"
#include "trace_test_support.hpp"

using namespace flame;
using namespace flame::model;
using namespace flame::profile;

namespace {

ClockGrid orin() {
  return board::clock_grid(board::load_board_description(std::string(FLAME_SOURCE_DIR) +
                                                         "/config/boards/orin-nano-8gb-super.yaml"));
}

// A known board in the estimator's own form: per segment fixed + work/f_cpu + memory/f_emc host (every
// other segment with a DRAM-bound share), memory[emc] + work/f device.
flame::model::LayerwiseModel truth(const ClockGrid& g) {
  std::vector<flame::model::CpuCurve> cpu;
  std::vector<flame::model::GpuCurve> gpu;
  std::vector<std::string> names;
  for (int i = 0; i < 7; ++i) {
    cpu.push_back({2000.0 + 500 * i, (20000.0 + 3000 * i) * 1.728e6, (i % 2) * 8000.0 * 3199e6});
    flame::model::GpuCurve c;
    c.emc_hz = g.emc_hz;
    // memory time linear in 1/f_emc, so interpolating between levels is exact
    for (double e : g.emc_hz) c.memory_ns.push_back((i % 3) * 9000.0 * 3199e6 / e);
    c.work_ns_hz = (i % 2 ? 60000.0 : 5000.0) * 1.02e9;
    gpu.push_back(c);
    names.push_back(i % 2 ? "layer" + std::to_string(i) : "");
  }
  flame::model::TimelineCosts costs;
  costs.sync_latency_ns = 20000;
  return LayerwiseModel(names, cpu, gpu, costs);
}

std::vector<StepRecord> profile_steps(const flame::model::LayerwiseModel& m, const JournalHeader& h) {
  std::vector<StepRecord> out;
  for (std::size_t s = 0; s < h.plan.size(); ++s) {
    StepRecord r;
    r.step = s;
    r.requested = r.applied = r.observed = h.plan[s];
    WorkloadResult w;
    w.trace_run.names = m.names();
    for (std::size_t i = 0; i < m.segments(); ++i) {
      w.trace_run.run.cpu_ns.push_back(m.cpu_curves()[i].at(h.plan[s].cpu_khz, h.plan[s].emc_hz));
      w.trace_run.run.gpu_ns.push_back(m.gpu_curves()[i].at(h.plan[s].gpu_hz, h.plan[s].emc_hz));
    }
    const auto t = m.simulate(h.plan[s]);
    w.trace_run.run.e2e_median_ns = m.latency_ns(h.plan[s]);
    w.trace_run.run.sync_ns = std::max(0.0, t.gpu_end_ns - t.cpu_end_ns) + 20000;
    r.workloads.push_back(w);
    out.push_back(r);
  }
  return out;
}

JournalHeader header(std::size_t budget) {
  JournalHeader h;
  h.model = "toy";
  h.command = {"run"};
  h.budget = budget;
  h.seed = 1;
  h.grid = orin();
  h.plan = make_profile_plan(h.grid, budget, 1).steps;
  return h;
}

}  // namespace

TEST_CASE("profile fit: a board in the model's form is recovered; held-back points are predicted",
          "[profile]") {
  const auto h = header(12);
  const auto m = truth(h.grid);
  const auto steps = profile_steps(m, h);
  const auto f = fit_workload(h, steps);
  CHECK(f.name == "toy");
  CHECK(f.quality.points == 12);
  CHECK(f.model.segments() == 7);
  CHECK(f.model.names() == m.names());
  CHECK(f.quality.in_sample.mean_ape_pct < 0.5);
  REQUIRE(f.quality.cross_validated.n == 12);
  CHECK(f.quality.cross_validated.mean_ape_pct < 2.0);
  // Everywhere on the grid, not only at the profiled points.
  double worst = 0;
  for (std::size_t k = 0; k < h.grid.size(); ++k) {
    const auto c = h.grid.at(k);
    worst = std::max(worst, flame::fit::ape_pct(f.model.latency_ns(c), m.latency_ns(c)));
  }
  CHECK(worst < 3.0);
  CHECK(f.host_memory_term);
  CHECK(model_file_text(f, h, "").find("without the EMC term") == std::string::npos);
}

TEST_CASE("profile fit: with one EMC level profiled the host curves fall back and the file says so",
          "[profile][host-memory]") {
  auto h = header(12);
  std::vector<Clocks> top_emc;
  for (const auto& c : h.plan)
    if (c.emc_hz == h.grid.emc_hz.back()) top_emc.push_back(c);
  REQUIRE(top_emc.size() >= 3);
  h.plan = top_emc;
  const auto f = fit_workload(h, profile_steps(truth(h.grid), h));
  CHECK_FALSE(f.host_memory_term);
  for (const auto& c : f.model.cpu_curves()) CHECK(c.memory_ns_hz == 0);
  CHECK(model_file_text(f, h, "").find("Host curves without the EMC term") != std::string::npos);
}

TEST_CASE("profile fit: cross-validation exposes a measurement the others contradict", "[profile]") {
  const auto h = header(12);
  auto steps = profile_steps(truth(h.grid), h);
  steps[5].workloads[0].trace_run.run.e2e_median_ns *= 1.5;  // e.g. a run disturbed by another process
  const auto f = fit_workload(h, steps);
  REQUIRE(f.quality.held_back.size() == 12);
  const auto& bad = f.quality.held_back[5];
  CHECK(bad.step == 5);
  CHECK(flame::fit::ape_pct(bad.predicted_ns, bad.measured_ns) > 25);
  CHECK(f.quality.cross_validated.max_ape_pct > 25);
}

TEST_CASE("profile fit: traces of different models are refused, naming the step", "[profile]") {
  const auto h = header(6);
  auto steps = profile_steps(truth(h.grid), h);
  steps[3].workloads[0].trace_run.run.cpu_ns.push_back(1);
  steps[3].workloads[0].trace_run.run.gpu_ns.push_back(1);
  steps[3].workloads[0].trace_run.names.push_back("extra");
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { fit_workload(h, steps); }),
             Catch::Contains("the trace of step 3 has 8 segments, the one of step 0 has 7"));
  steps = profile_steps(truth(h.grid), h);
  steps[2].workloads[0].trace_run.names[1] = "other";
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { fit_workload(h, steps); }),
             Catch::Contains("segment 1 is 'other' in the trace of step 2"));
  CHECK_THAT(trace_test::error_of<std::runtime_error>([&] { fit_workload(h, {}); }),
             Catch::Contains("no profiled combinations"));
}

TEST_CASE("profile fit: the model file loads and carries the fit quality", "[profile]") {
  auto h = header(6);
  auto steps = profile_steps(truth(h.grid), h);
  const auto f = fit_workload(h, steps);
  CHECK(f.name == "toy");
  const std::string text = model_file_text(f, h, "orin-nano-8gb-super");
  CHECK_THAT(text, Catch::Contains("leave-one-out error on held-back combinations"));
  const auto loaded = flame::model::parse_model_file(text, "x.yaml");
  CHECK(loaded.name == "toy");
  CHECK(loaded.kind == "layerwise");
  CHECK(loaded.board == "orin-nano-8gb-super");
  // What flamed would predict from the file is what the fit predicts.
  const Clocks c{806400, 0, 612e6, 2133e6};
  CHECK(loaded.model->estimate(c, {}).latency_ms == Approx(f.model.latency_ns(c) / 1e6).epsilon(1e-6));
}
