#include "flame/grid/sampling_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace flame::grid {
namespace {

constexpr int kTrials = 200;

// Portable helpers: the standard distributions are implementation-defined, mt19937_64 is not.
size_t below(std::mt19937_64& rng, size_t n) {
  return n ? static_cast<size_t>(rng() % n) : 0;
}
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
template <typename T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(rng, i)]);
}

// A point on the level-index lattice, normalised to [0, 1] per domain.
struct Coord {
  double x[4] = {0, 0, 0, 0};  // cpu, gpu, emc, cores
};

double dist2(const Coord& a, const Coord& b) {
  double s = 0;
  for (int d = 0; d < 4; ++d) s += (a.x[d] - b.x[d]) * (a.x[d] - b.x[d]);
  return s;
}

double norm_index(size_t i, size_t n) {
  return n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0;
}

// n indices over [0, levels) with every level used floor/ceil(n / levels) times, in random order.
std::vector<size_t> balanced(size_t n, size_t levels, std::mt19937_64& rng) {
  std::vector<size_t> out;
  while (out.size() < n) {
    std::vector<size_t> perm(levels);
    std::iota(perm.begin(), perm.end(), 0);
    shuffle(perm, rng);
    out.insert(out.end(), perm.begin(), perm.end());
  }
  out.resize(n);
  shuffle(out, rng);
  return out;
}

// n indices stratified over [0, levels): one per stratum, the two ends pinned.
std::vector<size_t> stratified(size_t n, size_t levels, bool centred, std::mt19937_64& rng) {
  std::vector<size_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = (static_cast<double>(i) + (centred ? 0.5 : uniform01(rng))) / static_cast<double>(n);
    out[i] = std::min(levels - 1, static_cast<size_t>(u * static_cast<double>(levels)));
  }
  if (n >= 2) out.front() = 0, out.back() = levels - 1;
  shuffle(out, rng);
  return out;
}

}  // namespace

size_t min_plan_budget(const ClockLevels& levels) {
  const size_t extra_cores = levels.cores.size() > 1 ? levels.cores.size() - 1 : 0;
  return std::max<size_t>(3, 1 + static_cast<size_t>(levels.varying_domains()) + extra_cores);
}

