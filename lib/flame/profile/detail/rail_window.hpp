#pragma once
// Which rail samples stand for a profiled combination's power (docs/profiling.md, "Rail power").
// The command also spends time starting up, warming up and writing its trace, at other power; the
// samples that count are the ones taken while its recorded iterations ran. A trace with a wall-clock
// anchor (`baseTimeNanoseconds`, torch >= 2.4) says when that was; without one, every sample of the
// command counts, start-up included.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "flame/trace/trace_profile.hpp"

namespace flame::profile {

struct RailSample {
  std::int64_t unix_ns = 0;  // when it was read
  double mw = 0;
};

enum class PowerWindow {
  Iterations,  // samples taken while the recorded iterations ran
  Command,     // the whole command (a trace had no wall-clock anchor)
};

std::string_view to_string(PowerWindow w);
std::optional<PowerWindow> power_window_from(std::string_view s);

struct RailPower {
  std::optional<double> mw;  // mean of the samples used; nullopt when none qualifies
  int samples = 0;           // how many were used
  PowerWindow window = PowerWindow::Command;
};

// Pure. `windows`: one per trace the step wrote, nullopt for a trace without an anchor (then the
// whole command counts). With anchors, the samples inside any window are averaged; when iterations are
// shorter than the sampling period and none falls inside, the one sample nearest a window counts if
// it is within `tolerance_ns` of it.
RailPower rail_power(const std::vector<RailSample>& samples,
                     const std::vector<std::optional<trace::WallWindow>>& windows, std::int64_t tolerance_ns);

}  // namespace flame::profile
