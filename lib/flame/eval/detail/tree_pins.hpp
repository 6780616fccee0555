#pragma once
// Writes a governor's clocks into a simulated board's sysfs tree the way a userspace governor pins
// them (cpufreq scaling_min/max = f, devfreq min/max = f, EMC rate + mrq_rate_locked), and puts the
// baseline back. The evaluation loop uses it for the in-process governors; the real flamed writes the
// same files through the board layer (tools/demo.sh, tests/integration/sim_flamed.sh).
#include <map>
#include <string>

#include "flame/eval/detail/governor.hpp"
#include "flame/sim/fake_tree.hpp"
#include "flame/sim/profiles.hpp"

namespace flame::eval {

class TreePins {
 public:
  // Remembers the tree's current (baseline) control files (`layout`: which of them the simulator
  // reads; the cpufreq policy it reads is the one pinned).
  explicit TreePins(sim::FakeTree& tree, sim::BoardLayout layout = sim::tx2_layout());
  // Pins every domain with a non-zero value; a zero domain goes back to its baseline.
  void pin(const Target& t);
  void restore();
  int writes() const { return writes_; }

 private:
  void put(const std::string& path, const std::string& value);
  std::string get(const std::string& path) const;

  sim::FakeTree& tree_;
  sim::BoardLayout layout_;
  std::map<std::string, std::string> baseline_;
  int writes_ = 0;
};

}  // namespace flame::eval
