#include "flame/validate/feature_validation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "flame/model/coupling_calibration.hpp"
#include "flame/model/timeline.hpp"
#include "flame/validate/coupling_validation.hpp"

namespace flame::validate {
namespace {

double weighted_ape(const std::vector<double>& pred, const std::vector<double>& meas) {
  double err = 0, total = 0;
  for (size_t i = 0; i < meas.size(); ++i) {
    err += std::abs(pred[i] - meas[i]);
    total += meas[i];
  }
  return total > 0 ? err / total * 100.0 : 0.0;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

FeatureSummary summarize(const std::vector<const FeatureCase*>& cases) {
  std::vector<double> th, ti, wh, wi, eh, ei, ep;
  for (const auto* c : cases) {
    th.push_back(fit::ape_pct(c->gpu_held_out_ns, c->gpu_measured_ns));
    ti.push_back(fit::ape_pct(c->gpu_in_sample_ns, c->gpu_measured_ns));
    wh.push_back(c->weighted_held_out_ape_pct);
    wi.push_back(c->weighted_in_sample_ape_pct);
    eh.push_back(fit::ape_pct(c->e2e_held_out_ns, c->e2e_measured_ns));
    ei.push_back(fit::ape_pct(c->e2e_in_sample_ns, c->e2e_measured_ns));
    ep.push_back(fit::ape_pct(c->e2e_profiled_ns, c->e2e_measured_ns));
  }
  return {fit::summarize_ape(th), fit::summarize_ape(ti), fit::summarize_ape(wh), fit::summarize_ape(wi),
          fit::summarize_ape(eh), fit::summarize_ape(ei), fit::summarize_ape(ep)};
}

}  // namespace

std::vector<features::FeatureRow> config_feature_rows(const model::CouplingConfig& c) {
  return features::feature_rows({c.dtype, c.mode, static_cast<double>(c.ctx)}, c.profile.segments);
}

FeatureReport validate_features(const model::CouplingDataset& dataset,
                                const features::FeatureModelOptions& options) {
  const size_t n = dataset.configs.size();
  if (n < 2)
    throw std::runtime_error(
        fmt::format("{}: leave-one-out needs at least two configurations, got {}", dataset.source, n));
  std::vector<std::vector<features::FeatureRow>> rows(n);
  std::vector<std::vector<double>> gpu(n);
  std::vector<model::ProfiledRun> runs;
  FeatureReport report;
  for (size_t i = 0; i < n; ++i) {
    const auto& c = dataset.configs[i];
    rows[i] = config_feature_rows(c);
    for (const auto& s : c.profile.segments) {
      gpu[i].push_back(s.gpu_ns);
      if (s.features && s.features->macs > 0) report.has_macs = true;
    }
    runs.push_back(reference_run(c));
  }
  auto fit_without = [&](size_t skip) {
    std::vector<features::FeatureRow> r;
    std::vector<double> y;
    for (size_t i = 0; i < n; ++i) {
      if (i == skip) continue;
      r.insert(r.end(), rows[i].begin(), rows[i].end());
      y.insert(y.end(), gpu[i].begin(), gpu[i].end());
    }
    return fit_feature_model(r, y, options);
  };
  report.in_sample = fit_without(n);

  for (size_t i = 0; i < n; ++i) {
    const auto& c = dataset.configs[i];
    const features::FeatureModel held_out = fit_without(i);
    const auto pred = held_out.predict_ns(rows[i]);
    const auto pred_in = report.in_sample.predict_ns(rows[i]);
    FeatureCase fc;
    fc.tag = c.tag;
    fc.model = c.model;
    fc.gpu_measured_ns = sum(gpu[i]);
    fc.gpu_held_out_ns = sum(pred);
    fc.gpu_in_sample_ns = sum(pred_in);
    fc.weighted_held_out_ape_pct = weighted_ape(pred, gpu[i]);
    fc.weighted_in_sample_ape_pct = weighted_ape(pred_in, gpu[i]);
    for (size_t j = 0; j < rows[i].size(); ++j) {
      const bool call = rows[i][j].kind == model::SegmentKind::Call;
      (call ? fc.call_measured_ns : fc.glue_measured_ns) += gpu[i][j];
      (call ? fc.call_held_out_ns : fc.glue_held_out_ns) += pred[j];
      if (held_out.level(rows[i][j]) != features::FeatureLevel::Group) ++fc.fallback_segments;
    }

    // The measured host side of this configuration; the sync latency from the other
    // configurations' reference runs (this one's would need its GPU profile).
    std::vector<model::ProfiledRun> others;
    for (size_t k = 0; k < n; ++k)
      if (k != i) others.push_back(runs[k]);
    const model::MachineCalibration machine = calibrate_machine(others);
    const model::CouplingSweep& ref = c.sweeps.front();
    model::TimelineCosts costs;
    costs.cpu_offset_ns = ref.e2e_median_ns - ref.total_cpu_ns() - ref.sync_ns;
    costs.sync_latency_ns = machine.sync_latency_ns.value_or(0.0);
    fc.e2e_measured_ns = ref.e2e_median_ns;
    fc.e2e_held_out_ns = simulate_timeline(ref.cpu_seg_ns, pred, costs).e2e_ns;
    fc.e2e_in_sample_ns = simulate_timeline(ref.cpu_seg_ns, pred_in, costs).e2e_ns;
    fc.e2e_profiled_ns = simulate_timeline(ref.cpu_seg_ns, gpu[i], costs).e2e_ns;
    report.cases.push_back(std::move(fc));
  }
  std::vector<const FeatureCase*> all;
  std::map<std::string, std::vector<const FeatureCase*>> by_model;
  for (const auto& c : report.cases) {
    all.push_back(&c);
    by_model[c.model].push_back(&c);
  }
  report.all = summarize(all);
  for (const auto& [model, cases] : by_model) report.by_model[model] = summarize(cases);
  return report;
}

}  // namespace flame::validate
