#pragma once
// `flame validate grid`: profile a sparse plan of a measured grid, fit, predict every measured
// point and compare with baselines, budgets, the all-points floor and deadline decisions
// (docs/validation-grid.md).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flame/fit/error_stats.hpp"
#include "flame/grid/dataset.hpp"
#include "flame/grid/grid_model.hpp"

namespace flame::grid {

struct GridValidationOptions {
  size_t budget = 32;
  uint64_t seed = 1;
  std::vector<double> deadlines;  // multiples of the fastest measured latency per core setting
  double safety_margin =
      -1;  // predicted latency x (1 + margin) must meet the deadline; < 0: the fit's suggestion
  std::vector<size_t> curve = {16, 32, 64, 96, 128};
  bool floor = true;  // also fit on every point (the form's floor)
};

struct ModelErrors {
  fit::ErrorStats latency;
  std::optional<fit::ErrorStats> power;
};

struct BudgetErrors {
  size_t budget = 0;
  ModelErrors errors;
};

struct DeadlineEvaluation {
  size_t decisions = 0;
  size_t met = 0;
  size_t infeasible = 0;  // the search found nothing and fell back to the maximum clocks
  double met_pct = 0;
  double energy_vs_oracle = 0;  // mean of measured energy / oracle energy
  double energy_vs_max = 0;     // mean of measured energy / energy at the maximum clocks
  double worst_vs_oracle = 0;
  size_t unmeasured = 0;         // the chosen setting's measurement was screened out (skipped)
  size_t oracle_infeasible = 0;  // no measured point meets the deadline (skipped)
  double margin = 0;             // the safety margin used (mean over series when chosen per series)
};

struct GridValidation {
  std::string path;
  std::string format;
  size_t rows = 0;    // usable measurement rows
  size_t points = 0;  // (series, clock combination) points
  size_t combos = 0;  // distinct clock combinations
  size_t series = 0;
  size_t profiled = 0;    // combinations profiled
  size_t avoided = 0;     // combinations not profiled: the full-profile screen found them glitched
  ModelErrors model;      // on the points the full-profile screen kept
  ModelErrors model_all;  // on every point
  std::map<std::string, ModelErrors> baselines;  // fixed_max, scaling_1f, sum, max
  std::vector<BudgetErrors> curve;
  std::optional<ModelErrors> floor;
  std::optional<DeadlineEvaluation> deadlines;
  std::string deadlines_note;  // why there is no deadline evaluation
  double profiled_cost_s = 0, grid_cost_s = 0;
  std::vector<ExcludedPoint> excluded_eval;      // points left out of the evaluation (full-profile screen)
  std::vector<std::string> excluded_eval_rows;   // repeats left out of the evaluation
  std::vector<ExcludedPoint> excluded_profiled;  // profiled points left out of the fit
  std::vector<DroppedRow> dropped;
  size_t skipped = 0;
  std::string skipped_reason;
  std::vector<std::string> free_parameters;
};

GridValidation validate_grid(const Dataset& d, const GridValidationOptions& options);

}  // namespace flame::grid
