#pragma once
// flamectl's D-Bus side: the privileged methods of org.flame.Flamed1 (Reload, RestoreBaseline,
// SetEnabled) are not on the socket, so that only root (or whoever the bus policy admits) can
// call them (docs/dbus.md).
#include <optional>
#include <string>

#include "daemon_link.hpp"

namespace flamectl {

// Outcome of one method call, already classified into flamectl's exit codes.
struct BusOutcome {
  int code = kOk;
  std::string message;  // empty on success
  std::string reason;   // machine-readable, for --json
};

// Calls org.flame.Flamed1.<method> on the system bus ($DBUS_SYSTEM_BUS_ADDRESS if set). `enabled`
// is the boolean argument of SetEnabled and must be empty for the others.
BusOutcome call_flamed_method(const Globals& g, const std::string& method, std::optional<bool> enabled);

// The classification alone, for tests and for callers with their own bus: error name -> outcome.
BusOutcome classify_bus_error(const std::string& method, const std::string& error_name,
                              const std::string& error_message);

}  // namespace flamectl
