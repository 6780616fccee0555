#pragma once
// MAX: what `jetson_clocks` does — every clock pinned at its maximum, EMC locked at its maximum.
#include "flame/eval/detail/governor.hpp"

namespace flame::eval {

class MaxGovernor : public Governor {
 public:
  std::string name() const override { return "max"; }
  Target decide(const Decision&) override { return board_.max(); }
};

}  // namespace flame::eval
