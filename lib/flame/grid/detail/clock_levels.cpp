#include "flame/grid/detail/clock_levels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace flame::grid {
namespace {

template <typename T>
std::vector<T> distinct(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

ClockLevels ClockLevels::of(const std::vector<Clocks>& combos) {
  if (combos.empty()) throw std::invalid_argument("clock levels: no clock combinations");
  ClockLevels l;
  for (const auto& c : combos) {
    l.cpu_khz.push_back(c.cpu_khz);
    l.cores.push_back(c.cpu_cores);
    l.gpu_hz.push_back(c.gpu_hz);
    l.emc_hz.push_back(c.emc_hz);
  }
  l.cpu_khz = distinct(std::move(l.cpu_khz));
  l.cores = distinct(std::move(l.cores));
  l.gpu_hz = distinct(std::move(l.gpu_hz));
  l.emc_hz = distinct(std::move(l.emc_hz));
  return l;
}

int ClockLevels::varying_domains() const {
  return int(cpu_varies()) + int(cores_vary()) + int(gpu_varies()) + int(emc_varies());
}

size_t ClockLevels::index_of(const std::vector<double>& levels, double f) {
  size_t best = 0;
  for (size_t i = 1; i < levels.size(); ++i)
    if (std::abs(levels[i] - f) < std::abs(levels[best] - f)) best = i;
  return best;
}

size_t ClockLevels::index_of(const std::vector<int>& levels, int n) {
  size_t best = 0;
  for (size_t i = 1; i < levels.size(); ++i)
    if (std::abs(levels[i] - n) < std::abs(levels[best] - n)) best = i;
  return best;
}

ClockGrid ClockLevels::grid() const {
  if (cpu_khz.front() <= 0 || gpu_hz.front() <= 0 || emc_hz.front() <= 0)
    throw std::invalid_argument("clock levels: a domain has unknown (zero) clocks; no search grid");
  ClockGrid g{cpu_khz, cores.front() > 0 ? cores : std::vector<int>{}, gpu_hz, emc_hz};
  g.validate();
  return g;
}

}  // namespace flame::grid
