#include "flame/board/description_grid.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace flame::board {

ClockGrid clock_grid(const BoardDescription& d) {
  ClockGrid g;
  for (auto f : d.cpu.frequencies_khz) g.cpu_khz.push_back(double(f));
  for (auto f : d.gpu.frequencies_hz) g.gpu_hz.push_back(double(f));
  for (auto f : d.emc.frequencies_hz) g.emc_hz.push_back(double(f));
  // One core option is no knob; several are (FlexiBO's TX2 grid switches cores on and off).
  if (d.cpu.core_options.size() > 1) g.cpu_cores = d.cpu.core_options;
  if (g.cpu_khz.empty() || g.gpu_hz.empty() || g.emc_hz.empty())
    throw std::invalid_argument(fmt::format("board '{}' has no CPU, GPU or EMC frequency table", d.name));
  g.validate();
  return g;
}

}  // namespace flame::board
