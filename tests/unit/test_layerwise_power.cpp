// Power in layer-wise models: fitted from sparse rail samples, carried by the model file, used by
// the search instead of its clock proxy; older files without it keep the proxy.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "flame/board/description_grid.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/fit/median.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/model/layerwise_plan.hpp"
#include "flame/model/model_file.hpp"
#include "flame/profile/profile_fit.hpp"
#include "flame/profile/profile_plan.hpp"
#include "flame/search/greedy_search.hpp"
#include "flame/validate/layerwise_recovery.hpp"
#include "layerwise_test_support.hpp"

using namespace flame;
using namespace flame::model;
using flame::validate::RecoveryOptions;
using layerwise_test::error_of;
using layerwise_test::orin;
using layerwise_test::replaced;

namespace {

// Two segments: a host-heavy one and a device-heavy one whose device time is mostly memory.
flame::model::LayerwiseModel two_segments(const ClockGrid& g) {
  flame::model::GpuCurve light, heavy;
  light.emc_hz = heavy.emc_hz = g.emc_hz;
  for (double e : g.emc_hz) {
    light.memory_ns.push_back(1000.0 * 3199e6 / e);
    heavy.memory_ns.push_back(400000.0 * 3199e6 / e);
  }
  light.work_ns_hz = 2000.0 * 1.02e9;
  heavy.work_ns_hz = 300000.0 * 1.02e9;
  flame::model::TimelineCosts costs;
  costs.sync_latency_ns = 20000;
  return LayerwiseModel({"host", "device"}, {{5000, 300000.0 * 1.728e6}, {2000, 20000.0 * 1.728e6}},
                        {light, heavy}, costs);
}

// A board whose power is dominated by DRAM (not the proxy's weighting): W.
double dram_heavy_power_w(const Clocks& c, const ClockGrid& g) {
  const double xc = c.cpu_khz / g.cpu_khz.back(), xg = c.gpu_hz / g.gpu_hz.back(),
               xe = c.emc_hz / g.emc_hz.back();
  return 2.0 + 0.5 * xc * xc + 0.8 * xg * xg + 6.0 * xe * xe;
}

// A power law in the fit's own form (busy_power.hpp), each side's busy share from `m`: W.
double in_form_power_w(const flame::model::LayerwiseModel& m, const Clocks& c, const ClockGrid& g) {
  const double xc = c.cpu_khz / g.cpu_khz.back(), xg = c.gpu_hz / g.gpu_hz.back(),
               xe = c.emc_hz / g.emc_hz.back();
  const Busy b = m.busy(c);
  const double xc3 = xc * xc * xc, xg3 = xg * xg * xg;  // voltage proportional to the clock
  return 1.2 + 0.4 * xc3 + 0.9 * xc3 * b.host + 0.3 * xg3 + 2.0 * xg3 * b.device + 0.5 * xe +
         0.9 * xe * b.memory;
}

// Noise-free profiles of `m` at the layer-wise plan, with power from `power` (1 % deterministic
// wobble so the fit is not handed exact values).
template <typename Power>
std::vector<flame::model::ProfiledPoint> profiles(const flame::model::LayerwiseModel& m, const ClockGrid& g,
                                                  size_t budget, Power&& power) {
  std::vector<flame::model::ProfiledPoint> out;
  int i = 0;
  for (const Clocks& c : flame::model::plan_layerwise(g, budget, 1)) {
    flame::model::ProfiledPoint p;
    p.clocks = c;
    for (size_t s = 0; s < m.segments(); ++s) {
      p.run.cpu_ns.push_back(m.cpu_curves()[s].at(c.cpu_khz, c.emc_hz));
      p.run.gpu_ns.push_back(m.gpu_curves()[s].at(c.gpu_hz, c.emc_hz));
    }
    p.run.e2e_median_ns = m.latency_ns(c);
    p.run.sync_ns = 20000;
    p.power_w = power(c) * (1 + 0.01 * ((i++ % 3) - 1));
    out.push_back(p);
  }
  return out;
}

std::string fitted_yaml(const ClockGrid& g) {
  const auto truth = two_segments(g);
  const auto m =
      fit_layerwise(profiles(truth, g, 12, [&](const Clocks& c) { return dram_heavy_power_w(c, g); }),
                    g.emc_hz, truth.names());
  return layerwise_to_yaml(m, "toy", "orin-nano-8gb-super", "a test");
}

// The same model with power in the grid model's log-linear form, as `flame profile` wrote it before
// the busy form (model files version 2).
flame::model::LayerwiseModel with_grid_form_power(const ClockGrid& g) {
  const auto truth = two_segments(g);
  const auto points = profiles(truth, g, 12, [&](const Clocks& c) { return dram_heavy_power_w(c, g); });
  const auto m = fit_layerwise(points, g.emc_hz, truth.names());
  std::vector<Clocks> clocks;
  std::vector<double> power, latency;
  for (const auto& p : points) {
    clocks.push_back(p.clocks);
    power.push_back(*p.power_w);
    latency.push_back(m.latency_ns(p.clocks) / 1e6);
  }
  grid::ClockReference ref{g.cpu_khz.back(), g.gpu_hz.back(), g.emc_hz.back(), {}};
  return LayerwiseModel(m.names(), m.cpu_curves(), m.gpu_curves(), m.costs(),
                        grid::fit_power(clocks, power, latency, ref).model);
}

}  // namespace

