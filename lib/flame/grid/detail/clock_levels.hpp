#pragma once
// The distinct levels of each clock domain in a set of measured combinations, and the reference
// (maximum) clocks the grid model normalises by. A domain with one level does not vary.
#include <vector>

#include "flame/clocks/clock_grid.hpp"
#include "flame/clocks/clocks.hpp"

namespace flame::grid {

struct ClockLevels {
  std::vector<double> cpu_khz;  // ascending; {0} when unknown
  std::vector<int> cores;       // ascending; {0} when unknown
  std::vector<double> gpu_hz;
  std::vector<double> emc_hz;

  static ClockLevels of(const std::vector<Clocks>& combos);

  bool cpu_varies() const { return cpu_khz.size() > 1; }
  bool cores_vary() const { return cores.size() > 1; }
  bool gpu_varies() const { return gpu_hz.size() > 1; }
  bool emc_varies() const { return emc_hz.size() > 1; }
  int varying_domains() const;

  Clocks max() const { return {cpu_khz.back(), cores.back(), gpu_hz.back(), emc_hz.back()}; }
  size_t full_size() const { return cpu_khz.size() * cores.size() * gpu_hz.size() * emc_hz.size(); }

  // Index of a level (exact match, else the nearest); used to place combinations on the grid.
  static size_t index_of(const std::vector<double>& levels, double f);
  static size_t index_of(const std::vector<int>& levels, int n);

  // For the search; unknown domains (level 0) are not representable and throw.
  ClockGrid grid() const;
};

}  // namespace flame::grid
