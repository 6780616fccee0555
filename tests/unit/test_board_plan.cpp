// Pure logic: clamping to tables/ceilings/limits and the order of min/max and EMC writes.
#include <catch2/catch.hpp>

#include "flame/board/detail/clamp.hpp"
#include "flame/board/detail/write_plan.hpp"
#include "flame/board/placement.hpp"

using namespace flame::board;

namespace {
const std::vector<std::uint64_t> kTable = {115200, 192000, 268800, 345600, 1190400, 1267200, 1907200};
}

TEST_CASE("board clamp: requests round up to the next allowed entry", "[board][clamp]") {
  auto b = make_bounds(115200, 1907200, kTable, {});
  CHECK(clamp_frequency(192000, b) == 192000u);     // on the table
  CHECK(clamp_frequency(200000, b) == 268800u);     // off-table: next entry up
  CHECK(clamp_frequency(1, b) == 115200u);          // below the floor
  CHECK(clamp_frequency(99999999, b) == 1907200u);  // above the ceiling
  CHECK(highest_frequency(b) == 1907200u);
}

TEST_CASE("board clamp: caps and limits lower the ceiling; off-table caps snap down", "[board][clamp]") {
  // nvpmodel writes off-table values such as 1200000 kHz: the highest entry below it is 1190400.
  auto b = make_bounds(115200, 1907200, kTable, {std::optional<std::uint64_t>(1200000), std::nullopt});
  CHECK(b.ceiling == 1200000);
  CHECK(highest_frequency(b) == 1190400u);
  CHECK(clamp_frequency(1267200, b) == 1190400u);
  CHECK(clamp_frequency(400000, b) == 1190400u);  // 345600 < 400000; next up 1190400 <= cap
  // 0 means "no cap" (emc_iso_cap), nullopt is absent.
  CHECK(make_bounds(0, 100, {}, {std::optional<std::uint64_t>(0)}).ceiling == 100);
  // Configured limits.
  auto l = make_bounds(115200, 1907200, kTable, {}, Limit{268800, 1267200});
  CHECK(clamp_frequency(115200, l) == 268800u);
  CHECK(clamp_frequency(1907200, l) == 1267200u);
  // A floor above the ceiling leaves nothing.
  auto none = make_bounds(115200, 1907200, kTable, {std::optional<std::uint64_t>(200000)}, Limit{300000, {}});
  CHECK_FALSE(clamp_frequency(300000, none));
  CHECK_FALSE(highest_frequency(none));
  // Caps below the whole table leave nothing either.
  auto below = make_bounds(115200, 1907200, kTable, {std::optional<std::uint64_t>(100000)});
  CHECK_FALSE(clamp_frequency(115200, below));
}

TEST_CASE("board clamp: without a table any value in range is allowed", "[board][clamp]") {
  auto b = make_bounds(204000000, 3199000000, {}, {std::optional<std::uint64_t>(2133000000)});
  CHECK(clamp_frequency(1000000000, b) == 1000000000u);
  CHECK(clamp_frequency(3199000000, b) == 2133000000u);
  CHECK(highest_frequency(b) == 2133000000u);
  CHECK(clamp_value(100, b) == 204000000u);
  CHECK(clamp_value(3199000000, b) == 2133000000u);
}

TEST_CASE("board clamp: where a request lies names the allowed values around it", "[board][clamp]") {
  using Kind = Placement::Kind;
  // Capped at 1200000 and limited from 192000: allowed are 192000 .. 1190400.
  auto b = make_bounds(115200, 1907200, kTable, {std::optional<std::uint64_t>(1200000)}, Limit{192000, {}});
  auto p = place_request(345600, b);
  CHECK(p.kind == Kind::Exact);
  p = place_request(400000, b);
  CHECK(p.kind == Kind::Between);
  CHECK(p.below == 345600u);
  CHECK(p.above == 1190400u);
  CHECK(clamp_frequency(400000, b) == *p.above);  // what the writer sets
  p = place_request(115200, b);                   // on the table, but under the limit
  CHECK(p.kind == Kind::BelowRange);
  CHECK_FALSE(p.below);
  CHECK(p.above == 192000u);
  p = place_request(1267200, b);  // on the table, but over the cap
  CHECK(p.kind == Kind::AboveRange);
  CHECK(p.below == 1190400u);
  CHECK_FALSE(p.above);
  CHECK(place_request(1000, make_bounds(115200, 1907200, kTable, {std::optional<std::uint64_t>(100000)}))
            .kind == Kind::NoneAllowed);
  // Without a table every value in range is exact.
  auto range = make_bounds(204000000, 3199000000, {}, {});
  CHECK(place_request(1000000001, range).kind == Kind::Exact);
  CHECK(place_request(100, range).kind == Kind::BelowRange);
  CHECK(place_request(100, range).above == 204000000u);
}

