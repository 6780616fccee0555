#pragma once
// From the journal to model files: one layer-wise model per workload (context length), fitted
// from the profiled combinations (fit_layerwise, docs/layerwise-model.md), with its quality
// estimated by leave-one-out cross-validation: each profiled combination is held back in turn,
// the model is fitted on the others and predicts it; the error is against the held-back measured
// end-to-end time (and, when every combination has a rail power sample, the power model's error
// against them). Why layer-wise: a trace gives per-segment host and device times at every
// combination, which is exactly what it fits from; a grid (model-level) fit would throw that away.
#include <span>
#include <string>
#include <vector>

#include "flame/fit/error_stats.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/profile/detail/profile_journal.hpp"

namespace flame::profile {

struct HeldBack {
  std::size_t step = 0;
  Clocks clocks;
  double measured_ns = 0;
  double predicted_ns = 0;  // by the model fitted without this combination
};

struct WorkloadFit {
  int ctx = 0;
  std::string name;  // the name flamed serves it under
  model::LayerwiseModel model;
  std::size_t points = 0;
  // Whether the profiled clocks could separate the host's EMC term (host_memory_term_identifiable);
  // without it the host curves have the form fixed + work / f_cpu and the model file says so.
  bool host_memory_term = false;
  fit::ErrorStats in_sample;        // the full model on the combinations it was fitted on
  fit::ErrorStats cross_validated;  // leave-one-out; n = 0 with fewer than 3 combinations
  // The same for the power model against the rail samples; n = 0 without a power model.
  fit::ErrorStats power_in_sample, power_cross_validated;
  std::vector<HeldBack> held_back;
};

// The served name: the model name, or "<name>-ctx<N>" per context length.
std::string workload_name(const std::string& model, int ctx);

// Fits workload `index` (position in the header's contexts; 0 without contexts) from every journal
// step. Throws std::runtime_error when the traces do not share one segment structure (naming the
// first step that differs) or there are no steps.
WorkloadFit fit_workload(const JournalHeader& header, std::span<const StepRecord> steps, std::size_t index);

// The model file text (docs/model-format.md), with the fit quality in its header comment. It is
// parsed back before being returned, so a file flamed could not load is never produced.
std::string model_file_text(const WorkloadFit& fit, const JournalHeader& header, const std::string& board);

}  // namespace flame::profile
