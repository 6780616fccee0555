// Decision cost: greedy search + timeline aggregation for a 300-segment layer-wise model on a
// 29 x 11 x 4 clock grid (AGX Orin JP6 tables), versus the exhaustive oracle.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "flame/model/layerwise_model.hpp"
#include "flame/search/greedy_search.hpp"

namespace {

flame::ClockGrid agx_orin_grid() {
  flame::ClockGrid g;
  for (int k = 0; k < 28; ++k) g.cpu_khz.push_back(115200 + 76800.0 * k);
  g.cpu_khz.push_back(2201600);
  g.gpu_hz = {306e6, 408e6, 510e6, 612e6, 714e6, 816e6, 918e6, 1020e6, 1122e6, 1224e6, 1300.5e6};
  g.emc_hz = {204e6, 665.6e6, 2133e6, 3199e6};
  return g;
}

flame::model::LayerwiseModel model_300() {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.2, 1.0);
  std::vector<flame::model::CpuCurve> cpu;
  std::vector<flame::model::GpuCurve> gpu;
  const std::vector<double> emc = {204e6, 665.6e6, 2133e6, 3199e6};
  for (int i = 0; i < 300; ++i) {
    cpu.push_back({2000 * u(rng), 20000 * u(rng) * 2.2e6});
    flame::model::GpuCurve g;
    g.emc_hz = emc;
    const double mem = 30000 * u(rng);
    g.memory_ns = {mem * 8, mem * 2.5, mem * 1.2, mem};
    g.work_ns_hz = 40000 * u(rng) * 1.3e9;
    gpu.push_back(g);
  }
  return flame::model::LayerwiseModel({}, cpu, gpu, {100000, 1.02, 30000});
}

void BM_GreedyDecision(benchmark::State& state) {
  const auto grid = agx_orin_grid();
  const auto model = model_300();
  const double fastest = model.latency_ns(grid.max()) / 1e6;
  const double target = fastest * (1.1 + 0.1 * static_cast<double>(state.range(0)));
  int evals = 0;
  for (auto _ : state) {
    auto r = flame::search::greedy_search(
        grid,
        [&](const flame::Clocks& c) {
          return flame::Estimate{model.latency_ns(c) / 1e6, 0};
        },
        target);
    evals = r.evaluations;
    benchmark::DoNotOptimize(r);
  }
  state.counters["evaluations"] = evals;
}
BENCHMARK(BM_GreedyDecision)->DenseRange(0, 9, 3)->Unit(benchmark::kMicrosecond);

void BM_ExhaustiveDecision(benchmark::State& state) {
  const auto grid = agx_orin_grid();
  const auto model = model_300();
  const double target = model.latency_ns(grid.max()) / 1e6 * 1.5;
  for (auto _ : state) {
    auto r = flame::search::exhaustive_search(
        grid,
        [&](const flame::Clocks& c) {
          return flame::Estimate{model.latency_ns(c) / 1e6, 0};
        },
        target);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ExhaustiveDecision)->Unit(benchmark::kMillisecond);

void BM_TimelineEvaluation(benchmark::State& state) {
  const auto model = model_300();
  const flame::Clocks c{1420800, 0, 918e6, 2133e6};
  for (auto _ : state) benchmark::DoNotOptimize(model.latency_ns(c));
}
BENCHMARK(BM_TimelineEvaluation)->Unit(benchmark::kMicrosecond);

}  // namespace

namespace {

double thread_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Per-decision latency distribution and energy versus the oracle over deadlines 1.1x..3.0x of the
// fastest latency. Reported as counters: p50/p99 in microseconds, worst and mean energy ratio.
void BM_DecisionQuality(benchmark::State& state) {
  const auto grid = agx_orin_grid();
  const auto model = model_300();
  const flame::search::Predictor predict = [&](const flame::Clocks& c) {
    return flame::Estimate{model.latency_ns(c) / 1e6, 0};
  };
  const double fastest = model.latency_ns(grid.max()) / 1e6;
  std::vector<double> us, ratio;
  int evals_max = 0;
  for (auto _ : state) {
    us.clear();
    ratio.clear();
    for (int rep = 0; rep < 20; ++rep)
      for (int k = 0; k <= 19; ++k) {
        const double target = fastest * (1.1 + 0.1 * k);
        // Thread CPU time: the distribution of the decision's own cost, not of the machine's load.
        const double t0 = thread_us();
        const auto g = flame::search::greedy_search(grid, predict, target);
        us.push_back(thread_us() - t0);
        evals_max = std::max(evals_max, g.evaluations);
        if (rep == 0) {
          const auto o = flame::search::exhaustive_search(grid, predict, target);
          ratio.push_back(flame::search::comparable_energy(g.clocks, g.estimate, grid) /
                          flame::search::comparable_energy(o.clocks, o.estimate, grid));
        }
      }
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[static_cast<size_t>(0.99 * (us.size() - 1))];
  state.counters["evaluations_max"] = evals_max;
  state.counters["energy_vs_oracle_max"] = *std::max_element(ratio.begin(), ratio.end());
  double mean = 0;
  for (double r : ratio) mean += r;
  state.counters["energy_vs_oracle_mean"] = mean / ratio.size();
}
BENCHMARK(BM_DecisionQuality)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