TEST_CASE("board plan: min/max order keeps min <= max at every step", "[board][plan]") {
  struct Row {
    std::uint64_t cur_lo, cur_hi, lo, hi;
    std::vector<PlannedWrite> want;
  };
  const std::vector<Row> rows = {
      // raise above the current max: max first
      {100, 200, 300, 300, {{"max", "300"}, {"min", "300"}}},
      // lower below the current min: min first
      {300, 400, 100, 100, {{"min", "100"}, {"max", "100"}}},
      // overlapping move down
      {100, 400, 200, 200, {{"min", "200"}, {"max", "200"}}},
      // lo == cur_hi is not a raise: min first is already valid
      {100, 300, 300, 300, {{"min", "300"}}},
      // only max changes
      {100, 400, 100, 300, {{"max", "300"}}},
      // only min changes
      {100, 400, 200, 400, {{"min", "200"}}},
      // unchanged
      {200, 200, 200, 200, {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.cur_lo, r.cur_hi, r.lo, r.hi);
    auto plan = plan_range("min", "max", r.cur_lo, r.cur_hi, r.lo, r.hi);
    CHECK(plan == r.want);
    // Replay: every intermediate state satisfies min <= max (the 4.9 rule).
    std::uint64_t lo = r.cur_lo, hi = r.cur_hi;
    for (const auto& w : plan) {
      const auto v = std::stoull(w.value);
      if (w.path == "min") {
        REQUIRE(v <= hi);
        lo = v;
      } else {
        REQUIRE(v >= lo);
        hi = v;
      }
    }
    CHECK(lo == r.lo);
    CHECK(hi == r.hi);
  }
  // force rewrites values already in place (a stale QoS request can hide behind them).
  CHECK(plan_range("min", "max", 200, 200, 200, 200, true).size() == 2);
}

TEST_CASE("board plan: EMC locks before writing the rate", "[board][plan]") {
  CHECK(plan_emc_rate("lock", "rate", false, 3199, 2133) ==
        std::vector<PlannedWrite>{{"lock", "1"}, {"rate", "2133"}});
  CHECK(plan_emc_rate("lock", "rate", false, 2133, 2133) ==
        std::vector<PlannedWrite>{{"lock", "1"}, {"rate", "2133"}});  // the unlocked rate is DVFS's
  CHECK(plan_emc_rate("lock", "rate", true, 3199, 2133) == std::vector<PlannedWrite>{{"rate", "2133"}});
  CHECK(plan_emc_rate("lock", "rate", true, 2133, 2133).empty());
}

TEST_CASE("board plan: EMC restore writes the rate while locked, then the saved lock", "[board][plan]") {
  // Was unlocked: put the rate back while still locked, then hand it to DVFS.
  CHECK(plan_emc_restore("lock", "rate", true, 665, false, 3199) ==
        std::vector<PlannedWrite>{{"rate", "3199"}, {"lock", "0"}});
  CHECK(plan_emc_restore("lock", "rate", true, 3199, false, 3199) ==
        std::vector<PlannedWrite>{{"lock", "0"}});
  CHECK(plan_emc_restore("lock", "rate", false, 665, false, 3199).empty());
  // Was locked at a rate: lock (if needed), then the rate.
  CHECK(plan_emc_restore("lock", "rate", false, 665, true, 2133) ==
        std::vector<PlannedWrite>{{"lock", "1"}, {"rate", "2133"}});
  CHECK(plan_emc_restore("lock", "rate", true, 665, true, 2133) ==
        std::vector<PlannedWrite>{{"rate", "2133"}});
}
