#pragma once
// Per-segment time-vs-clock curves of the two sides (FLAME's layer-wise model).
//
// Host side: kernel dispatch is CPU work, so most of it scales with the CPU clock; a fixed part
// (driver waits, uncached memory) does not:        t_cpu = fixed + work / f_cpu.
// Device side: the compute part scales with the GPU clock; the memory part depends on the EMC
// clock in a way that a 1/f_emc term does not capture (published Orin measurements), so it is
// tabulated at the board's few lockable EMC points:  t_gpu = memory[emc] + work / f_gpu.
#include <span>
#include <vector>

#include "flame/model/clocks.hpp"

namespace flame {

struct CpuCurve {
  double fixed_ns = 0;
  double work_ns_khz = 0;  // ns at 1 kHz: t = work / f_khz
  double at(double cpu_khz) const { return fixed_ns + work_ns_khz / cpu_khz; }
};

struct GpuCurve {
  std::vector<double> emc_hz;     // tabulated EMC levels, ascending
  std::vector<double> memory_ns;  // GPU-clock-independent time at each level
  double work_ns_hz = 0;          // ns at 1 Hz: t = work / f_gpu
  // Between levels the memory part is interpolated linearly in 1/f_emc; outside it is clamped.
  double at(double gpu_hz, double emc_hz) const;
};

struct CurveSample {
  Clocks clocks;
  double ns = 0;
};

// Least-squares fits with non-negative coefficients. With a single CPU clock in the samples the
// split between fixed and clock-scaled host time is unknown and all of it is taken as scaling.
CpuCurve fit_cpu_curve(std::span<const CurveSample> samples);
// emc_levels are the board's EMC points; each needs at least one sample.
GpuCurve fit_gpu_curve(std::span<const CurveSample> samples, std::span<const double> emc_levels);

}  // namespace flame
