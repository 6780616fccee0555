#include <catch2/catch.hpp>

#include "arbiter.hpp"

using namespace flamed;
using namespace std::chrono_literals;

namespace {
Hold hold(uint64_t client, int64_t id, flame::Clocks c, SteadyTime exp) {
  Hold h;
  h.client = client;
  h.id = id;
  h.clocks = c;
  h.expires = exp;
  return h;
}
}  // namespace

TEST_CASE("arbiter: per-domain maximum of the active holds") {
  Arbiter a;
  const SteadyTime t0{};
  CHECK_FALSE(a.combined());
  a.add(hold(1, 1, {1000, 2, 5e8, 1e9}, t0 + 10s));
  a.add(hold(2, 1, {500, 4, 9e8, 8e8}, t0 + 5s));
  const auto c = *a.combined();
  CHECK(c.cpu_khz == 1000);
  CHECK(c.cpu_cores == 4);
  CHECK(c.gpu_hz == 9e8);
  CHECK(c.emc_hz == 1e9);
  // Same client and id replaces.
  a.add(hold(1, 1, {200, 1, 1e8, 1e8}, t0 + 10s));
  CHECK(a.holds().size() == 2);
  CHECK(a.combined()->cpu_khz == 500);
  CHECK(a.next_expiry() == t0 + 5s);
  CHECK(a.expire(t0 + 6s).size() == 1);
  CHECK(a.combined()->gpu_hz == 1e8);
  CHECK(a.remove_client(1).size() == 1);
  CHECK_FALSE(a.combined());
  CHECK_FALSE(a.remove(1, 1));
}
