#pragma once
// How flamed's model of a DNN comes to be in the evaluation: a sparse profile taken through the
// simulated board itself (the sampling plan of lib/flame/grid picks `budget` clock combinations, each
// is pinned, given time to take effect and measured `repeats` times), then the grid model fit
// (latency + power, glitch screen) of `flame fit`. The estimator never sees the simulator's table:
// only the latencies and powers the simulated board reports.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "flame/eval/eval_board.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/sim/table_sim.hpp"

namespace flame::eval {

struct ProfileOptions {
  std::size_t budget =
      64;           // clock combinations (a third of the 4-core grid; 32 is too few here: docs/evaluation.md)
  int repeats = 3;  // inferences per combination (the median is fitted)
  std::uint64_t seed = 1;  // plan, fit and the profiling run's noise
  double settle_ms = 20;   // wait after pinning (> the 8 ms EMC delay)
  sim::SimOptions sim;     // noise and delays of the board being profiled (its seed is replaced)
  int cores = 4;
};

struct ProfiledModel {
  grid::GridModel model;
  std::size_t profiled = 0;     // combinations
  std::size_t excluded = 0;     // screened out as glitches
  double profile_s = 0;         // virtual time the profile took (inference time + settling)
  double latency_mape_pct = 0;  // mean |model - truth| / truth over the grid at `cores` (for the report)
  double power_mape_pct = 0;
};

// One model per name in `models` (each must be on the board).
std::map<std::string, ProfiledModel> profile_models(const EvalBoard& board,
                                                    const std::vector<std::string>& models,
                                                    const ProfileOptions& o);

}  // namespace flame::eval
