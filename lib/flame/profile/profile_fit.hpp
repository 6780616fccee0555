#pragma once
// From the journal to a model file: the layer-wise model (or, for an SLM, one model of both phases
// and every context length, slm_model.hpp), fitted
// from the profiled combinations (fit_layerwise, docs/layerwise-model.md), with its quality
// estimated by leave-one-out cross-validation: each profiled combination is held back in turn,
// the model is fitted on the others and predicts it; the error is against the held-back measured
// end-to-end time (and, when every combination has a rail power sample, the power model's error
// against them). Why layer-wise: a trace gives per-segment host and device times at every
// combination, which is exactly what it fits from; a grid (model-level) fit would throw that away.
#include <span>
#include <string>
#include <vector>

#include "flame/features/prior_dir.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/model/model_file.hpp"
#include "flame/model/slm_model.hpp"
#include "flame/profile/detail/profile_journal.hpp"

namespace flame::profile {

struct HeldBack {
  std::size_t step = 0;
  Clocks clocks;
  std::string phase;  // SLMs
  int ctx = 0;
  double measured_ns = 0;
  double predicted_ns = 0;  // by the model fitted without this combination
};

// The quality of a fit, whatever the model.
struct FitQuality {
  std::size_t points = 0;
  fit::ErrorStats in_sample;        // the full model on the combinations it was fitted on
  fit::ErrorStats cross_validated;  // leave-one-out; n = 0 with fewer than 3 combinations
  // The same for the power model against the rail samples; n = 0 without a power model.
  fit::ErrorStats power_in_sample, power_cross_validated;
  std::vector<HeldBack> held_back;
};

struct WorkloadFit {
  std::string name;  // the name flamed serves it under
  model::LayerwiseModel model;
  // Whether the profiled clocks could separate the host's EMC term (host_memory_term_identifiable);
  // without it the host curves have the form fixed + work / f_cpu and the model file says so.
  bool host_memory_term = false;
  FitQuality quality;
  model::LayerwiseFileExtras extras;  // the segments' traits; `derived` for a model from a prior
};

// Fits the model from every journal step. Throws std::runtime_error when the traces do not share
// one segment structure (naming the first step that differs) or there are no steps.
WorkloadFit fit_workload(const JournalHeader& header, std::span<const StepRecord> steps);

// A model from the journal's one profiled combination and a prior (features/prior_dir.hpp): its
// curves are the shapes the prior predicts from its segments' features, scaled to what it measured
// there; its power the prior models' power forms averaged and scaled to its rail sample. The
// quality is in-sample only. Throws std::runtime_error unless the journal has exactly one step and
// the prior learned from at least one model.
WorkloadFit derive_workload(const JournalHeader& header, std::span<const StepRecord> steps,
                            const features::PriorDir& prior, const std::string& prior_name);

// An SLM (the header has workloads): both phases, every context length, one model.
struct SlmFit {
  std::string name;
  model::SlmModel model;
  FitQuality quality;
};
// Throws std::runtime_error as fit_workload does (per phase), or when a phase has fewer profiled
// contexts than its basis needs. Leave-one-out holds back only the runs the plan's design can do
// without (another run of the phase at the same EMC level, the context still at two GPU clocks).
SlmFit fit_slm_workloads(const JournalHeader& header, std::span<const StepRecord> steps);
std::string slm_model_file_text(const SlmFit& fit, const JournalHeader& header, const std::string& board);

// The model file text (docs/model-format.md), with the fit quality in its header comment. It is
// parsed back before being returned, so a file flamed could not load is never produced.
std::string model_file_text(const WorkloadFit& fit, const JournalHeader& header, const std::string& board);

}  // namespace flame::profile
