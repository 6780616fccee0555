#pragma once
// Recovery test of the layer-wise model. No public data has per-layer profiles across GPU/EMC
// clocks, so a synthetic Jetson is built from real H200 segments: each segment gets known host and
// device curves (documented in docs/layerwise-model.md; deliberately NOT the estimator's form), the
// model is fitted from noisy profiles at a sparse plan, and its predictions are compared with the
// noise-free truth at every grid point.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/clocks/clock_grid.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/model/layerwise_model.hpp"

namespace flame::validate {

struct RecoveryOptions {
  size_t budget = 12;
  double noise = 0.03;  // relative per-segment measurement noise (1 sigma)
  uint64_t seed = 1;
  double host_factor = 2.0;     // Jetson host at max clock vs the H200 host
  double device_factor = 15.0;  // Jetson GPU at max clocks vs the H200
  double power_noise = 0.03;    // relative noise of one rail power sample (log-normal, 1 sigma)
};

struct RecoveryReport {
  std::string tag;
  size_t profiled = 0;
  size_t grid_points = 0;
  fit::ErrorStats timeline;    // the layer-wise model
  fit::ErrorStats sum_model;   // same fitted curves, summed per segment
  fit::ErrorStats max_model;   // same fitted curves, max(total host, total device)
  fit::ErrorStats scaled_max;  // one profile at max clocks scaled by 1/f per domain
  fit::ErrorStats power;       // the fitted power model against the power truth
  double power_median_ape_pct = 0;
  double launch_bound_share = 0;  // of grid points whose truth ends host-bound
};

// The synthetic board's truth at one operating point (exposed for tests).
double synthetic_truth_ns(const model::CouplingConfig& config, const ClockGrid& grid, const Clocks& clocks,
                          const RecoveryOptions& options, bool* host_bound = nullptr);

// The synthetic board's average power at one operating point (W; docs/layerwise-model.md): static
// plus CPU and GPU dynamic power ~ f V^2 weighted by how busy each side is, plus DRAM.
double synthetic_power_w(const model::CouplingConfig& config, const ClockGrid& grid, const Clocks& clocks,
                         const RecoveryOptions& options);

// Noisy profiles of the synthetic board at the sampling plan's combinations, as a profiler would
// record them (per-segment spans, end-to-end median, sync wait), each with a noisy power sample.
std::vector<model::ProfiledPoint> synthetic_profiles(const model::CouplingConfig& config,
                                                     const ClockGrid& grid, const RecoveryOptions& options);

RecoveryReport recover_layerwise(const model::CouplingConfig& config, const ClockGrid& grid,
                                 const RecoveryOptions& options);

}  // namespace flame::validate
