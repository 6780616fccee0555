#pragma once
// Which (clock combination, phase, context length) runs to profile for an SLM's model
// (slm_model.hpp; docs/context-model.md, "Profiling plan"). Per phase, with contexts c_1 < ... < c_m:
//   - at every context: one run at the highest clocks and one at the lowest GPU clock (with the
//     highest EMC clock and a CPU clock that differs between contexts), so that each context's
//     device time is seen at two GPU clocks and the host curve at several CPU clocks;
//   - one run at every other EMC level (highest CPU and GPU), from the largest context down, for
//     the memory table;
//   - the rest of the budget, shared between the phases in turn, from the layer-wise plan
//     (plan_layerwise), contexts in turn.
// Each run is one profiled combination; the budget counts them over both phases.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "flame/clocks/clock_grid.hpp"
#include "flame/model/context_basis.hpp"

namespace flame::model {

struct SlmPlanPoint {
  Clocks clocks;
  ContextPhase phase = ContextPhase::Decode;
  int ctx = 0;
  bool operator==(const SlmPlanPoint&) const = default;
};

// Smallest budget the plan needs: per phase 2 runs per context plus one per other EMC level.
std::size_t min_slm_budget(const ClockGrid& grid, const std::map<ContextPhase, std::vector<int>>& contexts);

// Deterministic for a seed. Throws std::invalid_argument when a phase has fewer contexts than its
// basis functions, contexts that are not positive and distinct, or a budget under min_slm_budget
// (naming the minimum).
std::vector<SlmPlanPoint> plan_slm(const ClockGrid& grid,
                                   const std::map<ContextPhase, std::vector<int>>& contexts,
                                   std::size_t budget, std::uint64_t seed);

}  // namespace flame::model
