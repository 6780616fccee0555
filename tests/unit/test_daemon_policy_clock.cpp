// The policy's time in flamed: the steady clock, or the clients' t_ms under simulation_clock.
#include <catch2/catch.hpp>

#include "policy_clock.hpp"

using flamed::PolicyClock;
using flamed::RequestTime;

TEST_CASE("policy clock: simulated time comes from the requests and never runs backwards", "[daemon]") {
  PolicyClock clock(/*simulated=*/true);
  const RequestTime missing = clock.request(std::nullopt);
  CHECK_FALSE(missing.at);
  CHECK_THAT(missing.error, Catch::Contains("missing \"t_ms\""));
  CHECK(clock.request(50.0).at == 50.0);
  CHECK(clock.request(20.0).at == 50.0);  // an earlier time is taken as the latest seen
  CHECK(clock.now() == 50.0);
  CHECK(clock.request(75.5).at == 75.5);
}

TEST_CASE("policy clock: the steady clock ignores the requests' times", "[daemon]") {
  PolicyClock clock(/*simulated=*/false);
  const RequestTime t = clock.request(1e9);
  REQUIRE(t.at);
  CHECK(t.error.empty());
  CHECK(*t.at >= 0);
  CHECK(*t.at < 1e9);
  CHECK(clock.request(std::nullopt).at);
}
