#include "flame/model/slm_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "flame/model/layerwise_plan.hpp"

namespace flame::model {

namespace {

std::vector<int> checked_contexts(ContextPhase phase, std::vector<int> c) {
  std::sort(c.begin(), c.end());
  if (c.empty() || c.front() <= 0 || std::adjacent_find(c.begin(), c.end()) != c.end())
    throw std::invalid_argument(
        fmt::format("SLM plan, {}: context lengths must be positive and distinct", phase_name(phase)));
  if (static_cast<int>(c.size()) < basis_size(phase))
    throw std::invalid_argument(
        fmt::format("SLM plan, {}: the basis {{{}}} needs at least {} context lengths, {} given",
                    phase_name(phase), fmt::join(basis_names(phase), ", "), basis_size(phase), c.size()));
  return c;
}

}  // namespace

std::size_t min_slm_budget(const ClockGrid& grid, const std::map<ContextPhase, std::vector<int>>& contexts) {
  std::size_t n = 0;
  for (const auto& [phase, c] : contexts)
    n += 2 * c.size() + (grid.emc_hz.empty() ? 0 : grid.emc_hz.size() - 1);
  return n;
}

std::vector<SlmPlanPoint> plan_slm(const ClockGrid& grid,
                                   const std::map<ContextPhase, std::vector<int>>& contexts,
                                   std::size_t budget, std::uint64_t seed) {
  grid.validate();
  if (contexts.empty()) throw std::invalid_argument("SLM plan: no phase to profile");
  std::map<ContextPhase, std::vector<int>> ctx;
  for (const auto& [phase, c] : contexts) ctx[phase] = checked_contexts(phase, c);
  const std::size_t need = min_slm_budget(grid, ctx);
  if (budget < need)
    throw std::invalid_argument(fmt::format(
        "SLM plan: a budget of {} is too small: it needs at least {} profiled combinations (per phase two "
        "per context length and one per other EMC level)",
        budget, need));
  const int cores = grid.cpu_cores.empty() ? 0 : grid.cpu_cores.back();
  const double cpu_max = grid.cpu_khz.back(), gpu_max = grid.gpu_hz.back(), emc_max = grid.emc_hz.back();
  // CPU clocks for the low-GPU runs, one per context in turn: the lowest, then the middle and the
  // first quartile of the table, so that the host curve sees its whole range.
  const std::vector<double> low_gpu_cpu = {grid.cpu_khz.front(), grid.cpu_khz[grid.cpu_khz.size() / 2],
                                           grid.cpu_khz[grid.cpu_khz.size() / 4]};
  std::vector<SlmPlanPoint> plan;
  std::set<std::tuple<ContextPhase, int, Clocks>> taken;
  auto add = [&](ContextPhase p, int c, const Clocks& k) {
    if (taken.emplace(p, c, k).second) plan.push_back({k, p, c});
  };
  for (const auto& [phase, cs] : ctx) {
    for (std::size_t i = 0; i < cs.size(); ++i) {
      add(phase, cs[i], {cpu_max, cores, gpu_max, emc_max});
      add(phase, cs[i], {low_gpu_cpu[i % low_gpu_cpu.size()], cores, grid.gpu_hz.front(), emc_max});
    }
    for (std::size_t l = 0; l + 1 < grid.emc_hz.size(); ++l)
      add(phase, cs[cs.size() - 1 - l % cs.size()],
          {cpu_max, cores, gpu_max, grid.emc_hz[grid.emc_hz.size() - 2 - l]});
  }
  // The rest of the budget: the layer-wise plan's spread, phases and contexts in turn.
  if (plan.size() < budget) {
    const std::size_t layerwise = std::min(grid.cpu_khz.size() * grid.gpu_hz.size() * grid.emc_hz.size(),
                                           std::max(min_layerwise_budget(grid), budget));
    const auto extra = plan_layerwise(grid, layerwise, seed);
    std::map<ContextPhase, std::size_t> turn;
    std::size_t e = 0;
    for (std::size_t round = 0; plan.size() < budget && e < extra.size(); ++round)
      for (const auto& [phase, cs] : ctx) {
        if (plan.size() >= budget || e >= extra.size()) break;
        add(phase, cs[turn[phase]++ % cs.size()], extra[e++]);
      }
  }
  // Run order: by clocks, EMC first (its re-training is the slowest change), then GPU, then CPU.
  std::stable_sort(plan.begin(), plan.end(), [](const SlmPlanPoint& a, const SlmPlanPoint& b) {
    return std::tie(b.clocks.emc_hz, b.clocks.gpu_hz, b.clocks.cpu_khz) <
           std::tie(a.clocks.emc_hz, a.clocks.gpu_hz, a.clocks.cpu_khz);
  });
  return plan;
}

}  // namespace flame::model
