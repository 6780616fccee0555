#include "flame/model/layerwise_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>

namespace flame::model {

size_t min_layerwise_budget(const ClockGrid& grid) {
  // One point per EMC level at max CPU/GPU, plus one at min CPU and min GPU.
  return grid.emc_hz.size() + (grid.cpu_khz.size() > 1 || grid.gpu_hz.size() > 1 ? 1 : 0);
}

std::vector<Clocks> plan_layerwise(const ClockGrid& grid, size_t budget, uint64_t seed) {
  grid.validate();
  const size_t need = min_layerwise_budget(grid);
  if (budget < need)
    throw std::invalid_argument(fmt::format(
        "sampling plan: a budget of {} is too small for a layer-wise fit on this grid: it needs at least {} "
        "profiled combinations (one per EMC level, plus one at the lowest CPU and GPU clocks)",
        budget, need));
  budget = std::min(budget, grid.cpu_khz.size() * grid.gpu_hz.size() * grid.emc_hz.size());
  const int cores = grid.cpu_cores.empty() ? 0 : grid.cpu_cores.back();
  std::vector<Clocks> plan;
  std::set<Clocks> taken;
  auto add = [&](const Clocks& c) {
    if (plan.size() < budget && taken.insert(c).second) plan.push_back(c);
  };
  for (double emc : grid.emc_hz) add({grid.cpu_khz.back(), cores, grid.gpu_hz.back(), emc});
  add({grid.cpu_khz.front(), cores, grid.gpu_hz.front(), grid.emc_hz.back()});
  // The rest: stratified over each domain's index range, shuffled independently per domain, so
  // low, middle and high clocks of every domain appear (a Latin-hypercube design on the indices).
  std::mt19937_64 rng(seed);
  while (plan.size() < budget) {
    const size_t m = budget - plan.size();
    auto strata = [&](size_t levels) {
      std::vector<size_t> idx(m);
      for (size_t k = 0; k < m; ++k) {
        std::uniform_real_distribution<double> u(static_cast<double>(k) / m, static_cast<double>(k + 1) / m);
        idx[k] = std::min(levels - 1, static_cast<size_t>(u(rng) * levels));
      }
      std::shuffle(idx.begin(), idx.end(), rng);
      return idx;
    };
    const auto ci = strata(grid.cpu_khz.size()), gi = strata(grid.gpu_hz.size()),
               ei = strata(grid.emc_hz.size());
    const size_t before = plan.size();
    for (size_t k = 0; k < m; ++k) add({grid.cpu_khz[ci[k]], cores, grid.gpu_hz[gi[k]], grid.emc_hz[ei[k]]});
    if (plan.size() == before) {  // dense corner of a tiny grid: fill in grid order
      for (size_t k = 0; k < grid.size() && plan.size() < budget; ++k) {
        Clocks c = grid.at(k);
        c.cpu_cores = cores;
        add(c);
      }
    }
  }
  return plan;
}

}  // namespace flame::model
