#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "flame/grid/latency_model.hpp"
#include "flame/grid/power_model.hpp"
#include "flame/grid/sampling_plan.hpp"

using namespace flame;
using namespace flame::grid;

namespace {

// A TX2-like grid: 8 CPU clocks x 3 core options x 4 GPU x 4 EMC.
std::vector<Clocks> tx2_like_grid() {
  std::vector<Clocks> g;
  for (int cores : {1, 2, 4})
    for (double cpu : {345600., 652800., 960000., 1267200., 1420800., 1574400., 1881600., 2035200.})
      for (double gpu : {140.25e6, 497.25e6, 943.5e6, 1300.5e6})
        for (double emc : {1062.4e6, 1331.2e6, 1600e6, 1866e6}) g.push_back({cpu, cores, gpu, emc});
  return g;
}

ClockReference reference() {
  return {2035200, 1300.5e6, 1866e6, {1, 2, 4}};
}

LatencyParams truth() {
  LatencyParams p;
  p.launch = 40;
  p.memory_stall = 0.1;
  p.gpu = 50;
  p.memory = 30;
  p.roofline = 3;
  p.serial = 10;
  p.serial_fixed = 5;
  p.coupling = 2.5;
  p.launch_cores = {2.2, 1.4, 1};
  p.serial_cores = {0.9, 1.0, 1};
  return p;
}

}  // namespace

TEST_CASE("grid fit: p-norm coupling spans sum and max") {
  CHECK(pnorm(3, 4, 1) == Approx(7));
  CHECK(pnorm(3, 4, 2) == Approx(5));
  CHECK(pnorm(3, 4, 100) == Approx(4));
  CHECK(pnorm(0, 0, 3) == 0);
}

TEST_CASE("grid fit: latency never increases with any clock") {
  const CoupledLatency m(reference(), truth());
  const auto g = tx2_like_grid();
  for (const auto& c : g) {
    for (int d = 0; d < 3; ++d) {
      Clocks faster = c;
      (d == 0 ? faster.cpu_khz : d == 1 ? faster.gpu_hz : faster.emc_hz) *= 1.2;
      CHECK(m.latency_ms(faster) <= m.latency_ms(c) * (1 + 1e-12));
    }
  }
}

TEST_CASE("grid fit: recovers known coefficients from a sparse noisy sample") {
  const CoupledLatency true_model(reference(), truth());
  const auto grid = tx2_like_grid();
  const auto pick = plan_samples(grid, 64, 3);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.01);  // 1 % measurement noise
  std::vector<Clocks> cs;
  std::vector<double> ts;
  for (size_t i : pick) {
    cs.push_back(grid[i]);
    ts.push_back(true_model.latency_ms(grid[i]) * std::exp(noise(rng)));
  }
  LatencyFitOptions o;
  o.max_parameters = 20;
  const LatencyFit fit = fit_latency(cs, ts, reference(), o);
  // Every combination of the grid, profiled or not, within a few per cent of the truth.
  double worst = 0, sum = 0;
  for (const auto& c : grid) {
    const double e = std::abs(fit.model.latency_ms(c) / true_model.latency_ms(c) - 1);
    worst = std::max(worst, e);
    sum += e;
  }
  INFO("mean " << sum / grid.size() << " worst " << worst);
  CHECK(sum / grid.size() < 0.01);
  CHECK(worst < 0.05);
  // The well-determined coefficients themselves.
  const auto& p = fit.model.params();
  CHECK(p.gpu == Approx(50).epsilon(0.1));
  CHECK(p.launch * p.launch_cores[0] == Approx(40 * 2.2).epsilon(0.1));
  CHECK(p.launch_cores[0] / p.launch_cores[1] == Approx(2.2 / 1.4).epsilon(0.1));
  CHECK(fit.residual_sigma < 0.03);
}

TEST_CASE("grid fit: one varying domain is interpolated from three clocks") {
  // An LLM decode sweep: only the GPU clock varies; time saturates at a memory floor.
  const ClockReference ref{1036e3, 1300e6, 3199e6, {}};
  auto tpot = [](double gpu_mhz) { return pnorm(28000.0 / gpu_mhz, 38.5, 3.6); };
  std::vector<Clocks> cs;
  std::vector<double> ts;
  for (double g : {306., 816., 1300.}) cs.push_back({1036e3, 0, g * 1e6, 3199e6}), ts.push_back(tpot(g));
  const LatencyFit fit = fit_latency(cs, ts, ref);
  CHECK(fit.free_parameters.size() == 3);
  for (double g : {408., 510., 612., 714., 918., 1020., 1122., 1224.})
    CHECK(fit.model.latency_ms({1036e3, 0, g * 1e6, 3199e6}) == Approx(tpot(g)).epsilon(0.01));
}

TEST_CASE("grid fit: bad input is refused") {
  CHECK_THROWS_AS(fit_latency({}, {}, reference()), std::invalid_argument);
  CHECK_THROWS_AS(fit_latency({{2035200, 4, 1300.5e6, 1866e6}}, {-1.0}, reference()), std::invalid_argument);
  CHECK_THROWS_AS(fit_latency({{2035200, 4, 1300.5e6, 1866e6}}, {1.0, 2.0}, reference()),
                  std::invalid_argument);
}

TEST_CASE("grid fit: power recovers a known log-linear law with the latency as a feature") {
  const auto grid = tx2_like_grid();
  const CoupledLatency lat(reference(), truth());
  auto power = [&](const Clocks& c) {
    const double xc = c.cpu_khz / 2035200, xg = c.gpu_hz / 1300.5e6, xe = c.emc_hz / 1866e6;
    const double core = c.cpu_cores == 1 ? -0.4 : c.cpu_cores == 2 ? -0.2 : 0;
    return std::exp(0.5 + 1.2 * xc + 0.6 * xg - 0.3 * xg * xg + 0.2 * xe + core);
  };
  const auto pick = plan_samples(grid, 48, 5);
  std::vector<Clocks> cs;
  std::vector<double> ps, ls;
  for (size_t i : pick)
    cs.push_back(grid[i]), ps.push_back(power(grid[i])), ls.push_back(lat.latency_ms(grid[i]));
  const PowerFit fit = fit_power(cs, ps, ls, reference());
  double worst = 0;
  for (const auto& c : grid)
    worst = std::max(worst, std::abs(fit.model.power_w(c, lat.latency_ms(c)) / power(c) - 1));
  CHECK(worst < 0.02);
  CHECK(PowerFeature::parse("cores=2*cpu").kind == PowerFeature::CoresCpu);
  CHECK(PowerFeature::parse("cores=2*cpu").cores == 2);
  CHECK(PowerFeature::parse("cpu*log_latency").name() == "cpu*log_latency");
  CHECK_THROWS_AS(PowerFeature::parse("volts"), std::invalid_argument);
}
