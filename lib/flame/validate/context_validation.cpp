#include "flame/validate/context_validation.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flame/context/context_series.hpp"
#include "flame/context/fit_contexts.hpp"
#include "flame/fit/median.hpp"
#include "flame/model/timeline.hpp"

namespace flame::validate {
namespace {

constexpr double kMedianFloorNs = 1000;  // segments below 1 us are launch noise for the median APE

context::ContextSample sample_of(const model::CouplingConfig& c) {
  return {c.ctx, c.profile, c.sweeps.front().e2e_median_ns};
}

ContextCase predict_case(const context::ContextModel& model, const model::CouplingConfig& c, bool fitted) {
  ContextCase r;
  r.tag = c.tag;
  r.ctx = c.ctx;
  r.fitted = fitted;
  const auto pred_gpu = model.gpu_ns(c.ctx);
  const auto pred_cpu = model.cpu_ns();
  const model::CouplingSweep& ref = c.sweeps.front();
  std::vector<double> meas_gpu, apes;
  double abs_err = 0;
  for (size_t i = 0; i < c.profile.segments.size(); ++i) {
    const double m = c.profile.segments[i].gpu_ns;
    meas_gpu.push_back(m);
    abs_err += std::abs(pred_gpu[i] - m);
    r.gpu_measured_ns += m;
    r.gpu_predicted_ns += pred_gpu[i];
    r.cpu_measured_ns += ref.cpu_seg_ns[i];
    r.cpu_predicted_ns += pred_cpu[i];
    if (m > kMedianFloorNs) apes.push_back(fit::ape_pct(pred_gpu[i], m));
  }
  r.gpu_weighted_ape_pct = r.gpu_measured_ns > 0 ? abs_err / r.gpu_measured_ns * 100.0 : 0.0;
  r.gpu_median_ape_pct = fit::median(apes);
  r.gpu_segments_over_1us = static_cast<int>(apes.size());

  r.e2e_measured_ns = ref.e2e_median_ns;
  r.e2e_predicted_ns = model.simulate(c.ctx).e2e_ns;
  r.e2e_measured_spans_ns = simulate_timeline(ref.cpu_seg_ns, pred_gpu, model.costs()).e2e_ns;
  // The host offset is host jitter (median iteration minus the sum of per-segment medians), so it
  // belongs to the measured host side; GPU scale and sync latency stay the model's.
  model::TimelineCosts own = model.costs();
  own.cpu_offset_ns = ref.e2e_median_ns - ref.total_cpu_ns() - ref.sync_ns;
  r.e2e_measured_host_ns = simulate_timeline(ref.cpu_seg_ns, pred_gpu, own).e2e_ns;
  r.e2e_profiled_ns = simulate_timeline(ref.cpu_seg_ns, meas_gpu, own).e2e_ns;
  return r;
}

ContextSummary summarize(const std::vector<ContextCase>& cases) {
  std::vector<double> w, med, tot, e2e, spans, host, prof;
  for (const auto& c : cases) {
    if (c.fitted) continue;
    w.push_back(c.gpu_weighted_ape_pct);
    med.push_back(c.gpu_median_ape_pct);
    tot.push_back(fit::ape_pct(c.gpu_predicted_ns, c.gpu_measured_ns));
    e2e.push_back(fit::ape_pct(c.e2e_predicted_ns, c.e2e_measured_ns));
    spans.push_back(fit::ape_pct(c.e2e_measured_spans_ns, c.e2e_measured_ns));
    host.push_back(fit::ape_pct(c.e2e_measured_host_ns, c.e2e_measured_ns));
    prof.push_back(fit::ape_pct(c.e2e_profiled_ns, c.e2e_measured_ns));
  }
  return {fit::summarize_ape(w),   fit::summarize_ape(med),   fit::summarize_ape(tot),
          fit::summarize_ape(e2e), fit::summarize_ape(spans), fit::summarize_ape(host),
          fit::summarize_ape(prof)};
}

}  // namespace

ContextReport validate_contexts(const model::CouplingDataset& dataset, int fit_count,
                                std::optional<model::ContextPhase> only) {
  if (fit_count < 1) throw std::runtime_error(fmt::format("--fit must be at least 1, got {}", fit_count));
  auto all = context::context_series(dataset);
  std::vector<context::ContextSeries> series;
  for (auto& s : all)
    if (!only || s.phase == *only) series.push_back(std::move(s));
  if (series.empty())
    throw std::runtime_error(
        fmt::format("{}: no configuration with a {}context length (config.mode and config.ctx)",
                    dataset.source, only ? std::string(model::phase_name(*only)) + " " : ""));

  ContextReport report;
  report.fit_count = fit_count;
  // Choose every series' fit contexts first: the machine's sync latency comes from those runs only.
  std::vector<std::vector<int>> chosen;
  std::vector<model::ProfiledRun> fit_runs;
  for (const auto& s : series) {
    const auto contexts = s.contexts();
    const int n = std::min(fit_count, static_cast<int>(contexts.size()));
    if (n < model::basis_size(s.phase))
      throw std::runtime_error(
          fmt::format("{}: {} {}: fitting {{{}}} needs at least {} contexts, {}", dataset.source, s.model,
                      model::phase_name(s.phase), fmt::join(model::basis_names(s.phase), ", "),
                      model::basis_size(s.phase),
                      n < static_cast<int>(contexts.size()) ? fmt::format("--fit asks for {}", n)
                                                            : fmt::format("the file profiles only {}", n)));
    chosen.push_back(context::choose_fit_contexts(contexts, n));
    for (const auto* c : s.configs)
      if (std::count(chosen.back().begin(), chosen.back().end(), c->ctx))
        fit_runs.push_back(profiled_run(sample_of(*c)));
  }
  report.machine = calibrate_machine(fit_runs);

  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    const auto& fit = chosen[si];
    std::vector<context::ContextSample> samples;
    for (const auto* c : s.configs)
      if (std::count(fit.begin(), fit.end(), c->ctx)) samples.push_back(sample_of(*c));
    const context::ContextModel model = fit_context_model(s.phase, samples, report.machine);

    ContextSeriesReport r;
    r.model = s.model;
    r.phase = s.phase;
    r.fit_contexts = fit;
    r.costs = model.costs();
    r.gpu_coefficients = model.gpu_coefficients();
    for (const auto* c : s.configs) {
      const bool fitted = std::count(fit.begin(), fit.end(), c->ctx) > 0;
      if (!fitted) r.held_out_contexts.push_back(c->ctx);
      r.cases.push_back(predict_case(model, *c, fitted));
    }
    r.held_out = summarize(r.cases);
    report.series.push_back(std::move(r));
  }
  return report;
}

}  // namespace flame::validate
