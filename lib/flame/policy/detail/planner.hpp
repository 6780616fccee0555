#pragma once
// Chooses clocks whose model latency is at most target_model_ms (the deadline with the safety
// margin and the calibration factor already folded in), lowest predicted energy first.
#include <functional>

#include "flame/clocks/clock_grid.hpp"
#include "flame/model/latency_model.hpp"
#include "flame/policy/detail/decision.hpp"

namespace flame::policy {

using Planner = std::function<Decision(const model::LatencyModel&, const model::Workload&, const ClockGrid&,
                                       double target_model_ms)>;

// FLAME's decoupled greedy search (lib/flame/search, docs/search.md): what flamed runs.
Planner greedy_planner();
// Every grid point (diagnosis only: `flame eval --search exhaustive`).
Planner exhaustive_planner();

}  // namespace flame::policy
