#include "flame/clocks/clock_grid.hpp"

#include <algorithm>
#include <stdexcept>

namespace flame {

size_t ClockGrid::size() const {
  const size_t cores = cpu_cores.empty() ? 1 : cpu_cores.size();
  return cores * cpu_khz.size() * gpu_hz.size() * emc_hz.size();
}

Clocks ClockGrid::at(size_t index) const {
  if (index >= size()) throw std::out_of_range("ClockGrid::at: index past the grid");
  Clocks c;
  c.emc_hz = emc_hz[index % emc_hz.size()];
  index /= emc_hz.size();
  c.gpu_hz = gpu_hz[index % gpu_hz.size()];
  index /= gpu_hz.size();
  c.cpu_khz = cpu_khz[index % cpu_khz.size()];
  index /= cpu_khz.size();
  c.cpu_cores = cpu_cores.empty() ? 0 : cpu_cores[index];
  return c;
}

Clocks ClockGrid::max() const {
  return {cpu_khz.back(), cpu_cores.empty() ? 0 : cpu_cores.back(), gpu_hz.back(), emc_hz.back()};
}

void ClockGrid::validate() const {
  auto check = [](const auto& v, const char* name) {
    if (v.empty()) throw std::invalid_argument(std::string("clock grid: no ") + name + " frequencies");
    if (!std::is_sorted(v.begin(), v.end()) || std::adjacent_find(v.begin(), v.end()) != v.end())
      throw std::invalid_argument(std::string("clock grid: ") + name +
                                  " frequencies must be strictly ascending");
    if (v.front() <= 0)
      throw std::invalid_argument(std::string("clock grid: ") + name + " frequencies must be positive");
  };
  check(cpu_khz, "CPU");
  check(gpu_hz, "GPU");
  check(emc_hz, "EMC");
  if (!cpu_cores.empty()) check(cpu_cores, "core-count");
}

}  // namespace flame
