#pragma once
// A clock operating point across the Jetson DVFS domains. Units follow sysfs: cpufreq in kHz,
// devfreq (GPU) and EMC in Hz. A zero means "not set / unknown" for that domain.
#include <compare>
#include <cstdint>
#include <string>

namespace flame {

struct Clocks {
  double cpu_khz = 0;
  int cpu_cores = 0;  // online cores; 0 = unknown / all
  double gpu_hz = 0;
  double emc_hz = 0;

  auto operator<=>(const Clocks&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

// What a model predicts at one operating point.
struct Estimate {
  double latency_ms = 0;
  double power_w = 0;  // 0 when the model has no power part
  double energy_mj() const { return latency_ms * power_w; }
};

std::string to_string(const Clocks& c);

}  // namespace flame
