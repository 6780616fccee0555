#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "flame/grid/sampling_plan.hpp"

using namespace flame;
using namespace flame::grid;

namespace {
std::vector<Clocks> full_grid() {
  std::vector<Clocks> g;
  for (int cores : {1, 2, 3, 4})
    for (int c = 0; c < 12; ++c)
      for (double gpu : {140.25e6, 497.25e6, 943.5e6, 1300.5e6})
        for (double emc : {1062.4e6, 1331.2e6, 1600e6, 1866e6})
          g.push_back({345600. + 153600. * c, cores, gpu, emc});
  return g;
}
}  // namespace

TEST_CASE("sampling plan: deterministic for a seed, different across seeds") {
  const auto g = full_grid();
  CHECK(plan_samples(g, 32, 1) == plan_samples(g, 32, 1));
  CHECK(plan_samples(g, 32, 1) != plan_samples(g, 32, 2));
}

TEST_CASE("sampling plan: covers every domain's range, includes the maximum, balances cores") {
  const auto g = full_grid();
  const ClockLevels L = ClockLevels::of(g);
  for (size_t budget : {9, 16, 32, 64, 96}) {
    for (uint64_t seed : {1, 2, 3}) {
      INFO("budget " << budget << " seed " << seed);
      const auto pick = plan_samples(g, budget, seed);
      REQUIRE(pick.size() == budget);
      CHECK(std::set<size_t>(pick.begin(), pick.end()).size() == budget);
      std::vector<Clocks> chosen;
      for (size_t i : pick) chosen.push_back(g[i]);
      const ClockLevels C = ClockLevels::of(chosen);
      CHECK(C.cpu_khz.front() == L.cpu_khz.front());
      CHECK(C.cpu_khz.back() == L.cpu_khz.back());
      CHECK(C.gpu_hz.front() == L.gpu_hz.front());
      CHECK(C.gpu_hz.back() == L.gpu_hz.back());
      CHECK(C.emc_hz.front() == L.emc_hz.front());
      CHECK(C.emc_hz.back() == L.emc_hz.back());
      CHECK(C.cores == L.cores);
      CHECK(std::find(chosen.begin(), chosen.end(), L.max()) != chosen.end());
      for (int k : L.cores) {
        const auto n =
            std::count_if(chosen.begin(), chosen.end(), [&](const Clocks& c) { return c.cpu_cores == k; });
        CHECK(n >= static_cast<long>(budget / 4));
        CHECK(n <= static_cast<long>(budget / 4 + 1));
      }
    }
  }
}

TEST_CASE("sampling plan: refuses budgets too small for a well-posed fit, takes everything when asked") {
  const auto g = full_grid();
  CHECK(min_plan_budget(ClockLevels::of(g)) == 8);
  CHECK_THROWS_WITH(
      plan_samples(g, 7, 1),
      "sampling plan: a budget of 7 is too small for a well-posed fit on this grid (4 varying clock "
      "domains, 4 core options): profile at least 8 combinations");
  CHECK(plan_samples(g, 10000, 1).size() == g.size());
  // A GPU sweep: three clocks are enough, both ends and the middle.
  std::vector<Clocks> sweep;
  for (double mhz : {306., 408., 510., 612., 714., 816., 918., 1020., 1122., 1224., 1300.})
    sweep.push_back({1036e3, 0, mhz * 1e6, 3199e6});
  const auto pick = plan_samples(sweep, 3, 1);
  CHECK(pick == std::vector<size_t>{0, 5, 10});
  CHECK_THROWS_AS(plan_samples(sweep, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(plan_samples({}, 3, 1), std::invalid_argument);
}
