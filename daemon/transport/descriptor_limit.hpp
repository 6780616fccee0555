#pragma once
// Every client connection is a file descriptor, and flamed needs some of its own (sysfs nodes, the
// bus, the journal, state files). At start and on reload the open-file limit is checked against
// limits.max_connections and the soft limit raised toward the hard one when it is too low.
#include <cstddef>
#include <cstdint>

namespace flamed {

inline constexpr std::uint64_t kReservedDescriptors = 64;

struct DescriptorCheck {
  std::uint64_t needed = 0;  // max_connections + kReservedDescriptors
  std::uint64_t before = 0;  // the soft RLIMIT_NOFILE found
  std::uint64_t limit = 0;   // the soft limit now
  bool enough() const { return limit >= needed; }
  bool raised() const { return limit > before; }
};

// Raises the soft RLIMIT_NOFILE up to the hard limit if max_connections needs it.
DescriptorCheck fit_descriptor_limit(std::size_t max_connections);

}  // namespace flamed
