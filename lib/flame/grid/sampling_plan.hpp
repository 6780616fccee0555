#pragma once
// Which clock combinations to profile for a grid fit, given a budget. Deterministic for a seed.
// Every core option gets an equal share; within a share the most finely divided clock domain is
// stratified over its whole range (both ends included) and the others are balanced over their
// levels; among many such designs the most spread out (maximin) wins. The all-maximum combination
// is always profiled: baselines, the search and the reference clocks start from it.
#include <cstdint>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/grid/detail/clock_levels.hpp"

namespace flame::grid {

// Smallest budget for which the grid fit is well-posed: one coefficient per varying domain and per
// extra core option, plus one (and never fewer than three points).
size_t min_plan_budget(const ClockLevels& levels);

// Indices into `available` (distinct combinations). Throws std::invalid_argument naming the
// minimum when the budget is too small.
std::vector<size_t> plan_samples(const std::vector<Clocks>& available, size_t budget, uint64_t seed);

}  // namespace flame::grid