TEST_CASE("layer-wise power: a known power law is recovered from 12 of 528 combinations",
          "[layerwise][power]") {
  const auto g = orin();
  const auto truth = two_segments(g);
  // The form's busy shares are the fitted latency model's (what the search sees): the law is stated
  // on them. The latency curves do not depend on the power samples.
  auto points = profiles(truth, g, 12, [](const Clocks&) { return 1.0; });
  const auto latency_only = fit_layerwise(points, g.emc_hz);
  points = profiles(truth, g, 12, [&](const Clocks& c) { return in_form_power_w(latency_only, c, g); });
  const auto m = fit_layerwise(points, g.emc_hz);
  REQUIRE(m.power());
  std::vector<double> ape;
  for (size_t k = 0; k < g.size(); ++k) {
    const Clocks c = g.at(k);
    const Estimate e = m.estimate(c);
    CHECK(e.latency_ms * 1e6 == Approx(m.latency_ns(c)));
    ape.push_back(flame::fit::ape_pct(e.power_w, in_form_power_w(latency_only, c, g)));
  }
  const auto s = flame::fit::summarize_ape(ape);
  INFO("median " << flame::fit::median(ape) << " %, p95 " << s.p95_ape_pct << " %, max " << s.max_ape_pct
                 << " %");
  // The samples carry a +-1 % wobble; a dozen of them pin 7 weights to about that.
  CHECK(flame::fit::median(ape) < 1.5);
  CHECK(s.p95_ape_pct < 4.0);
  // Without power samples there is no power model, and the estimate says so with 0 W.
  points = profiles(truth, g, 12, [](const Clocks&) { return 1.0; });
  points[4].power_w.reset();
  const auto none = fit_layerwise(points, g.emc_hz);
  CHECK_FALSE(none.power());
  CHECK(none.estimate(g.max()).power_w == 0);
}

TEST_CASE("layer-wise power: the synthetic board's power truth is recovered by `model synth`'s fit",
          "[layerwise][power]") {
  const auto ds = flame::model::load_coupling_dataset(std::string(FLAME_SOURCE_DIR) +
                                                      "/data/h200-coupling/coupling.json");
  const auto g = orin();
  const auto r = recover_layerwise(ds.configs[0], g, RecoveryOptions{});
  INFO(ds.configs[0].tag << ": median " << r.power_median_ape_pct << " %, p95 " << r.power.p95_ape_pct
                         << " %");
  CHECK(r.power.n == static_cast<int>(g.size()));
  // Measured values are in docs/profiling.md ("Power error"); the bounds leave room for the data.
  CHECK(r.power_median_ape_pct < 10.0);
  CHECK(r.power.p95_ape_pct < 35.0);
  // Better than what the samples say without a model: their median power everywhere.
  std::vector<double> samples, flat;
  for (const auto& p : synthetic_profiles(ds.configs[0], g, RecoveryOptions{})) samples.push_back(*p.power_w);
  for (size_t k = 0; k < g.size(); ++k)
    flat.push_back(flame::fit::ape_pct(flame::fit::median(samples),
                                       flame::validate::synthetic_power_w(ds.configs[0], g, g.at(k), {})));
  CHECK(r.power_median_ape_pct < 0.7 * flame::fit::median(flat));
  // The truth moves with the clocks (it is not a constant the fit could trivially match).
  const double lo = flame::validate::synthetic_power_w(ds.configs[0], g, g.at(0), {}),
               hi = flame::validate::synthetic_power_w(ds.configs[0], g, g.max(), {});
  CHECK(hi > 1.5 * lo);
}

