#pragma once
// Model-level latency from end-to-end samples (docs/frequency-model.md): a host (CPU launch) side
// and a device (GPU execution) side that overlap, coupled by a p-norm so that latency moves
// smoothly from launch-bound to execution-bound, plus host work that never overlaps:
//
//   T = pnorm_p(host, device) + serial
//   host   = a * m[n] * rc / (1 - phi * rc / n) * (1 + g * re)
//   device = pnorm_q(c * rg, d * re) + e
//   serial = (s * rc + b) * k[n] * (1 + g * re)
//
// with frequency ratios rc = fc_ref / fc, rg = fg_ref / fg, re = fe_ref / fe (>= 1 below the
// reference, the grid maximum) and n online cores. All coefficients are >= 0 and in ms at the
// reference clocks, so latency never increases with any clock.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame::grid {

// Reference clocks (the grid maximum) and the core options the per-core factors refer to.
struct ClockReference {
  double cpu_khz = 0;  // 0: CPU clock unknown / not modelled
  double gpu_hz = 0;
  double emc_hz = 0;
  std::vector<int> cores;  // ascending core options; empty when the core count is not a knob
};

struct LatencyParams {
  double launch = 0;                 // a: host launch work at the reference CPU clock (ms)
  double memory_stall = 0;           // g: host slowdown per unit of EMC period ratio
  double background = 0;             // phi: CPU capacity taken by a background load, fraction of fc_ref
  double gpu = 0;                    // c: device compute at the reference GPU clock (ms)
  double memory = 0;                 // d: memory-bound device time at the reference EMC clock (ms)
  double roofline = 4;               // q: p-norm exponent between compute and memory
  double device_fixed = 0;           // e (ms)
  double serial = 0;                 // s: non-overlapped host work at the reference CPU clock (ms)
  double serial_fixed = 0;           // b (ms)
  double coupling = 4;               // p: 1 = sum, >= 64 = max
  std::vector<double> launch_cores;  // m per core option (1 at the most cores); empty = all 1
  std::vector<double> serial_cores;  // k per core option
};

class CoupledLatency {
 public:
  CoupledLatency() = default;
  CoupledLatency(ClockReference ref, LatencyParams p);

  struct Parts {
    double host = 0, device = 0, serial = 0, total = 0;
  };
  Parts parts(const Clocks& c) const;
  double latency_ms(const Clocks& c) const { return parts(c).total; }

  const ClockReference& reference() const { return ref_; }
  const LatencyParams& params() const { return p_; }

 private:
  ClockReference ref_;
  LatencyParams p_;
};

// p-norm of two non-negative times: 1 = sum, large = max.
double pnorm(double a, double b, double p);

enum class Coupling { SmoothMax, Sum, Max };

struct LatencyFitOptions {
  Coupling coupling = Coupling::SmoothMax;
  uint64_t seed = 1;
  int starts = 0;             // random starts; 0 = chosen from the point count
  double robust_scale = 0;    // > 0: Cauchy loss on log residuals with this scale (outlier screening)
  size_t max_parameters = 0;  // 0 = chosen from the point count
};

struct LatencyFit {
  CoupledLatency model;
  Coupling coupling = Coupling::SmoothMax;
  double rms_log_residual = 0;
  double residual_sigma = 0;  // robust spread of the log residuals, corrected for the fitted parameters
  std::vector<std::string> free_parameters;  // which terms the data determined
  size_t points = 0;
};

// How many parameters a fit to `points` distinct combinations may use (the rest stay at their
// neutral values), and the fewest points for which a fit is well-posed.
size_t parameter_budget(size_t points);

// Least squares on log latency (relative error) with multi-start Levenberg-Marquardt. Terms for
// domains that do not vary in the points are left out. Throws std::invalid_argument on bad input.
LatencyFit fit_latency(const std::vector<Clocks>& clocks, const std::vector<double>& latency_ms,
                       const ClockReference& ref, const LatencyFitOptions& options = {});

}  // namespace flame::grid
