#include <catch2/catch.hpp>
#include <random>

#include "flame/search/greedy_search.hpp"
#include "flame/search/queued_work.hpp"

using namespace flame;

namespace {
ClockGrid small_grid() {
  return {{300e3, 600e3, 900e3, 1200e3, 1500e3}, {1, 2, 4}, {200e6, 400e6, 600e6, 800e6}, {800e6, 1600e6}};
}
}  // namespace

TEST_CASE("search: matches the oracle where only the GPU matters and power grows with every clock") {
  const auto grid = small_grid();
  // Latency depends on the GPU alone, power grows with every clock: the optimum is the lowest CPU,
  // cores and EMC with the GPU clock that minimises power x latency among feasible ones.
  const flame::search::Predictor p = [](const Clocks& c) {
    return Estimate{8e8 / c.gpu_hz,
                    1 + c.cpu_khz / 1.5e6 + c.cpu_cores * 0.1 + c.gpu_hz / 8e8 + c.emc_hz / 1.6e9};
  };
  for (double target : {1.0, 1.5, 2.0, 3.0, 4.0}) {
    INFO("target " << target);
    const auto g = flame::search::greedy_search(grid, p, target),
               o = flame::search::exhaustive_search(grid, p, target);
    REQUIRE(o.feasible);
    CHECK(g.feasible);
    CHECK(g.clocks == o.clocks);
    CHECK(g.evaluations < o.evaluations);
  }
}

TEST_CASE("search: infeasible targets get the maximum clocks, flagged") {
  const auto grid = small_grid();
  const flame::search::Predictor p = [](const Clocks& c) {
    return Estimate{1e9 / c.gpu_hz + 1e6 / c.cpu_khz, 5};
  };
  const auto g = flame::search::greedy_search(grid, p, 0.01);
  CHECK_FALSE(g.feasible);
  CHECK(g.clocks == grid.max());
  CHECK_THROWS(flame::search::greedy_search(grid, p, 0));
}

TEST_CASE(
    "search: on random monotone models greedy is always feasible when the maximum is, and close to the "
    "oracle") {
  const auto grid = small_grid();
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.1, 1.0);
  double worst = 1, sum = 0;
  int n = 0, bad = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const double a = u(rng), b = u(rng), m = u(rng), s = u(rng), p0 = u(rng), pc = u(rng), pg = u(rng),
                 pe = u(rng);
    // A smooth max of host and device sides (a launch-bound <-> execution-bound transition).
    const flame::search::Predictor p = [=](const Clocks& c) {
      const double host = a * 1e6 / c.cpu_khz * (1 + 0.3 / c.cpu_cores);
      const double dev = b * 1e9 / c.gpu_hz + m * 1.6e9 / c.emc_hz;
      const double lat = std::pow(std::pow(host, 4) + std::pow(dev, 4), 0.25) + s;
      const double pw = p0 + pc * std::pow(c.cpu_khz / 1.5e6, 2) * c.cpu_cores +
                        pg * std::pow(c.gpu_hz / 8e8, 2) + pe * c.emc_hz / 1.6e9;
      return Estimate{lat, pw};
    };
    const double fastest = p(grid.max()).latency_ms;
    for (double k : {1.05, 1.3, 2.0, 4.0}) {
      const auto g = flame::search::greedy_search(grid, p, fastest * k),
                 o = flame::search::exhaustive_search(grid, p, fastest * k);
      REQUIRE(g.feasible);  // the maximum is feasible, so the search must return something feasible
      CHECK(g.estimate.latency_ms <= fastest * k);
      const double ratio = flame::search::comparable_energy(g.clocks, g.estimate, grid) /
                           flame::search::comparable_energy(o.clocks, o.estimate, grid);
      CHECK(ratio >= 1 - 1e-12);
      worst = std::max(worst, ratio);
      sum += ratio, ++n, bad += ratio > 1.03;
    }
  }
  // Measured: worst 1.200, mean 1.0009, 9 of 1200 decisions more than 3 % above the oracle.
  INFO("worst " << worst << " mean " << sum / n << " over 3 %: " << bad << "/" << n);
  CHECK(worst < 1.3);
  CHECK(sum / n < 1.01);
  CHECK(bad < n / 20);
}

TEST_CASE("search: the energy proxy prefers lower clocks when a model has no power part") {
  const auto grid = small_grid();
  const Clocks lo{300e3, 1, 200e6, 800e6};
  CHECK(flame::search::comparable_energy(lo, {1, 0}, grid) <
        flame::search::comparable_energy(grid.max(), {1, 0}, grid));
  CHECK(flame::search::comparable_energy(lo, {1, 3}, grid) == Approx(3));
}

TEST_CASE("search: the work queued ahead drains from the earliest start") {
  CHECK(flame::search::queued_work_ms({}) == 0);
  const std::vector<flame::search::QueuedRequest> one{{40, 10}};
  CHECK(queued_work_ms(one) == Approx(30));
  const std::vector<flame::search::QueuedRequest> two{{40, 30},
                                                      {25, 10}};  // started 30 ms ago, queued 10 ms ago
  CHECK(queued_work_ms(two) == Approx(35));
  const std::vector<flame::search::QueuedRequest> done{{40, 80}};  // over, its end not reported yet
  CHECK(queued_work_ms(done) == 0);
}
