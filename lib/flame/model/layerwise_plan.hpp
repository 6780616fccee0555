#pragma once
// Which clock combinations to profile for a layer-wise fit. Every EMC level needs a sample (the
// memory part is tabulated per level), and both CPU and GPU need at least two clocks with the
// extremes covered, so curves interpolate instead of extrapolating.
#include <cstdint>
#include <vector>

#include "flame/clocks/clock_grid.hpp"

namespace flame::model {

// Smallest budget for which the layer-wise fit is well-posed on this grid.
size_t min_layerwise_budget(const ClockGrid& grid);

// Deterministic for a seed; throws std::invalid_argument with the minimum when budget is too small.
std::vector<Clocks> plan_layerwise(const ClockGrid& grid, size_t budget, uint64_t seed);

}  // namespace flame::model
