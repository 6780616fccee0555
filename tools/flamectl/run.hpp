#pragma once
// `flamectl run`: hold a deadline request while a child command runs, report its wall time.
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
};

// Returns the child's exit status (128+N when killed by signal N, 127/126 when it cannot be run).
int run_command(const Globals& g, const RunOptions& o);

}  // namespace flamectl
