#pragma once
// Deadline-aware clock selection (FLAME's decoupled greedy search) and the exhaustive oracle.
//
// Greedy: with the CPU at its maximum, find for every EMC level the lowest GPU clock whose
// predicted latency meets the target (binary search: latency does not increase with any clock),
// keep the (GPU, EMC) pair of lowest predicted energy; then lower the CPU clock (and the online
// cores) as long as the target is still met, again choosing by predicted energy, not frequency.
// Infeasible targets get the maximum clocks (at the fastest core count: more cores are not always
// faster), flagged.
#include <functional>
#include <optional>
#include <vector>

#include "flame/clocks/clock_grid.hpp"
#include "flame/clocks/clocks.hpp"

namespace flame::search {

using Predictor = std::function<Estimate(const Clocks&)>;

struct SearchResult {
  Clocks clocks;
  Estimate estimate;
  bool feasible = false;
  int evaluations = 0;
};

// Energy used to compare candidates: predicted power × latency; models without a power part
// (power_w == 0) use a dynamic-power proxy ∝ f³ per domain so that lower clocks still win.
double comparable_energy(const Clocks& c, const Estimate& e, const ClockGrid& grid);

SearchResult greedy_search(const ClockGrid& grid, const Predictor& predict, double target_ms);
SearchResult exhaustive_search(const ClockGrid& grid, const Predictor& predict, double target_ms);

}  // namespace flame::search
