#pragma once
// From an end-to-end journal (`flame profile --e2e`) to a model file: the per-inference latencies
// of every profiled combination, with its rail power, become the samples of the same grid model
// `flame fit` makes (lib/flame/grid/grid_model: the coupled latency model and the log-linear power
// model, glitch screen included; the median of each combination's latencies is what is fitted).
// Its quality is estimated as the layer-wise fit's is: leave-one-out over the combinations, against
// each held-back combination's median latency (and rail power).
#include <span>
#include <string>
#include <vector>

#include "flame/fit/error_stats.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/profile/detail/profile_journal.hpp"

namespace flame::profile {

struct EndToEndFit {
  std::string name;  // the name flamed serves it under
  grid::GridModel model;
  std::size_t points = 0;               // combinations fitted
  std::vector<std::string> excluded;    // combinations the glitch screen left out, with the reason
  std::size_t excluded_inferences = 0;  // latencies it left out (far from their combination's median)
  fit::ErrorStats in_sample,
      cross_validated;  // latency; cross_validated.n = 0 with fewer than 5 combinations
  fit::ErrorStats power_in_sample, power_cross_validated;  // n = 0 without a power model
};

// Throws std::runtime_error when a step has no latencies (not an --e2e journal) or there are
// too few combinations for the grid fit (naming the minimum).
EndToEndFit fit_end_to_end(const JournalHeader& header, std::span<const StepRecord> steps);

// The `kind: grid` model file text with the fit quality in its header comment, parsed back before
// it is returned (a file flamed could not load is never produced).
std::string end_to_end_model_file_text(const EndToEndFit& fit, const JournalHeader& header,
                                       const std::string& board);

}  // namespace flame::profile
