#include "flame/profile/profile_plan.hpp"

#include <algorithm>
#include <tuple>

#include "flame/model/layerwise_plan.hpp"

namespace flame::profile {

ProfilePlan make_profile_plan(const ClockGrid& grid, std::size_t budget, std::uint64_t seed) {
  ProfilePlan plan;
  plan.steps = model::plan_layerwise(grid, budget, seed);
  // The plan itself carries no order; running it sorted means fewer (and smaller) clock changes.
  std::sort(plan.steps.begin(), plan.steps.end(), [](const Clocks& a, const Clocks& b) {
    return std::tie(b.emc_hz, b.gpu_hz, b.cpu_khz) < std::tie(a.emc_hz, a.gpu_hz, a.cpu_khz);
  });
  plan.exhaustive_steps = grid.cpu_khz.size() * grid.gpu_hz.size() * grid.emc_hz.size();
  return plan;
}

}  // namespace flame::profile
