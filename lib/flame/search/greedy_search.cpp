#include "flame/search/greedy_search.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace flame {
namespace {

struct Evaluator {
  const ClockGrid& grid;
  const Predictor& predict;
  double target;
  int count = 0;

  Estimate operator()(const Clocks& c) {
    ++count;
    return predict(c);
  }
  bool meets(const Estimate& e) const { return e.latency_ms <= target; }
};

// Lowest index i in [0, n) with feasible(i), assuming feasibility is monotone in i; n when none.
template <typename F>
size_t lowest_feasible(size_t n, F&& feasible) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (feasible(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

}  // namespace

double comparable_energy(const Clocks& c, const Estimate& e, const ClockGrid& grid) {
  if (e.power_w > 0) return e.power_w * e.latency_ms;
  auto rel = [](double f, double fmax) { return fmax > 0 ? f / fmax : 0.0; };
  const double cores = grid.cpu_cores.empty() ? 1.0 : static_cast<double>(c.cpu_cores) / grid.cpu_cores.back();
  const double proxy = 1.0 + 0.5 * cores * std::pow(rel(c.cpu_khz, grid.cpu_khz.back()), 3) +
                       std::pow(rel(c.gpu_hz, grid.gpu_hz.back()), 3) + 0.3 * std::pow(rel(c.emc_hz, grid.emc_hz.back()), 3);
  return proxy * e.latency_ms;
}

SearchResult greedy_search(const ClockGrid& grid, const Predictor& predict, double target_ms) {
  grid.validate();
  if (!(target_ms > 0)) throw std::invalid_argument("search: the latency target must be positive");
  Evaluator eval{grid, predict, target_ms};
  const Clocks top = grid.max();
  SearchResult best;
  best.clocks = top;
  best.estimate = eval(top);
  if (!eval.meets(best.estimate)) {  // nothing can meet it: run as fast as possible, flagged
    best.evaluations = eval.count;
    return best;
  }
  best.feasible = true;
  double best_energy = comparable_energy(top, best.estimate, grid);

  // Phase 1: CPU at max; per EMC level the lowest feasible GPU clock, then its higher neighbour
  // (energy is not always lowest at the lowest feasible clock: race-to-idle).
  for (double emc : grid.emc_hz) {
    std::vector<std::optional<Estimate>> cache(grid.gpu_hz.size());
    auto at = [&](size_t i) -> const Estimate& {
      if (!cache[i]) cache[i] = eval({top.cpu_khz, top.cpu_cores, grid.gpu_hz[i], emc});
      return *cache[i];
    };
    const size_t i = lowest_feasible(grid.gpu_hz.size(), [&](size_t k) { return eval.meets(at(k)); });
    for (size_t k = i; k < grid.gpu_hz.size() && k <= i + 1; ++k) {
      const Clocks c{top.cpu_khz, top.cpu_cores, grid.gpu_hz[k], emc};
      const double energy = comparable_energy(c, at(k), grid);
      if (energy < best_energy) best = {c, at(k), true, 0}, best_energy = energy;
    }
  }

  // Phase 2: lower the CPU (then the cores) with GPU and EMC fixed, by energy.
  auto lower = [&](auto make, size_t n, size_t current) {
    std::vector<std::optional<Estimate>> cache(n);
    auto at = [&](size_t i) -> const Estimate& {
      if (!cache[i]) cache[i] = eval(make(i));
      return *cache[i];
    };
    const size_t lo = lowest_feasible(current + 1, [&](size_t k) { return eval.meets(at(k)); });
    // Walk up from the lowest feasible clock while energy keeps falling.
    for (size_t k = lo; k <= current; ++k) {
      const Clocks c = make(k);
      const double energy = comparable_energy(c, at(k), grid);
      if (energy < best_energy)
        best = {c, at(k), true, 0}, best_energy = energy;
      else if (k > lo)
        break;
    }
  };
  const Clocks fixed = best.clocks;
  lower([&](size_t i) { return Clocks{grid.cpu_khz[i], fixed.cpu_cores, fixed.gpu_hz, fixed.emc_hz}; },
        grid.cpu_khz.size(), grid.cpu_khz.size() - 1);
  if (grid.cpu_cores.size() > 1) {
    const Clocks f2 = best.clocks;
    lower([&](size_t i) { return Clocks{f2.cpu_khz, grid.cpu_cores[i], f2.gpu_hz, f2.emc_hz}; }, grid.cpu_cores.size(),
          grid.cpu_cores.size() - 1);
  }
  best.evaluations = eval.count;
  return best;
}

SearchResult exhaustive_search(const ClockGrid& grid, const Predictor& predict, double target_ms) {
  grid.validate();
  SearchResult best;
  best.clocks = grid.max();
  double best_energy = std::numeric_limits<double>::infinity();
  int n = 0;
  for (size_t k = 0; k < grid.size(); ++k) {
    const Clocks c = grid.at(k);
    const Estimate e = predict(c);
    ++n;
    if (e.latency_ms > target_ms) continue;
    const double energy = comparable_energy(c, e, grid);
    if (energy < best_energy) best = {c, e, true, 0}, best_energy = energy;
  }
  if (!best.feasible) best.estimate = predict(best.clocks), ++n;
  best.evaluations = n;
  return best;
}

}  // namespace flame
