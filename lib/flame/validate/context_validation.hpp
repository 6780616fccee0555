#pragma once
// `flame validate contexts`: fit each SLM phase's context model from a few profiled context
// lengths and predict the others (see docs/context-model.md).
#include <optional>
#include <string>
#include <vector>

#include "flame/context/context_model.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_dataset.hpp"

namespace flame::validate {

// One profiled context, predicted by the model of its series.
struct ContextCase {
  std::string tag;
  int ctx = 0;
  bool fitted = false;  // one of the fit contexts (in-sample) rather than held out

  double gpu_weighted_ape_pct = 0;  // sum |pred - meas| / sum meas over all segments
  double gpu_median_ape_pct = 0;    // median APE over segments with measured GPU time > 1 us
  int gpu_segments_over_1us = 0;
  double gpu_measured_ns = 0;  // total GPU time
  double gpu_predicted_ns = 0;
  double cpu_measured_ns = 0;  // total host span
  double cpu_predicted_ns = 0;

  double e2e_measured_ns = 0;  // median end-to-end time at slowdown 1
  // Everything predicted: model host spans, GPU times and timeline costs.
  double e2e_predicted_ns = 0;
  // This context's measured host spans; GPU times and timeline costs from the model.
  double e2e_measured_spans_ns = 0;
  // This context's measured host side (spans and host offset); GPU times, GPU scale and sync
  // latency from the model: isolates what the context model controls from host noise.
  double e2e_measured_host_ns = 0;
  // As e2e_measured_host_ns but with the measured GPU times: the floor of that comparison.
  double e2e_profiled_ns = 0;
};

struct ContextSummary {  // over the held-out contexts of one series
  fit::ErrorStats gpu_weighted;
  fit::ErrorStats gpu_median;
  fit::ErrorStats gpu_total;
  fit::ErrorStats e2e;
  fit::ErrorStats e2e_measured_spans;
  fit::ErrorStats e2e_measured_host;
  fit::ErrorStats e2e_profiled;
};

struct ContextSeriesReport {
  std::string model;
  model::ContextPhase phase = model::ContextPhase::Decode;
  std::vector<int> fit_contexts;
  std::vector<int> held_out_contexts;
  model::TimelineCosts costs;        // combined over the fit contexts
  Eigen::MatrixXd gpu_coefficients;  // per segment, per basis function (ns per ctx^k)
  std::vector<ContextCase> cases;    // every profiled context, by context length
  ContextSummary held_out;
};

struct ContextReport {
  int fit_count = 0;  // requested; a series with fewer contexts fits from all of them
  model::MachineCalibration machine;
  std::vector<ContextSeriesReport> series;
};

// Each series fits from min(fit_count, its contexts) chosen by choose_fit_contexts; `only` restricts
// the report to one phase. Throws std::runtime_error when the file has no configuration with a
// context length (of that phase), or a fit would have fewer contexts than its phase has basis
// functions (fit_count too small, or too few profiled).
ContextReport validate_contexts(const model::CouplingDataset& dataset, int fit_count = 3,
                                std::optional<model::ContextPhase> only = std::nullopt);

}  // namespace flame::validate
