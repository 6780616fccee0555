#pragma once
// CommandRunner with fork/exec: the command runs in its own process group (so a stop reaches
// everything it started), stdin from /dev/null, stderr shared with flame, stdout too or captured
// through a pipe.
#include "flame/profile/detail/profile_hardware.hpp"

namespace flame::profile {

class ChildProcessRunner final : public CommandRunner {
 public:
  // tick_s is also the rail sampling period while profiling: short iterations need several samples.
  explicit ChildProcessRunner(double tick_s = 0.01, double stop_grace_s = 5.0)
      : tick_s_(tick_s), grace_s_(stop_grace_s) {}
  CommandResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    const std::function<bool()>& tick, const OutputSink& stdout_sink) override;

 private:
  double tick_s_;
  double grace_s_;
};

}  // namespace flame::profile
