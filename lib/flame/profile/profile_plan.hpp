#pragma once
// Which clock combinations `flame profile` runs the command at, in which order. The combinations
// are the layer-wise sampling plan (docs/layerwise-model.md): one per EMC level at maximum CPU and
// GPU, one at the lowest CPU and GPU, the rest a Latin hypercube. They are run sorted by EMC, then
// GPU, then CPU clock (descending), so the slow EMC re-training happens as few times as possible.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flame/clocks/clock_grid.hpp"

namespace flame::profile {

struct ProfilePlan {
  std::vector<Clocks> steps;         // in run order
  std::size_t exhaustive_steps = 0;  // combinations of the whole grid (what exhaustive profiling runs)
};

// Throws std::invalid_argument with the minimum budget when `budget` is too small for the grid.
ProfilePlan make_profile_plan(const ClockGrid& grid, std::size_t budget, std::uint64_t seed);

}  // namespace flame::profile
