#include "flame/policy/detail/planner.hpp"

#include "flame/search/greedy_search.hpp"

namespace flame::policy {
namespace {

template <class Search>
Planner planner(Search search) {
  return [search](const model::LatencyModel& model, const model::Workload& w, const ClockGrid& grid,
                  double target_ms) {
    const search::SearchResult r = search(
        grid, [&](const Clocks& c) { return model.estimate(c, w); }, target_ms);
    Decision d;
    d.clocks = r.clocks;
    d.model_ms = r.estimate.latency_ms;
    d.power_w = r.estimate.power_w;
    d.feasible = r.feasible;
    d.evaluations = r.evaluations;
    return d;
  };
}

}  // namespace

Planner greedy_planner() {
  return planner([](const ClockGrid& g, const search::Predictor& p, double t) {
    return search::greedy_search(g, p, t);
  });
}

Planner exhaustive_planner() {
  return planner([](const ClockGrid& g, const search::Predictor& p, double t) {
    return search::exhaustive_search(g, p, t);
  });
}

}  // namespace flame::policy
