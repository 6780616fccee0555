#include "flame/sim/model_truth.hpp"

#include <cmath>

namespace flame::sim {

double lognormal_factor(double sigma, double z) {
  return std::exp(sigma * z - sigma * sigma / 2);
}

TruthSample GridTruth::sample(const SimClocks& c, const TruthDraw& d) const {
  const GridPoint& p = table_.at(table_.snap(c));
  TruthSample s;
  s.latency_noise = lognormal_factor(table_.latency_noise().sigma * d.scale, d.z_latency);
  s.power_noise = lognormal_factor(table_.power_noise().sigma * d.scale, d.z_power);
  s.latency_ms = p.latency_s * 1000.0 * s.latency_noise;
  s.power_w = p.power_mw / 1000.0 * s.power_noise;
  return s;
}

}  // namespace flame::sim