TEST_CASE("layer-wise power: the model file round-trips the power model", "[layerwise][power]") {
  const auto g = orin();
  const std::string yaml = fitted_yaml(g);
  CHECK_THAT(yaml, Catch::Contains("power:"));
  const auto loaded = flame::model::parse_model_file(yaml, "m.yaml");
  const auto* lw = dynamic_cast<const flame::model::LayerwiseLatencyModel*>(loaded.model.get());
  REQUIRE(lw);
  REQUIRE(lw->layerwise().power());
  const auto original = fit_layerwise(
      profiles(two_segments(g), g, 12, [&](const Clocks& c) { return dram_heavy_power_w(c, g); }), g.emc_hz);
  for (size_t k = 0; k < g.size(); k += 37) {
    const Clocks c = g.at(k);
    const Estimate a = loaded.model->estimate(c, {}), b = original.estimate(c);
    CHECK(a.power_w > 0);
    CHECK(a.power_w == Approx(b.power_w).epsilon(1e-6));
    CHECK(a.latency_ms == Approx(b.latency_ms).epsilon(1e-6));
  }
  // Written again, the file is the same.
  CHECK(layerwise_to_yaml(lw->layerwise(), "toy", "orin-nano-8gb-super", "a test") == yaml);
}

TEST_CASE("layer-wise power: an older file without power loads, estimates 0 W, and the search uses its proxy",
          "[layerwise][power]") {
  // Version 1 as written before power existed (docs/model-format.md).
  const std::string old = R"(format: flame-model
version: 1
kind: layerwise
name: old
costs: {cpu_offset_ns: 0, gpu_scale: 1.0, sync_latency_ns: 20000}
emc_hz: [665600000, 2133000000, 3199000000]
segments:
  - {name: conv1, cpu: [5000, 1.0e11], gpu: {work_ns_hz: 2.0e14, memory_ns: [59373, 30847, 22852]}}
)";
  const auto loaded = flame::model::parse_model_file(old, "old.yaml");
  const auto* lw = dynamic_cast<const flame::model::LayerwiseLatencyModel*>(loaded.model.get());
  REQUIRE(lw);
  CHECK_FALSE(lw->layerwise().power());
  const auto g = orin();
  const Estimate e = loaded.model->estimate(g.max(), {});
  CHECK(e.power_w == 0);
  CHECK(e.latency_ms > 0);
  // The proxy: lower clocks at the same latency rank lower.
  Estimate same = e;
  CHECK(flame::search::comparable_energy(g.at(0), same, g) < flame::search::comparable_energy(g.max(), e, g));
  // A version this build does not know is refused, naming it.
  CHECK_THAT(error_of(replaced(old, "version: 1", "version: 7")),
             Catch::Contains("version 7 is not supported"));
}

TEST_CASE("layer-wise power: with fitted power the search picks a lower-energy point than with the proxy",
          "[layerwise][power][search]") {
  const auto g = orin();
  const auto truth = two_segments(g);
  const auto points = profiles(truth, g, 12, [&](const Clocks& c) { return dram_heavy_power_w(c, g); });
  const auto with_power = fit_layerwise(points, g.emc_hz);
  auto without = points;
  for (auto& p : without) p.power_w.reset();
  const auto proxy_only = fit_layerwise(without, g.emc_hz);
  REQUIRE(with_power.power());
  REQUIRE_FALSE(proxy_only.power());

  // Deadlines against the fitted model's fastest (both searches share its latency curves).
  const double fastest = with_power.latency_ns(g.max()) / 1e6;
  INFO("fastest: model " << fastest << " ms, truth " << truth.latency_ns(g.max()) / 1e6 << " ms");
  auto true_energy = [&](const Clocks& c) { return dram_heavy_power_w(c, g) * truth.latency_ns(c) / 1e6; };
  int differed = 0;
  for (double k : {1.3, 1.6, 2.0, 2.5}) {
    INFO("deadline " << k << " x the fastest");
    const double target = fastest * k;
    const auto a = flame::search::greedy_search(
        g, [&](const Clocks& c) { return with_power.estimate(c); }, target);
    const auto b = flame::search::greedy_search(
        g, [&](const Clocks& c) { return proxy_only.estimate(c); }, target);
    REQUIRE(a.feasible);
    REQUIRE(b.feasible);
    CHECK(a.estimate.power_w > 0);
    CHECK(b.estimate.power_w == 0);
    CHECK(true_energy(a.clocks) <= true_energy(b.clocks) * 1.001);
    if (a.clocks != b.clocks && true_energy(a.clocks) < 0.97 * true_energy(b.clocks)) ++differed;
  }
  CHECK(differed >= 2);
}

TEST_CASE("layer-wise power: a file with the grid power form (version 2) loads and predicts the same",
          "[layerwise][power]") {
  const auto g = orin();
  const auto m = with_grid_form_power(g);
  const std::string yaml =
      replaced(layerwise_to_yaml(m, "toy", "orin-nano-8gb-super", "a test"), "version: 3", "version: 2");
  CHECK_THAT(yaml, Catch::Contains("log_terms:"));
  const auto loaded = flame::model::parse_model_file(yaml, "m.yaml");
  for (size_t k = 0; k < g.size(); k += 53) {
    const Clocks c = g.at(k);
    CHECK(loaded.model->estimate(c, {}).power_w == Approx(m.estimate(c).power_w).epsilon(1e-6));
    CHECK(m.estimate(c).power_w > 0);
  }
}

