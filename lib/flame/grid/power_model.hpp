#pragma once
// Power at a clock combination from the same sparse samples as the latency model
// (docs/frequency-model.md): log-power is linear in a small set of features of the clock ratios
// (polynomials in CPU, GPU and EMC clock and their products, one factor and CPU slope per core
// option, and the predicted latency: how long each side is busy). Fitted by ridge least squares,
// the ridge strength chosen by leave-one-out cross-validation on the samples.
// Energy = power x latency.
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/grid/latency_model.hpp"

namespace flame::grid {

struct PowerFeature {
  enum Kind {
    One,
    Cpu,
    Cpu2,
    Cpu3,
    Gpu,
    Gpu2,
    Gpu3,
    CpuGpu,
    Cpu2Gpu,
    CpuGpu2,
    Emc,
    Emc2,
    EmcCpu,
    EmcGpu,
    Cores,
    CoresCpu,
    LogLatency,
    CpuLogLatency,
    GpuLogLatency
  } kind = One;
  int cores = 0;  // for Cores / CoresCpu: the option this indicator is 1 for

  std::string name() const;
  static PowerFeature parse(const std::string& name);  // throws std::invalid_argument
};

class PowerModel {
 public:
  PowerModel() = default;
  PowerModel(ClockReference ref, double latency_ref_ms, std::vector<PowerFeature> features,
             std::vector<double> weights);

  // latency_ms: the model's predicted latency at c (a feature).
  double power_w(const Clocks& c, double latency_ms) const;
  // One feature's value (log-power contribution per unit weight).
  double feature(const PowerFeature& f, const Clocks& c, double latency_ms) const;

  const ClockReference& reference() const { return ref_; }
  double latency_ref_ms() const { return latency_ref_; }
  const std::vector<PowerFeature>& features() const { return features_; }
  const std::vector<double>& weights() const { return weights_; }

 private:
  ClockReference ref_;
  double latency_ref_ = 1;
  std::vector<PowerFeature> features_;
  std::vector<double> weights_;
};

struct PowerFit {
  PowerModel model;
  double rms_log_residual = 0;
};

// latency_ms are the latency model's predictions at the sample clocks (not the measurements), so
// that the feature means the same thing when predicting. Throws std::invalid_argument.
PowerFit fit_power(const std::vector<Clocks>& clocks, const std::vector<double>& power_w,
                   const std::vector<double>& latency_ms, const ClockReference& ref);

}  // namespace flame::grid
