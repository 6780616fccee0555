// The open-file limit against limits.max_connections: raised toward the hard limit when too low.
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "transport/descriptor_limit.hpp"

using flamed::fit_descriptor_limit;
using flamed::kReservedDescriptors;

TEST_CASE("descriptor limit: a low soft limit is raised to what max_connections needs", "[daemon]") {
  rlimit original{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &original) == 0);
  REQUIRE(original.rlim_max >= 256);  // the test lowers the soft limit to 100, then raises it
  rlimit low = original;
  low.rlim_cur = 100;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);

  const auto c = fit_descriptor_limit(64);
  CHECK(c.needed == 64 + kReservedDescriptors);
  CHECK(c.before == 100);
  CHECK(c.limit == 128);
  CHECK(c.raised());
  CHECK(c.enough());
  rlimit now{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == 128);

  // Enough already: nothing changes.
  const auto same = fit_descriptor_limit(10);
  CHECK_FALSE(same.raised());
  CHECK(same.enough());

  // More than the hard limit allows: raised to the hard limit, and reported as not enough.
  if (original.rlim_max < 1u << 20) {
    const auto over = fit_descriptor_limit(original.rlim_max);
    CHECK(over.limit == original.rlim_max);
    CHECK_FALSE(over.enough());
  }
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &original) == 0);
}