TEST_CASE("layer-wise power: a corrupt power section is refused with file:line:column",
          "[layerwise][power]") {
  const std::string busy = fitted_yaml(orin());
  CHECK(error_of(busy).empty());
  CHECK_THAT(error_of(replaced(busy, "  terms:", "  termz:")),
             Catch::Matches("m\\.yaml:\\d+:\\d+: power: missing 'terms'"));
  CHECK_THAT(error_of(replaced(busy, "    one:", "    cpu^9:")),
             Catch::Matches("m\\.yaml:\\d+:\\d+: power\\.terms: unknown power term 'cpu\\^9'.*"));
  CHECK_THAT(error_of(replaced(busy, "    one: ", "    one: -")), Catch::Contains("power.terms.one: -"));
  CHECK_THAT(error_of(replaced(busy, "  terms:", "  terms: [1, 2]\n  x:")),
             Catch::Contains("power.terms: expected a mapping of term: weight"));
  const std::string yaml =
      layerwise_to_yaml(with_grid_form_power(orin()), "toy", "orin-nano-8gb-super", "a test");
  CHECK(error_of(yaml).empty());
  CHECK_THAT(error_of(replaced(yaml, "  reference:", "  referenz:")),
             Catch::Matches("m\\.yaml:\\d+:\\d+: power: missing 'reference'"));
  CHECK_THAT(error_of(replaced(yaml, "    1:", "    cpu^9:")),
             Catch::Matches("m\\.yaml:\\d+:\\d+: power\\.log_terms: unknown power feature 'cpu\\^9'"));
  CHECK_THAT(error_of(replaced(yaml, "cpu_khz: 1728000", "cpu_khz: -5")),
             Catch::Contains("power.reference.cpu_khz: -5 is out of range"));
  CHECK_THAT(error_of(replaced(yaml, "latency_ref_ms:", "latency_ref_ms: lots #")),
             Catch::Contains("power.latency_ref_ms: 'lots' is not a number"));
  CHECK_THAT(error_of(replaced(yaml, "log_terms:", "log_terms: [1, 2]\n  x:")),
             Catch::Contains("power.log_terms: expected a mapping of feature: weight"));
}

TEST_CASE("profile fit: rail power samples become the model's power, with its held-back error",
          "[profile][power]") {
  using namespace flame::profile;
  JournalHeader h;
  h.model = "toy";
  h.command = {"run"};
  h.budget = 12;
  h.seed = 1;
  h.grid = orin();
  h.plan = make_profile_plan(h.grid, 12, 1).steps;
  const auto truth = two_segments(h.grid);
  std::vector<StepRecord> steps;
  for (std::size_t s = 0; s < h.plan.size(); ++s) {
    StepRecord r;
    r.step = s;
    r.requested = r.applied = r.observed = h.plan[s];
    r.power_mw = in_form_power_w(truth, h.plan[s], h.grid) * 1e3;
    WorkloadResult w;
    w.trace_run.names = truth.names();
    for (std::size_t i = 0; i < truth.segments(); ++i) {
      w.trace_run.run.cpu_ns.push_back(truth.cpu_curves()[i].at(h.plan[s].cpu_khz, h.plan[s].emc_hz));
      w.trace_run.run.gpu_ns.push_back(truth.gpu_curves()[i].at(h.plan[s].gpu_hz, h.plan[s].emc_hz));
    }
    w.trace_run.run.e2e_median_ns = truth.latency_ns(h.plan[s]);
    w.trace_run.run.sync_ns = 20000;
    r.workloads.push_back(w);
    steps.push_back(r);
  }
  const auto f = fit_workload(h, steps);
  REQUIRE(f.model.power());
  CHECK(f.quality.power_in_sample.n == 12);
  CHECK(f.quality.power_cross_validated.n == 12);
  CHECK(f.quality.power_cross_validated.mean_ape_pct < 2.0);
  const std::string text = model_file_text(f, h, "orin-nano-8gb-super");
  CHECK_THAT(text, Catch::Contains("Power: leave-one-out error mean"));
  const Clocks c{806400, 0, 612e6, 2133e6};
  CHECK(flame::model::parse_model_file(text, "x.yaml").model->estimate(c, {}).power_w ==
        Approx(f.model.estimate(c).power_w).epsilon(1e-6));
  // One combination without a rail sample (or a reading of 0): no power model, said in the file.
  steps[3].power_mw = 0.0;
  const auto g = fit_workload(h, steps);
  CHECK_FALSE(g.model.power());
  CHECK(g.quality.power_cross_validated.n == 0);
  CHECK_THAT(model_file_text(g, h, "orin-nano-8gb-super"), Catch::Contains("No power model"));
}
