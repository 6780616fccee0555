#pragma once
// Shorthands for clock requests in tests.
#include <optional>

#include "flame/board/detail/clock_writer.hpp"

namespace flame::test {

inline flame::board::ClockRequest pin(std::optional<std::uint64_t> cpu_khz,
                                      std::optional<std::uint64_t> gpu_hz = {},
                                      std::optional<std::uint64_t> emc_hz = {}) {
  flame::board::ClockRequest r;
  r.cpu_khz = cpu_khz;
  r.gpu_hz = gpu_hz;
  r.emc_hz = emc_hz;
  return r;
}

inline flame::board::ClockRequest at_max() {
  flame::board::ClockRequest r;
  r.max = true;
  return r;
}

}  // namespace flame::test
