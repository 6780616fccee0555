// The production planner: FLAME's decoupled greedy search on the request's model.
#include "app.hpp"
#include "flame/search/greedy_search.hpp"

namespace flamed {

Planner make_planner() {
  return [](const flame::LatencyModel& model, const flame::Workload& w, const flame::ClockGrid& grid,
            double target_ms) {
    const auto r = flame::greedy_search(
        grid, [&](const flame::Clocks& c) { return model.estimate(c, w); }, target_ms);
    Decision d;
    d.clocks = r.clocks;
    d.model_ms = r.estimate.latency_ms;
    d.power_w = r.estimate.power_w;
    d.feasible = r.feasible;
    d.evaluations = r.evaluations;
    return d;
  };
}

}  // namespace flamed
