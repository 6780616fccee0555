#pragma once
// The hardware side as the policy sees it: the board layer in flamed (daemon/hardware.hpp), the
// simulated board's tree in `flame eval` (lib/flame/eval/detail/flame_governor.hpp).
#include "flame/clocks/clock_grid.hpp"

namespace flame::policy {

class Actuator {
 public:
  virtual ~Actuator() = default;
  // What the board offers, within configured limits; a reference: the policy reads it per request.
  virtual const ClockGrid& grid() const = 0;
  virtual Clocks apply(const Clocks& target) = 0;  // returns what was applied; throws on failure
  virtual void restore() = 0;                      // back to the baseline
  virtual Clocks current() const = 0;
};

}  // namespace flame::policy
