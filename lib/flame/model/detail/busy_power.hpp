#pragma once
// Board power of a layer-wise model (docs/frequency-model.md, "Power of a layer-wise model"): CMOS
// power per clock domain, C·V²·f, scaled by how busy the domain is. The layer-wise model knows how
// busy each side is at any clock combination (its host, device and device-memory time over the
// inference's latency), which a model of the clocks alone has to guess. The voltage-frequency curve
// is unknown, so each domain's dynamic power is a non-negative mix of x (voltage flat) and x³
// (voltage proportional to the clock), x the clock over the reference:
//   P = c₀ + c_n·n/n_ref + Σ_{d ∈ cpu, gpu} (a_d x_d + b_d x_d³ + (a'_d x_d + b'_d x_d³)·busy_d)
//       + e·x_emc + e'·x_emc·busy_mem
// All weights >= 0 (non-negative least squares), so extrapolation stays physical.
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/grid/latency_model.hpp"

namespace flame::model {

// Fractions of the inference each side is busy, in [0, 1].
struct Busy {
  double host = 0;
  double device = 0;
  double memory = 0;  // the device's memory-bound share
};

enum class BusyTerm { One, Cores, Cpu, Cpu3, CpuBusy, Cpu3Busy, Gpu, Gpu3, GpuBusy, Gpu3Busy, Emc, EmcBusy };

std::string to_string(BusyTerm t);
BusyTerm busy_term_from(const std::string& name);  // throws std::invalid_argument

class BusyPowerModel {
 public:
  BusyPowerModel() = default;
  // Throws std::invalid_argument on a count mismatch, a negative or non-finite weight, or a
  // non-positive reference clock.
  BusyPowerModel(grid::ClockReference ref, std::vector<BusyTerm> terms, std::vector<double> weights);

  double power_w(const Clocks& c, const Busy& b) const;
  double term(BusyTerm t, const Clocks& c, const Busy& b) const;

  const grid::ClockReference& reference() const { return ref_; }
  const std::vector<BusyTerm>& terms() const { return terms_; }
  const std::vector<double>& weights() const { return weights_; }

 private:
  grid::ClockReference ref_;
  std::vector<BusyTerm> terms_;
  std::vector<double> weights_;
};

// Fits the terms the samples can tell apart (a domain whose clock never varies folds into c₀).
// Throws std::invalid_argument on mismatched sizes or non-positive power.
BusyPowerModel fit_busy_power(const std::vector<Clocks>& clocks, const std::vector<Busy>& busy,
                              const std::vector<double>& power_w, const grid::ClockReference& ref);

}  // namespace flame::model
