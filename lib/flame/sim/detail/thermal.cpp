#include "flame/sim/detail/thermal.hpp"

#include <cmath>

namespace flame::sim {

void Thermal::advance(double dt_ms, double power_w) {
  if (!(dt_ms > 0)) return;
  const double target = o_.ambient_c + o_.resistance_c_per_w * power_w;
  t_ = target + (t_ - target) * std::exp(-dt_ms / (o_.tau_s * 1000.0));
}

}  // namespace flame::sim
