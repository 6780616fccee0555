#pragma once
// Thermal throttling as a Jetson does it, reduced to one trip point: a polled thermal zone engages the
// CPU and GPU cooling devices (clocks capped below their maxima) when the die reaches the trip
// temperature and releases them only once it has cooled below trip − hysteresis, so that the clocks do
// not chatter around the trip. Pure state machine: the caller supplies the temperature at each poll.
#include <cstddef>

namespace flame::sim {

struct ThrottleOptions {
  double trip_c = 80;            // engage at or above [assumed]
  double hysteresis_c = 5;       // release below trip − hysteresis [assumed]
  double clock_fraction = 0.75;  // throttled: CPU and GPU at most the highest level <= this × max
  double poll_ms = 100;          // the zone is read at multiples of this (virtual time)
};

class ThermalThrottle {
 public:
  explicit ThermalThrottle(ThrottleOptions o);
  // One poll at temperature `celsius`; returns true when the state changed.
  bool poll(double celsius);
  bool engaged() const { return engaged_; }
  std::size_t engagements() const { return engagements_; }
  const ThrottleOptions& options() const { return o_; }

 private:
  ThrottleOptions o_;
  bool engaged_ = false;
  std::size_t engagements_ = 0;
};

}  // namespace flame::sim