std::vector<size_t> plan_samples(const std::vector<Clocks>& available, size_t budget, uint64_t seed) {
  if (available.empty()) throw std::invalid_argument("sampling plan: no clock combinations to choose from");
  const ClockLevels L = ClockLevels::of(available);
  const size_t need = std::min(min_plan_budget(L), available.size());
  if (budget < need)
    throw std::invalid_argument(fmt::format(
        "sampling plan: a budget of {} is too small for a well-posed fit on this grid ({} varying clock "
        "domains, {} core options): profile at least {} combinations",
        budget, L.varying_domains(), L.cores.size(), need));
  std::vector<size_t> all(available.size());
  std::iota(all.begin(), all.end(), 0);
  if (budget >= available.size()) return all;

  std::vector<Coord> coord(available.size());
  std::vector<size_t> core_of(available.size());
  for (size_t i = 0; i < available.size(); ++i) {
    const Clocks& c = available[i];
    core_of[i] = ClockLevels::index_of(L.cores, c.cpu_cores);
    coord[i].x[0] = norm_index(ClockLevels::index_of(L.cpu_khz, c.cpu_khz), L.cpu_khz.size());
    coord[i].x[1] = norm_index(ClockLevels::index_of(L.gpu_hz, c.gpu_hz), L.gpu_hz.size());
    coord[i].x[2] = norm_index(ClockLevels::index_of(L.emc_hz, c.emc_hz), L.emc_hz.size());
    coord[i].x[3] = norm_index(core_of[i], L.cores.size());
  }

  // Shares per core option (the remainder to the most cores), capped by what each option has.
  const size_t K = L.cores.size();
  std::vector<std::vector<size_t>> group(K);
  for (size_t i = 0; i < available.size(); ++i) group[core_of[i]].push_back(i);
  std::vector<size_t> share(K, budget / K);
  for (size_t k = 0; k < budget % K; ++k) ++share[K - 1 - k];
  size_t spill = 0;
  for (size_t k = 0; k < K; ++k)
    if (share[k] > group[k].size()) spill += share[k] - group[k].size(), share[k] = group[k].size();
  for (size_t k = K; k-- > 0 && spill > 0;) {
    const size_t room = group[k].size() - share[k], add = std::min(room, spill);
    share[k] += add, spill -= add;
  }

  std::mt19937_64 rng(seed);
  std::vector<size_t> chosen;
  for (size_t k = 0; k < K; ++k) {
    const size_t M = share[k];
    if (M == 0) continue;
    const ClockLevels G = [&] {
      std::vector<Clocks> cs;
      for (size_t i : group[k]) cs.push_back(available[i]);
      return ClockLevels::of(cs);
    }();
    const size_t nl[3] = {G.cpu_khz.size(), G.gpu_hz.size(), G.emc_hz.size()};
    const int primary = static_cast<int>(std::max_element(nl, nl + 3) - nl);  // the finest domain
    std::vector<size_t> best;
    double best_score = -1;
    for (int trial = 0; trial < kTrials; ++trial) {
      std::vector<size_t> idx[3];
      for (int d = 0; d < 3; ++d)
        idx[d] = d == primary ? stratified(M, nl[d], trial == 0, rng) : balanced(M, nl[d], rng);
      std::vector<bool> used(group[k].size(), false);
      std::vector<size_t> pick;
      for (size_t i = 0; i < M; ++i) {
        // The target's place in the global lattice, then the nearest combination not yet taken.
        Coord target;
        target.x[0] = norm_index(ClockLevels::index_of(L.cpu_khz, G.cpu_khz[idx[0][i]]), L.cpu_khz.size());
        target.x[1] = norm_index(ClockLevels::index_of(L.gpu_hz, G.gpu_hz[idx[1][i]]), L.gpu_hz.size());
        target.x[2] = norm_index(ClockLevels::index_of(L.emc_hz, G.emc_hz[idx[2][i]]), L.emc_hz.size());
        target.x[3] = norm_index(k, K);
        size_t at = group[k].size();
        double dmin = std::numeric_limits<double>::infinity();
        for (size_t j = 0; j < group[k].size(); ++j) {
          if (used[j]) continue;
          const double d = dist2(coord[group[k][j]], target);
          if (d < dmin) dmin = d, at = j;
        }
        used[at] = true;
        pick.push_back(group[k][at]);
      }
      double score = std::numeric_limits<double>::infinity();
      for (size_t a = 0; a < pick.size(); ++a)
        for (size_t b = a + 1; b < pick.size(); ++b)
          score = std::min(score, dist2(coord[pick[a]], coord[pick[b]]));
      if (score > best_score) best_score = score, best = pick;
    }
    chosen.insert(chosen.end(), best.begin(), best.end());
  }

  // The all-maximum combination (or the one nearest to it) replaces its nearest chosen neighbour.
  Coord top;
  for (double& x : top.x) x = 1;
  size_t top_i = 0;
  for (size_t i = 1; i < available.size(); ++i)
    if (dist2(coord[i], top) < dist2(coord[top_i], top)) top_i = i;
  if (std::find(chosen.begin(), chosen.end(), top_i) == chosen.end()) {
    // Within the same core option when possible, so that the shares stay balanced.
    auto nearest = [&](bool same_cores) {
      size_t near = chosen.size();
      for (size_t k = 0; k < chosen.size(); ++k) {
        if (same_cores && core_of[chosen[k]] != core_of[top_i]) continue;
        if (near == chosen.size() ||
            dist2(coord[chosen[k]], coord[top_i]) < dist2(coord[chosen[near]], coord[top_i]))
          near = k;
      }
      return near;
    };
    size_t near = nearest(true);
    if (near == chosen.size()) near = nearest(false);
    chosen[near] = top_i;
  }

  // Cover both ends of every varying domain: swap in a missing extreme for the chosen point nearest
  // to it whose removal uncovers nothing else.
  const size_t nlev[4] = {L.cpu_khz.size(), L.gpu_hz.size(), L.emc_hz.size(), K};
  auto count_at = [&](int d, double v) {
    return std::count_if(chosen.begin(), chosen.end(), [&](size_t i) { return coord[i].x[d] == v; });
  };
  auto removable = [&](size_t i) {
    if (i == top_i) return false;
    for (int d = 0; d < 4; ++d)
      if (nlev[d] > 1 && (coord[i].x[d] == 0 || coord[i].x[d] == 1) && count_at(d, coord[i].x[d]) < 2)
        return false;
    return true;
  };
  for (int d = 0; d < 4; ++d) {
    if (nlev[d] < 2) continue;
    for (double v : {0.0, 1.0}) {
      if (count_at(d, v) > 0) continue;
      double dmin = std::numeric_limits<double>::infinity();
      size_t in = available.size(), out = chosen.size();
      for (size_t j = 0; j < available.size(); ++j) {
        if (coord[j].x[d] != v || std::find(chosen.begin(), chosen.end(), j) != chosen.end()) continue;
        for (size_t c = 0; c < chosen.size(); ++c) {
          if (d != 3 && core_of[j] != core_of[chosen[c]]) continue;  // keep the shares per core option
          const double dd = dist2(coord[j], coord[chosen[c]]);
          if (dd < dmin && removable(chosen[c])) dmin = dd, in = j, out = c;
        }
      }
      if (in < available.size()) chosen[out] = in;
    }
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace flame::grid
