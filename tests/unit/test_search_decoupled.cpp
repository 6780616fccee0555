#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "flame/search/greedy_search.hpp"

using namespace flame;

TEST_CASE("search: on a one-domain grid with unimodal energy greedy is the oracle") {
  const ClockGrid grid{
      {1500e3}, {}, {306e6, 408e6, 510e6, 612e6, 714e6, 816e6, 918e6, 1020e6, 1122e6, 1300e6}, {3199e6}};
  // Energy = (static + dynamic) x latency falls then rises with the GPU clock (race-to-idle, then f^3).
  const flame::search::Predictor p = [](const Clocks& c) {
    const double f = c.gpu_hz / 1e9;
    return Estimate{20 / f + 10, 5 + 20 * f * f * f};
  };
  const double fastest = p({1500e3, 0, 1300e6, 3199e6}).latency_ms;
  for (double k = 1.0; k <= 3.0; k += 0.05) {
    const auto g = flame::search::greedy_search(grid, p, fastest * k),
               o = flame::search::exhaustive_search(grid, p, fastest * k);
    INFO("target x" << k);
    CHECK(g.feasible == o.feasible);
    CHECK(g.clocks == o.clocks);
  }
}

TEST_CASE("search: a faster memory clock that lets the CPU slow down is found") {
  // The host side stalls on DRAM: at the slowest EMC the CPU must stay fast; with the fastest EMC
  // it can drop far. The EMC costs little power, the CPU a lot: the optimum raises EMC, lowers CPU.
  const ClockGrid grid{
      {400e3, 800e3, 1200e3, 1600e3, 2000e3}, {}, {300e6, 600e6, 900e6}, {800e6, 1600e6, 3200e6}};
  const flame::search::Predictor p = [](const Clocks& c) {
    const double host = 2e6 / c.cpu_khz * (1 + 4.0 * 800e6 / c.emc_hz);
    const double device = 3e8 / c.gpu_hz;
    const double power =
        1 + 3 * std::pow(c.cpu_khz / 2000e3, 3) + std::pow(c.gpu_hz / 900e6, 3) + 0.2 * c.emc_hz / 3200e6;
    return Estimate{std::max(host, device), power};
  };
  for (double target : {3.0, 4.0, 5.0, 6.0, 8.0}) {
    INFO("target " << target);
    const auto g = flame::search::greedy_search(grid, p, target),
               o = flame::search::exhaustive_search(grid, p, target);
    REQUIRE(o.feasible);
    CHECK(g.clocks == o.clocks);
  }
}

TEST_CASE("search: never infeasible when anything it evaluated was feasible, for any predictor") {
  const ClockGrid grid{
      {300e3, 700e3, 1100e3, 1500e3}, {1, 2, 4}, {200e6, 500e6, 800e6}, {800e6, 1600e6, 2400e6}};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.5, 2.0);
  for (int trial = 0; trial < 200; ++trial) {
    // Arbitrary, even non-monotone latencies: a fixed random table over the grid.
    std::vector<Estimate> table(grid.size());
    for (auto& e : table) e = {u(rng), u(rng)};
    bool saw_feasible = false;
    double target = 0;
    const flame::search::Predictor p = [&](const Clocks& c) {
      for (size_t i = 0; i < grid.size(); ++i)
        if (grid.at(i) == c) {
          if (table[i].latency_ms <= target) saw_feasible = true;
          return table[i];
        }
      FAIL("the search asked for a point outside the grid");
      return Estimate{};
    };
    for (double t : {0.6, 0.9, 1.2, 1.6}) {
      target = t;
      saw_feasible = false;
      const auto r = flame::search::greedy_search(grid, p, t);
      if (saw_feasible) {
        CHECK(r.feasible);
        CHECK(r.estimate.latency_ms <= t);
      }
      if (!r.feasible) {  // the maximum clocks, at the fastest core count
        Clocks fastest = grid.max();
        for (int cores : grid.cpu_cores) {
          Clocks c = grid.max();
          c.cpu_cores = cores;
          if (p(c).latency_ms < p(fastest).latency_ms) fastest = c;
        }
        CHECK(r.clocks == fastest);
      }
    }
  }
}

TEST_CASE("search: core counts are searched on their own (more cores can be slower)") {
  // The TX2 grids' serial part grows with the online cores: here 1 core is both the fastest and the
  // cheapest host setting, so a search that let 4 cores' answer bound the others would miss it.
  const ClockGrid grid{{400e3, 800e3, 1200e3, 1600e3, 2000e3}, {1, 2, 4}, {300e6, 600e6, 900e6}, {1600e6}};
  const flame::search::Predictor p = [](const Clocks& c) {
    const double host = 2e6 / c.cpu_khz * (1 + 0.25 * c.cpu_cores);
    const double device = 3e8 / c.gpu_hz;
    const double power = 1 + 0.5 * c.cpu_cores * std::pow(c.cpu_khz / 2e6, 3) + std::pow(c.gpu_hz / 9e8, 3);
    return Estimate{std::max(host, device) + 0.5, power};
  };
  const double fastest = p({2000e3, 1, 900e6, 1600e6}).latency_ms;
  for (double k = 1.0; k <= 4.0; k += 0.1) {
    const auto g = flame::search::greedy_search(grid, p, fastest * k),
               o = flame::search::exhaustive_search(grid, p, fastest * k);
    INFO("target x" << k);
    CHECK(g.feasible == o.feasible);
    CHECK(flame::search::comparable_energy(g.clocks, g.estimate, grid) ==
          Approx(flame::search::comparable_energy(o.clocks, o.estimate, grid)).epsilon(0.02));
    if (o.feasible) CHECK(g.clocks.cpu_cores == 1);
  }
}
