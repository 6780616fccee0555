#include "flame/profile/profile_plan.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "flame/grid/sampling_plan.hpp"
#include "flame/model/layerwise_plan.hpp"

namespace flame::profile {

namespace {

std::vector<Clocks> grid_plan(const ClockGrid& grid, std::size_t budget, std::uint64_t seed) {
  std::vector<Clocks> all;
  for (double c : grid.cpu_khz)
    for (double g : grid.gpu_hz)
      for (double e : grid.emc_hz) all.push_back(Clocks{c, 0, g, e});
  std::vector<Clocks> picked;
  for (std::size_t i : grid::plan_samples(all, budget, seed)) picked.push_back(all[i]);
  return picked;
}

}  // namespace

ProfilePlan make_profile_plan(const ClockGrid& grid, std::size_t budget, std::uint64_t seed, PlanKind kind) {
  ProfilePlan plan;
  if (kind == PlanKind::Derived) {
    if (budget != 1)
      throw std::invalid_argument("a model derived from a prior is profiled at one combination: --budget 1");
    plan.steps = {grid.max()};
  } else {
    plan.steps =
        kind == PlanKind::Grid ? grid_plan(grid, budget, seed) : model::plan_layerwise(grid, budget, seed);
  }
  // The plan itself carries no order; running it sorted means fewer (and smaller) clock changes.
  std::sort(plan.steps.begin(), plan.steps.end(), [](const Clocks& a, const Clocks& b) {
    return std::tie(b.emc_hz, b.gpu_hz, b.cpu_khz) < std::tie(a.emc_hz, a.gpu_hz, a.cpu_khz);
  });
  plan.exhaustive_steps = grid.cpu_khz.size() * grid.gpu_hz.size() * grid.emc_hz.size();
  return plan;
}

}  // namespace flame::profile
