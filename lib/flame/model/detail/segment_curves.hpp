#pragma once
// Per-segment time-vs-clock curves of the two sides (FLAME's layer-wise model).
//
// Host side: kernel dispatch is CPU work, so most of it scales with the CPU clock; a share waits
// on DRAM (cache misses in the framework's dispatch path) and scales with the EMC clock instead,
// and a fixed part (driver waits) scales with neither:
//                                                  t_cpu = fixed + work / f_cpu + memory / f_emc.
// Device side: the compute part scales with the GPU clock; the memory part depends on the EMC
// clock in a way that a 1/f_emc term does not capture (published Orin measurements), so it is
// tabulated at the board's few lockable EMC points:  t_gpu = memory[emc] + work / f_gpu.
#include <span>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame::model {

struct CpuCurve {
  double fixed_ns = 0;
  double work_ns_khz = 0;   // ns at 1 kHz: t = work / f_khz
  double memory_ns_hz = 0;  // ns at 1 Hz of EMC: t = memory / f_emc (0: the form without it)
  double at(double cpu_khz, double emc_hz) const {
    return fixed_ns + work_ns_khz / cpu_khz + memory_ns_hz / emc_hz;
  }
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

// Whether the host's EMC term can be told apart from its fixed and CPU-scaled parts at these
// clocks: at least two CPU clocks and two EMC clocks, not varied in lockstep (the three columns
// 1, 1/f_cpu, 1/f_emc have full rank).
bool host_memory_term_identifiable(std::span<const Clocks> clocks);

// Least-squares fits with non-negative coefficients. With a single CPU clock in the samples the
// split between fixed and clock-scaled host time is unknown and all of it is taken as scaling.
// When the EMC term is not identifiable the host curve falls back to fixed + work / f_cpu.
CpuCurve fit_cpu_curve(std::span<const CurveSample> samples);
// emc_levels are the board's EMC points; each needs at least one sample.
GpuCurve fit_gpu_curve(std::span<const CurveSample> samples, std::span<const double> emc_levels);

// The level of `levels` nearest to hz (a profiled EMC clock is one of the board's levels).
size_t nearest_emc_level(std::span<const double> levels, double hz);
// Levels that no sample hit (seen[l] == 0) get their memory part interpolated in 1/f_emc from the
// nearest sampled neighbours, or the nearest one's value outside them.
void fill_unsampled_levels(GpuCurve& g, std::span<const int> seen);

}  // namespace flame::model
