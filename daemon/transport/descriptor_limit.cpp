#include "transport/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace flamed {

DescriptorCheck fit_descriptor_limit(std::size_t max_connections) {
  DescriptorCheck c;
  c.needed = max_connections + kReservedDescriptors;
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return c;
  c.before = c.limit = r.rlim_cur;
  if (r.rlim_cur >= c.needed) return c;
  rlimit raised = r;
  raised.rlim_cur = std::min<rlim_t>(c.needed, r.rlim_max);
  if (raised.rlim_cur > r.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) c.limit = raised.rlim_cur;
  return c;
}

}  // namespace flamed
