#pragma once
// A lumped (one RC) thermal model of the board: the die temperature relaxes towards
// ambient + R·P with time constant tau. The grids have no temperature, so the parameters are
// assumptions (docs/simulator.md "Temperature and thermal throttling"); the same for every governor.
namespace flame::sim {

struct ThermalOptions {
  double ambient_c = 25;
  double resistance_c_per_w = 6;  // K/W: a TX2 module with its stock heatsink, no fan [assumed]
  double tau_s = 30;              // time constant [assumed]
};

class Thermal {
 public:
  explicit Thermal(ThermalOptions o = {}) : o_(o), t_(o.ambient_c) {}
  // Advances by dt_ms at constant power (0 W between inferences: the grid has no idle power).
  void advance(double dt_ms, double power_w);
  double celsius() const { return t_; }
  const ThermalOptions& options() const { return o_; }

 private:
  ThermalOptions o_;
  double t_;
};

}  // namespace flame::sim
