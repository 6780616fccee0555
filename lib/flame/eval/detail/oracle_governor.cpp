#include "flame/eval/detail/oracle_governor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace flame::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A thermal throttle engaged now caps what any request gets (neither oracle foresees a trip during
// the inference).
Target in_effect(Target c, const Decision& d) {
  if (d.thermal_cap) {
    c.cpu_khz = std::min(c.cpu_khz, d.thermal_cap->cpu_khz);
    c.gpu_hz = std::min(c.gpu_hz, d.thermal_cap->gpu_hz);
  }
  return c;
}

// Every operating point the board offers at its core count, with its clocks in effect.
template <typename F>
void each_point(const BoardLevels& b, const Decision& d, const sim::SimOptions& sim,
                const sim::ModelTruth& truth, F&& f) {
  for (auto cpu : b.cpu_khz)
    for (auto gpu : b.gpu_hz)
      for (auto emc : b.emc_hz) {
        const Target c{b.cores, cpu, gpu, emc};
        const Target ce = in_effect(c, d);
        // Under a power cap, only points the cap leaves alone (no throttling to account for).
        if (sim.power_cap_w && truth.mean(ce).power_w > *sim.power_cap_w) continue;
        f(c, ce);
      }
}

// The standard-normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("oracle: the probability must be in (0, 1)");
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normal_quantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

InferenceCost inference_cost(const sim::ModelTruth& truth, const sim::SimOptions& sim, const Target& prev,
                             const Target& c, const sim::TruthDraw& draw) {
  struct Switch {
    double at;
    int domain;
  };
  std::vector<Switch> sw;
  if (c.cpu_khz != prev.cpu_khz) sw.push_back({sim.cpu_delay_ms, 0});
  if (c.gpu_hz != prev.gpu_hz) sw.push_back({sim.gpu_delay_ms, 1});
  if (c.emc_hz != prev.emc_hz) sw.push_back({sim.emc_delay_ms, 2});
  std::sort(sw.begin(), sw.end(), [](const Switch& a, const Switch& b) { return a.at < b.at; });
  Target now = prev;
  now.cores = c.cores;
  double time = 0, progress = 0, energy_mj = 0;
  std::size_t k = 0;
  for (;;) {
    while (k < sw.size() && sw[k].at <= time) {
      if (sw[k].domain == 0) now.cpu_khz = c.cpu_khz;
      if (sw[k].domain == 1) now.gpu_hz = c.gpu_hz;
      if (sw[k].domain == 2) now.emc_hz = c.emc_hz;
      ++k;
    }
    const sim::TruthSample p = truth.sample(now, draw);
    const double until = k < sw.size() ? sw[k].at : kInf;
    const double remaining = (1 - progress) * p.latency_ms;
    if (time + remaining <= until) {
      energy_mj += p.power_w * remaining;
      time += remaining;
      break;
    }
    progress += (until - time) / p.latency_ms;
    energy_mj += p.power_w * (until - time);
    time = until;
  }
  return {time, energy_mj / 1000.0};
}

OracleGovernor::OracleGovernor(const EvalBoard& board, const sim::SimOptions& sim)
    : board_def_(board), sim_(sim) {}

void OracleGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  rng_ = sim::Rng(sim_.seed);  // in lockstep with the simulator: two normals per inference
  prev_ = board.max();         // a fresh tree runs at its ceilings
}

Target OracleGovernor::decide(const Decision& d) {
  const sim::ModelTruth& truth = board_def_.truth(board_def_.truth_name(d));
  // The simulator's draws for this inference (TableSimulator::run draws latency, then power).
  sim::TruthDraw draw;
  draw.z_latency = rng_.normal();
  draw.z_power = rng_.normal();
  draw.scale = sim_.noise_scale;
  const Target from = in_effect(prev_, d);
  Target best{}, fastest = board_.min();
  double best_e = kInf, fastest_l = kInf;
  each_point(board_, d, sim_, truth, [&](const Target& c, const Target& ce) {
    const InferenceCost k = inference_cost(truth, sim_, from, ce, draw);
    if (k.latency_ms < fastest_l) fastest_l = k.latency_ms, fastest = c;
    if (k.latency_ms <= d.budget_ms && k.energy_j < best_e) best_e = k.energy_j, best = c;
  });
  prev_ = best_e < kInf ? best : fastest;
  return prev_;
}

class ExpectationOracle::Memo final : public sim::ModelTruth {
 public:
  explicit Memo(const sim::ModelTruth& t) : t_(t) {}
  const std::string& name() const override { return t_.name(); }
  sim::TruthSample sample(const sim::SimClocks& c, const sim::TruthDraw& d) const override {
    const auto key = std::make_tuple(c.cores, c.cpu_khz, c.gpu_hz, c.emc_hz, d.z_latency, d.z_power, d.scale);
    if (const auto it = m_.find(key); it != m_.end()) return it->second;
    return m_.emplace(key, t_.sample(c, d)).first->second;
  }

 private:
  const sim::ModelTruth& t_;
  mutable std::map<std::tuple<int, std::uint64_t, std::uint64_t, std::uint64_t, double, double, double>,
                   sim::TruthSample>
      m_;
};

ExpectationOracle::ExpectationOracle(const EvalBoard& board, const sim::SimOptions& sim, double p_meet)
    : board_def_(board), sim_(sim), z_meet_(normal_quantile(p_meet)) {}

void ExpectationOracle::reset(const BoardLevels& board) {
  Governor::reset(board);
  prev_ = board.max();
}

Target ExpectationOracle::decide(const Decision& d) {
  const std::string name = board_def_.truth_name(d);
  auto& memo = memo_[name];
  if (!memo) memo = std::make_shared<Memo>(board_def_.truth(name));
  const sim::ModelTruth& truth = *memo;
  // Latency grows with the latency draw (host work or a log-normal factor), so the p_meet quantile
  // of the latency is the latency at the draw's p_meet quantile. Expected energy: 5-point
  // Gauss-Hermite quadrature over the latency draw (probabilists' weights); the power draw is
  // mean-preserving and independent of it, so its median stands for it.
  static constexpr std::array<double, 5> kZ = {-2.8569700138728056, -1.3556261799742659, 0.0,
                                               1.3556261799742659, 2.8569700138728056};
  static constexpr std::array<double, 5> kW = {0.011257411327720691, 0.22207592200561266, 0.5333333333333333,
                                               0.22207592200561266, 0.011257411327720691};
  sim::TruthDraw quantile;
  quantile.z_latency = z_meet_;
  quantile.scale = sim_.noise_scale;
  const Target from = in_effect(prev_, d);
  Target best{}, fastest = board_.min();
  double best_e = kInf, fastest_l = kInf;
  each_point(board_, d, sim_, truth, [&](const Target& c, const Target& ce) {
    const double l = inference_cost(truth, sim_, from, ce, quantile).latency_ms;
    if (l < fastest_l) fastest_l = l, fastest = c;
    if (l > d.budget_ms) return;
    double e = 0;
    for (std::size_t i = 0; i < kZ.size(); ++i) {
      if (sim_.noise_scale == 0 && i != 2) continue;
      const sim::TruthDraw draw{kZ[i], 0.0, sim_.noise_scale};
      e += (sim_.noise_scale == 0 ? 1.0 : kW[i]) * inference_cost(truth, sim_, from, ce, draw).energy_j;
    }
    if (e < best_e) best_e = e, best = c;
  });
  prev_ = best_e < kInf ? best : fastest;
  return prev_;
}

}  // namespace flame::eval
