#pragma once
// The stock governors of a TX2 as a load-driven model (docs/evaluation.md "stock"); the simulator
// itself only knows "busy → ceiling", so the dynamics live here:
//   CPU, schedutil-like: a PELT-style utilisation (geometric average of busy time, half-life 32 ms)
//     updated every scheduler tick (4 ms) while the CPU is busy and decayed over idle time at wake-up;
//     target = 1.25 × f_max × util, the lowest table frequency at or above it; increases immediately
//     (up_rate_limit 0), decreases only 500 ms after the last change (down_rate_limit);
//   GPU, nvhost_podgov-like: every 25 ms the load of the last window (busy fraction) scales the clock,
//     f = f_cur × load / 0.7 (load target 70 %), the lowest level at or above it; down at most one
//     level per window (its smoothing);
//   EMC: left to BPMP DVFS (unlocked), which the simulator runs at its ceiling under load.
// The inference keeps both the CPU (launch thread spinning on the GPU) and the GPU busy.
#include "flame/eval/detail/governor.hpp"

namespace flame::eval {

struct StockOptions {
  double tick_ms = 4;  // scheduler tick (HZ = 250)
  double pelt_half_life_ms = 32;
  double cpu_headroom = 1.25;
  double down_rate_limit_ms = 500;
  double gpu_window_ms = 25;
  double gpu_load_target = 0.7;
};

class StockGovernor : public Governor {
 public:
  explicit StockGovernor(StockOptions o = {}) : o_(o) {}
  std::string name() const override { return "stock"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;
  double tick_ms() const override { return o_.tick_ms; }
  std::optional<Target> tick(double now_ms, bool busy) override;
  void observe(const Outcome& o) override;

  double cpu_util() const { return util_; }

 private:
  void account(double now_ms, bool busy);  // advance util and the GPU window to now
  void schedutil(double now_ms);
  void podgov(double now_ms);
  Target target() const;

  StockOptions o_;
  double util_ = 0, last_ms_ = 0;
  std::size_t cpu_ = 0, gpu_ = 0;
  double cpu_changed_ms_ = -1e9;
  double window_start_ = 0, window_busy_ = 0;
};

}  // namespace flame::eval
