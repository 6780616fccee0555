#include "flame/eval/detail/stock_governor.hpp"

#include <algorithm>
#include <cmath>

namespace flame::eval {
namespace {

// cpufreq/devfreq RELATION_L: the lowest table entry at or above the target.
std::size_t at_or_above(const std::vector<std::uint64_t>& levels, double target) {
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (static_cast<double>(levels[i]) >= target) return i;
  return levels.size() - 1;
}

}  // namespace

void StockGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  // A fresh board: the stock governors at rest, clocks at the bottom, no utilisation history.
  util_ = 0;
  last_ms_ = 0;
  cpu_ = 0;
  gpu_ = 0;
  cpu_changed_ms_ = -1e9;
  window_start_ = 0;
  window_busy_ = 0;
}

void StockGovernor::account(double now_ms, bool busy) {
  const double dt = now_ms - last_ms_;
  if (dt <= 0) return;
  const double y = std::pow(0.5, dt / o_.pelt_half_life_ms);
  util_ = util_ * y + (busy ? 1 - y : 0);
  if (busy) window_busy_ += dt;
  last_ms_ = now_ms;
}

void StockGovernor::schedutil(double now_ms) {
  const double f = o_.cpu_headroom * static_cast<double>(board_.cpu_khz.back()) * util_;
  const std::size_t want = at_or_above(board_.cpu_khz, f);
  if (want > cpu_ || (want < cpu_ && now_ms - cpu_changed_ms_ >= o_.down_rate_limit_ms)) {
    cpu_ = want;
    cpu_changed_ms_ = now_ms;
  }
}

void StockGovernor::podgov(double now_ms) {
  while (now_ms - window_start_ >= o_.gpu_window_ms) {
    // The window's load; busy time beyond the window end is carried into the next one.
    const double load = std::min(1.0, window_busy_ / o_.gpu_window_ms);
    window_busy_ = std::max(0.0, window_busy_ - o_.gpu_window_ms);
    window_start_ += o_.gpu_window_ms;
    const double f = static_cast<double>(board_.gpu_hz[gpu_]) * load / o_.gpu_load_target;
    const std::size_t want = load > 0 ? at_or_above(board_.gpu_hz, f) : 0;
    if (want > gpu_)
      gpu_ = want;
    else if (want < gpu_)
      --gpu_;
  }
}

Target StockGovernor::target() const {
  return {board_.cores, board_.cpu_khz[cpu_], board_.gpu_hz[gpu_], 0};
}

Target StockGovernor::decide(const Decision& d) {
  // Wake-up: the CPU was idle until now; schedutil re-evaluates with the decayed utilisation.
  account(d.now_ms, false);
  podgov(d.now_ms);
  schedutil(d.now_ms);
  return target();
}

std::optional<Target> StockGovernor::tick(double now_ms, bool busy) {
  const Target before = target();
  account(now_ms, busy);
  podgov(now_ms);
  // An idle CPU gets no scheduler updates: its frequency stays until the next wake-up.
  if (busy) schedutil(now_ms);
  const Target after = target();
  if (after == before) return std::nullopt;
  return after;
}

void StockGovernor::observe(const Outcome& o) {
  account(o.start_ms + o.latency_ms, true);  // the tail of the inference after the last tick
}

}  // namespace flame::eval
