#pragma once
// Which clock combinations `flame profile` runs the command at, in which order. Each kind of model
// is sampled by its own fit's plan: a layer-wise profile by the layer-wise plan
// (docs/layerwise-model.md: one per EMC level at maximum CPU and GPU, one at the lowest CPU and GPU,
// the rest a Latin hypercube), an end-to-end profile (--e2e), which fits a grid model, by the plan
// `flame fit` uses (lib/flame/grid/sampling_plan.hpp). They are run sorted by EMC, then GPU, then
// CPU clock (descending), so the slow EMC re-training happens as few times as possible.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flame/clocks/clock_grid.hpp"

namespace flame::profile {

struct ProfilePlan {
  std::vector<Clocks> steps;         // in run order
  std::size_t exhaustive_steps = 0;  // combinations of the whole grid (what exhaustive profiling runs)
};

// Derived: one combination, the reference clocks (every domain at its top), for a model whose curves
// come from a prior (features/curve_prior.hpp); budget 1.
enum class PlanKind { Layerwise, Grid, Derived };

// Throws std::invalid_argument with the minimum budget when `budget` is too small for the grid.
ProfilePlan make_profile_plan(const ClockGrid& grid, std::size_t budget, std::uint64_t seed,
                              PlanKind kind = PlanKind::Layerwise);

}  // namespace flame::profile
