#pragma once
// What the planner chose for one request.
#include "flame/clocks/clocks.hpp"

namespace flame::policy {

struct Decision {
  Clocks clocks;
  double model_ms = 0;  // uncorrected model latency at clocks
  double power_w = 0;
  bool feasible = false;
  int evaluations = 0;
};

}  // namespace flame::policy
