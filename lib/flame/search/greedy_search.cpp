#include "flame/search/greedy_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace flame::search {
namespace {

// Grid points by index, with every prediction memoised: the phases revisit points.
struct Space {
  const ClockGrid& grid;
  const Predictor& predict;
  double target;
  int evaluations = 0;
  std::vector<Estimate> memo = std::vector<Estimate>(grid.size(), Estimate{-1, 0});  // latency < 0: not yet

  size_t cores_n() const { return grid.cpu_cores.empty() ? 1 : grid.cpu_cores.size(); }
  Clocks clocks(size_t c, size_t k, size_t g, size_t e) const {
    return {grid.cpu_khz[c], grid.cpu_cores.empty() ? 0 : grid.cpu_cores[k], grid.gpu_hz[g], grid.emc_hz[e]};
  }
  const Estimate& at(size_t c, size_t k, size_t g, size_t e) {
    Estimate& slot = memo[((k * grid.cpu_khz.size() + c) * grid.gpu_hz.size() + g) * grid.emc_hz.size() + e];
    if (slot.latency_ms < 0) {
      ++evaluations;
      slot = predict(clocks(c, k, g, e));
    }
    return slot;
  }
  bool meets(const Estimate& est) const { return est.latency_ms <= target; }
  double energy(size_t c, size_t k, size_t g, size_t e) {
    return comparable_energy(clocks(c, k, g, e), at(c, k, g, e), grid);
  }
};

struct Point {
  size_t c, k, g, e;
  bool operator==(const Point&) const = default;
};

// A search range along one domain: the lowest feasible index is known to lie in [lo, hi] (hi: none
// below it is known feasible), and hint is where a previous phase found it (n: no hint). The bounds
// come from monotonicity across the other domains (a slower memory clock never needs a lower GPU
// clock), the hint from the previous round; both only save predictions, never change the answer of
// a monotone predictor.
struct Range {
  size_t lo, hi, hint;
};

// Lowest index in [r.lo, r.hi) for which feasible() holds, assuming it is monotone; r.hi when none.
// With a hint, gallop from it (answers move little between rounds), then bisect what is left.
template <typename F>
size_t lowest_feasible(Range r, F&& feasible) {
  size_t lo = r.lo, hi = r.hi;
  if (r.hint >= lo && r.hint < hi) {
    if (feasible(r.hint)) {
      hi = r.hint;
      for (size_t step = 1; hi > lo; step *= 2) {
        const size_t i = hi - std::min(step, hi - lo);
        if (!feasible(i)) {
          lo = i + 1;
          break;
        }
        hi = i;
      }
    } else {
      lo = r.hint + 1;
      for (size_t step = 1; lo < hi; step *= 2) {
        const size_t i = std::min(lo + step - 1, hi - 1);
        if (feasible(i)) {
          hi = i;
          break;
        }
        lo = i + 1;
      }
    }
  }
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (feasible(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// Along one domain (index i in [0, n), others fixed): the lowest feasible index, then upwards while
// predicted energy keeps falling (race-to-idle can make a faster clock cheaper). Returns the lowest
// feasible index, the best feasible index and its energy; n and n when nothing is feasible.
struct Along {
  size_t lowest, best;
  double energy;
};
template <typename Feasible, typename Energy>
Along best_along(size_t n, Range r, Feasible&& feasible, Energy&& energy) {
  const size_t lo = lowest_feasible(r, feasible);
  // lo == r.hi is feasible by a bound, not by a prediction: check it (energy() evaluates it anyway).
  if (lo >= n || !feasible(lo)) return {n, n, std::numeric_limits<double>::infinity()};
  size_t best = lo;
  double best_e = energy(lo);
  for (size_t i = lo + 1; i < n; ++i) {
    if (!feasible(i)) continue;  // only for non-monotone predictors: a faster clock that is slower
    const double e = energy(i);
    if (e >= best_e) break;
    best = i, best_e = e;
  }
  return {lo, best, best_e};
}

}  // namespace

double comparable_energy(const Clocks& c, const Estimate& e, const ClockGrid& grid) {
  if (e.power_w > 0) return e.power_w * e.latency_ms;
  auto rel = [](double f, double fmax) { return fmax > 0 ? f / fmax : 0.0; };
  const double cores =
      grid.cpu_cores.empty() ? 1.0 : static_cast<double>(c.cpu_cores) / grid.cpu_cores.back();
  const double proxy = 1.0 + 0.5 * cores * std::pow(rel(c.cpu_khz, grid.cpu_khz.back()), 3) +
                       std::pow(rel(c.gpu_hz, grid.gpu_hz.back()), 3) +
                       0.3 * std::pow(rel(c.emc_hz, grid.emc_hz.back()), 3);
  return proxy * e.latency_ms;
}

SearchResult greedy_search(const ClockGrid& grid, const Predictor& predict, double target_ms) {
  grid.validate();
  if (!(target_ms > 0)) throw std::invalid_argument("search: the latency target must be positive");
  Space s{grid, predict, target_ms};
  const size_t nc = grid.cpu_khz.size(), nk = s.cores_n(), ng = grid.gpu_hz.size(), ne = grid.emc_hz.size();
  // Start from the fastest core count at the maximum clocks: more cores are not always faster.
  Point p{nc - 1, nk - 1, ng - 1, ne - 1};
  for (size_t k = 0; k + 1 < nk; ++k)
    if (s.at(nc - 1, k, ng - 1, ne - 1).latency_ms < s.at(p.c, p.k, p.g, p.e).latency_ms) p.k = k;
  auto result = [&](const Point& q, bool feasible) {
    SearchResult r;
    r.clocks = s.clocks(q.c, q.k, q.g, q.e);
    r.estimate = s.at(q.c, q.k, q.g, q.e);
    r.feasible = feasible;
    r.evaluations = s.evaluations;
    return r;
  };
  if (!s.meets(s.at(p.c, p.k, p.g, p.e))) return result(p, false);  // run as fast as possible, flagged
  double best_e = s.energy(p.c, p.k, p.g, p.e);

  // Host block: for every core count, the CPU clock of lowest energy that still meets the target.
  // Core counts are searched independently: more cores can be slower (the TX2 grids' serial part
  // grows with them), so one count's answer bounds nothing for another.
  auto host_block = [&](Point q, double& q_e) {
    const Point from = q;
    for (size_t k = 0; k < nk; ++k) {
      const auto a = best_along(
          nc, {0, nc, k == from.k && from.c + 1 < nc ? from.c : nc},
          [&](size_t i) { return s.meets(s.at(i, k, from.g, from.e)); },
          [&](size_t i) { return s.energy(i, k, from.g, from.e); });
      if (a.energy < q_e) q.c = a.best, q.k = k, q_e = a.energy;
    }
    return q;
  };
  // Device block: for every EMC level, the GPU clock of lowest energy that still meets the target.
  // A slower memory clock never needs a lower GPU clock, so levels are walked downwards and each
  // level's answer bounds the next one's; the first infeasible level ends the walk.
  auto device_block = [&](Point q, double& q_e, bool all_levels) {
    const Point from = q;
    size_t floor = 0;
    for (size_t e = ne; e-- > 0;) {
      if (!all_levels && (e + 1 < from.e || e > from.e + 1)) continue;
      // `from` meets the target, so at its memory clock or a faster one from.g is enough.
      const size_t hi = e >= from.e ? from.g : ng;
      const size_t hint = all_levels || e != from.e ? ng : from.g > floor ? from.g - 1 : floor;
      const auto a = best_along(
          ng, {std::min(floor, hi), hi, hint}, [&](size_t i) { return s.meets(s.at(from.c, from.k, i, e)); },
          [&](size_t i) { return s.energy(from.c, from.k, i, e); });
      if (a.lowest == ng) break;
      floor = a.lowest;
      if (a.energy < q_e) q.g = a.best, q.e = e, q_e = a.energy;
    }
    return q;
  };

  // Decoupled rounds, as in FLAME: the device side with the host at its maximum, then the host side
  // with the device fixed, repeated until a round changes nothing.
  for (int round = 0; round < 4; ++round) {
    const Point before = p;
    p = device_block(p, best_e, round == 0);
    p = host_block(p, best_e);
    if (p == before) break;
  }
  // Trade-off moves the blocks cannot see: a faster device that lets the host slow down more.
  for (int step = 0; step < 4 && p.g + 1 < ng; ++step) {
    Point q = p;
    q.g += 1;
    double q_e = s.meets(s.at(q.c, q.k, q.g, q.e)) ? s.energy(q.c, q.k, q.g, q.e)
                                                   : std::numeric_limits<double>::infinity();
    q = host_block(q, q_e);
    if (q_e >= best_e) break;
    p = q, best_e = q_e;
  }
  // The memory clock can also slow the host side (CPU stalls on DRAM): a faster EMC may let the CPU
  // drop further than the device block, run with the CPU at its maximum, could see. Try every other
  // EMC level with its best GPU clock at the current host setting, then the host block.
  for (size_t e = 0; e < ne && ne > 1; ++e) {
    if (e == p.e) continue;
    // p.g is feasible at the current host setting, so a faster memory clock needs at most p.g.
    const Range r = e > p.e ? Range{0, p.g, p.g == 0 ? 0 : p.g - 1} : Range{0, ng, p.g};
    const auto a = best_along(
        ng, r, [&](size_t i) { return s.meets(s.at(p.c, p.k, i, e)); },
        [&](size_t i) { return s.energy(p.c, p.k, i, e); });
    if (a.lowest == ng) continue;
    Point q{p.c, p.k, a.best, e};
    double q_e = a.energy;
    q = host_block(q, q_e);
    if (q_e < best_e) p = q, best_e = q_e;
  }
  return result(p, true);
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

}  // namespace flame::search
