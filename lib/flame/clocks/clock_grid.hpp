#pragma once
// The operating points a board offers: per-domain frequency lists (ascending) and core counts.
#include <cstddef>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame {

struct ClockGrid {
  std::vector<double> cpu_khz;
  std::vector<int> cpu_cores;  // empty = cores not a knob
  std::vector<double> gpu_hz;
  std::vector<double> emc_hz;

  size_t size() const;
  Clocks at(size_t index) const;  // row-major over (cores, cpu, gpu, emc)
  Clocks max() const;
  void validate() const;  // throws on empty or unsorted domains
  bool operator==(const ClockGrid&) const = default;
};

}  // namespace flame
