#include "flame/clocks/clocks.hpp"

#include <fmt/format.h>

namespace flame {

std::string to_string(const Clocks& c) {
  return fmt::format("cpu={:.0f}kHz x{} gpu={:.0f}MHz emc={:.0f}MHz", c.cpu_khz, c.cpu_cores, c.gpu_hz / 1e6,
                     c.emc_hz / 1e6);
}

}  // namespace flame
