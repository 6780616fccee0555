#pragma once
// What the profile runner needs from the world, as interfaces: the board's clocks, its power
// rails, a way to run the user's command, and time. The real implementations are the board layer
// (board_clock_control, rail_power_meter), fork/exec (child_process) and the steady clock; tests
// put scripted fakes here.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flame/clocks/clocks.hpp"

namespace flame::profile {

class ClockControl {
 public:
  virtual ~ClockControl() = default;
  // Pins the clocks (0 = leave that domain alone); returns what was pinned after rounding to the
  // tables. Throws with a message naming the domain when a write fails.
  virtual Clocks apply(const Clocks& target) = 0;
  // What the hardware runs now (cpufreq scaling_cur_freq, devfreq cur_freq, the EMC rate).
  virtual Clocks current() = 0;
  // Puts back everything changed since the first apply(); throws if that was incomplete.
  virtual void restore() = 0;
};

class PowerMeter {
 public:
  virtual ~PowerMeter() = default;
  // Board power now (mW), nullopt when no rail can be read.
  virtual std::optional<double> read_mw() = 0;
};

struct CommandResult {
  int exit_code = 0;  // valid when !signaled
  bool signaled = false;
  int signal = 0;
  bool stopped = false;  // ended because tick() asked to stop
  std::string error;     // could not be started at all (e.g. not found)
  bool ok() const { return error.empty() && !signaled && !stopped && exit_code == 0; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  using OutputSink = std::function<void(std::string_view chunk)>;
  // Runs argv with `env` added to the environment and waits for it. tick() is called periodically
  // while it runs; when it returns false the command is stopped (its process group is sent SIGINT,
  // then SIGKILL after a grace period). With `stdout_sink`, the command's standard output is
  // captured and handed over in chunks as it arrives (between ticks, and what is left after it
  // exits); without, it is flame's own.
  virtual CommandResult run(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env, const std::function<bool()>& tick,
                            const OutputSink& stdout_sink) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now_s() = 0;
  virtual void sleep_s(double seconds) = 0;
  // Unix time in ns: what a profiler trace's wall-clock anchor is on, for timing rail samples.
  virtual std::int64_t unix_ns() = 0;
};

// The process's steady clock.
class SteadyClock final : public Clock {
 public:
  double now_s() override;
  void sleep_s(double seconds) override;
  std::int64_t unix_ns() override;
};

}  // namespace flame::profile
