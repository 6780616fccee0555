#include "flame/sim/detail/thermal_throttle.hpp"

#include <cmath>
#include <stdexcept>

namespace flame::sim {

ThermalThrottle::ThermalThrottle(ThrottleOptions o) : o_(o) {
  if (!std::isfinite(o_.trip_c)) throw std::invalid_argument("thermal throttle: trip must be finite");
  if (!(o_.hysteresis_c >= 0)) throw std::invalid_argument("thermal throttle: hysteresis must be >= 0");
  if (!(o_.clock_fraction > 0 && o_.clock_fraction <= 1))
    throw std::invalid_argument("thermal throttle: clock fraction must be in (0, 1]");
  if (!(o_.poll_ms > 0)) throw std::invalid_argument("thermal throttle: poll period must be > 0");
}

bool ThermalThrottle::poll(double celsius) {
  if (!engaged_ && celsius >= o_.trip_c) {
    engaged_ = true;
    ++engagements_;
    return true;
  }
  if (engaged_ && celsius < o_.trip_c - o_.hysteresis_c) {
    engaged_ = false;
    return true;
  }
  return false;
}

}  // namespace flame::sim
