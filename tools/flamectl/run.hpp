#pragma once
// `flamectl run`: hold a deadline request while a child command runs.
#include <string>
#include <vector>

#include "daemon_link.hpp"
#include "lease.hpp"

namespace flamectl {

struct RunOptions {
  BeginArgs args;
  std::vector<std::string> command;
  bool strict = false;   // fail instead of running without the daemon
  bool verbose = false;  // decision and summary on stderr
  // Report the command's wall time as the request's latency. Off by default: a process's wall
  // time includes its start-up and every inference it runs, so it would skew calibration.
  bool report_latency = false;
};

// Returns the child's exit status (128+N when killed by signal N, 127/126 when it cannot be run).
int run_command(const Globals& g, const RunOptions& o);

}  // namespace flamectl
