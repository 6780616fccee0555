#include "flame/validate/coupling_validation.hpp"

#include <algorithm>

#include "flame/model/baselines.hpp"
#include "flame/model/timeline.hpp"

namespace flame::validate {

model::ProfiledRun reference_run(const model::CouplingConfig& config) {
  const model::CouplingSweep& ref = config.sweeps.front();
  model::ProfiledRun run;
  run.cpu_ns = ref.cpu_seg_ns;
  for (const auto& s : config.profile.segments) run.gpu_ns.push_back(s.gpu_ns);
  run.e2e_median_ns = ref.e2e_median_ns;
  run.sync_ns = ref.sync_ns;
  return run;
}

CouplingReport validate_coupling(const model::CouplingDataset& dataset) {
  CouplingReport report;
  std::vector<model::ProfiledRun> runs;
  for (const auto& c : dataset.configs) runs.push_back(reference_run(c));
  // Only reference (slowdown 1) measurements enter any calibration.
  report.machine = calibrate_machine(runs);

  std::vector<double> ours_all, ours_band, loco_all, loco_band, steady_all, steady_band, loco_steady_all,
      loco_steady_band;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> base;
  for (size_t i = 0; i < dataset.configs.size(); ++i) {
    const model::CouplingConfig& config = dataset.configs[i];
    const model::ProfiledRun& run = runs[i];
    const model::TimelineCosts costs = calibrate_costs(run, report.machine);
    report.costs[config.tag] = costs;
    // The shared costs without this configuration: what a configuration never profiled with the
    // others would get.
    std::vector<model::ProfiledRun> others;
    for (size_t j = 0; j < runs.size(); ++j)
      if (j != i) others.push_back(runs[j]);
    const model::TimelineCosts loco_costs = calibrate_costs(run, calibrate_machine(others));

    const double ref_cpu = config.sweeps.front().total_cpu_ns();
    const double total_gpu = config.profile.total_gpu_ns();
    const double ref_e2e = run.e2e_median_ns;
    // Baselines get the same reference calibration: an additive offset that makes them exact at s = 1.
    const double off_max = ref_e2e - model::baseline::max_of_sums(run.cpu_ns, run.gpu_ns, 1.0);
    const double off_sum = ref_e2e - model::baseline::sum_of_max(run.cpu_ns, run.gpu_ns, 1.0);

    for (const model::CouplingSweep& sweep : config.sweeps) {
      CouplingCase c;
      c.tag = config.tag;
      c.slowdown = sweep.slowdown;
      c.cpu_ratio = ref_cpu > 0 ? sweep.total_cpu_ns() / ref_cpu : 1.0;
      c.measured_ns = sweep.e2e_median_ns;
      const model::TimelineResult t = simulate_timeline(run.cpu_ns, run.gpu_ns, costs, c.cpu_ratio);
      c.predicted_ns = t.e2e_ns;
      c.predicted_loco_ns = simulate_timeline(run.cpu_ns, run.gpu_ns, loco_costs, c.cpu_ratio).e2e_ns;
      c.steady = sweep.steady();
      c.bubble_ns = t.bubble_ns;
      c.launch_bound = t.launch_bound;
      c.execution_bound = t.execution_bound;
      const double cpu_total = ref_cpu * c.cpu_ratio;
      c.band = std::max(cpu_total, total_gpu) <= 2.0 * std::min(cpu_total, total_gpu);
      c.baseline_ns["scaled_e2e"] = model::baseline::scaled_e2e(ref_e2e, c.cpu_ratio);
      c.baseline_ns["max_of_sums"] =
          model::baseline::max_of_sums(run.cpu_ns, run.gpu_ns, c.cpu_ratio) + off_max;
      c.baseline_ns["sum_of_max"] =
          model::baseline::sum_of_max(run.cpu_ns, run.gpu_ns, c.cpu_ratio) + off_sum;
      if (sweep.slowdown > 1.0) {
        const double e = fit::ape_pct(c.predicted_ns, c.measured_ns);
        const double l = fit::ape_pct(c.predicted_loco_ns, c.measured_ns);
        ours_all.push_back(e);
        loco_all.push_back(l);
        if (c.band) ours_band.push_back(e), loco_band.push_back(l);
        if (c.steady) {
          steady_all.push_back(e);
          loco_steady_all.push_back(l);
          if (c.band) steady_band.push_back(e), loco_steady_band.push_back(l);
        }
        for (const auto& [name, value] : c.baseline_ns) {
          const double be = fit::ape_pct(value, c.measured_ns);
          base[name].first.push_back(be);
          if (c.band) base[name].second.push_back(be);
        }
      }
      report.cases.push_back(std::move(c));
    }
  }
  report.ours = {fit::summarize_ape(ours_all), fit::summarize_ape(ours_band)};
  report.ours_loco = {fit::summarize_ape(loco_all), fit::summarize_ape(loco_band)};
  report.ours_steady = {fit::summarize_ape(steady_all), fit::summarize_ape(steady_band)};
  report.ours_loco_steady = {fit::summarize_ape(loco_steady_all), fit::summarize_ape(loco_steady_band)};
  for (const auto& [name, v] : base)
    report.baselines[name] = {fit::summarize_ape(v.first), fit::summarize_ape(v.second)};
  return report;
}

}  // namespace flame::validate
