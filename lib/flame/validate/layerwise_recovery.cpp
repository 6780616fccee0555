#include "flame/validate/layerwise_recovery.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "flame/fit/median.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/model/layerwise_plan.hpp"

namespace flame::validate {
namespace {

// --- The synthetic board (ground truth). Independent of segment_curves/timeline on purpose. ---

// Share of a segment's device time that is compute (vs memory traffic), from arithmetic
// intensity against a ridge point of 20 FLOP/byte; feature-less segments count as memory-bound.
double compute_share(const model::Segment& s) {
  if (!s.features) return 0.3;
  const double bytes = s.features->bytes_in + s.features->bytes_out + s.features->param_bytes;
  const double flops = s.features->macs > 0 ? 2 * s.features->macs : s.features->flops;
  if (bytes <= 0 || flops <= 0) return 0.3;
  const double ai = flops / bytes;
  return ai / (ai + 20.0);
}

struct TruthTimes {
  std::vector<double> host, device;
  double memory_bound = 0;  // device time spent in the memory part where it dominates
};

TruthTimes truth_times(const model::CouplingConfig& config, const ClockGrid& grid, const Clocks& c,
                       const RecoveryOptions& o) {
  const double cpu_max = grid.cpu_khz.back(), gpu_max = grid.gpu_hz.back(), emc_max = grid.emc_hz.back();
  TruthTimes t;
  for (const model::Segment& s : config.profile.segments) {
    // Host: 15 % of dispatch time does not scale with the core clock (uncore, driver waits).
    t.host.push_back(s.cpu_ns * o.host_factor * (0.15 + 0.85 * cpu_max / c.cpu_khz));
    // Device: compute scales with the GPU clock; memory time follows sustained bandwidth, which
    // grows sub-linearly with the EMC clock. Compute and memory overlap partly (roofline-like).
    const double phi = compute_share(s);
    const double base = s.gpu_ns * o.device_factor;
    const double compute = base * phi * gpu_max / c.gpu_hz;
    const double memory = base * (1 - phi) * std::pow(emc_max / c.emc_hz, 0.6);
    t.device.push_back(std::max(compute, memory) + 0.3 * std::min(compute, memory));
    if (memory > compute) t.memory_bound += t.device.back();
  }
  return t;
}

constexpr double kTruthSyncNs = 20'000;

double truth_e2e(const TruthTimes& t, bool* host_bound) {
  double host = 0, device = 0;
  bool waited = false;  // did the last device work wait for its launch?
  for (size_t i = 0; i < t.host.size(); ++i) {
    host += t.host[i];
    if (t.device[i] > 0) {
      waited = host >= device;
      device = std::max(device, host) + t.device[i];
    }
  }
  if (host_bound) *host_bound = waited;
  return std::max(host, device) + kTruthSyncNs;
}

// Power magnitudes of an Orin Nano Super module in its 25 W mode, assumptions (docs/layerwise-model.md).
struct TruthPower {
  double static_w = 3.0;     // module idle at VDD_IN
  double cpu_w = 2.0;        // the dispatching core(s) busy at the top clock
  double gpu_w = 8.0;        // the GPU busy at the top clock
  double gpu_clock_w = 0.5;  // the GPU clock tree while clocked, at the top clock
  double emc_w = 1.5;        // DRAM at the top EMC clock, fully busy
  double emc_idle_share = 0.3;
  double v_min_ratio = 0.7;  // voltage at the lowest clock over the voltage at the top clock
};

// Voltage over its top value: linear in the clock between the lowest and the top level (DVFS).
double volt(double f, const std::vector<double>& levels, double v_min) {
  const double lo = levels.front(), hi = levels.back();
  return hi > lo ? v_min + (1 - v_min) * std::clamp((f - lo) / (hi - lo), 0.0, 1.0) : 1.0;
}

}  // namespace

double synthetic_power_w(const model::CouplingConfig& config, const ClockGrid& grid, const Clocks& c,
                         const RecoveryOptions& o) {
  const TruthTimes t = truth_times(config, grid, c, o);
  const double e2e = truth_e2e(t, nullptr);
  double host = 0, device = 0;
  for (size_t i = 0; i < t.host.size(); ++i) host += t.host[i], device += t.device[i];
  const TruthPower p;
  const double xc = c.cpu_khz / grid.cpu_khz.back(), xg = c.gpu_hz / grid.gpu_hz.back(),
               xe = c.emc_hz / grid.emc_hz.back();
  const double vc = volt(c.cpu_khz, grid.cpu_khz, p.v_min_ratio),
               vg = volt(c.gpu_hz, grid.gpu_hz, p.v_min_ratio);
  const double host_busy = std::min(1.0, host / e2e), gpu_busy = std::min(1.0, device / e2e),
               mem_busy = std::min(1.0, t.memory_bound / e2e);
  return p.static_w + p.cpu_w * xc * vc * vc * (0.15 + 0.85 * host_busy) + p.gpu_w * xg * vg * vg * gpu_busy +
         p.gpu_clock_w * xg * vg * vg + p.emc_w * xe * (p.emc_idle_share + (1 - p.emc_idle_share) * mem_busy);
}

double synthetic_truth_ns(const model::CouplingConfig& config, const ClockGrid& grid, const Clocks& clocks,
                          const RecoveryOptions& options, bool* host_bound) {
  return truth_e2e(truth_times(config, grid, clocks, options), host_bound);
}

std::vector<model::ProfiledPoint> synthetic_profiles(const model::CouplingConfig& config,
                                                     const ClockGrid& grid, const RecoveryOptions& o) {
  grid.validate();
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  auto noisy = [&](double v) { return v * std::max(0.0, 1.0 + o.noise * gauss(rng)); };
  // Power noise from its own stream, so the latency samples do not depend on it.
  std::mt19937_64 power_rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
  std::normal_distribution<double> power_gauss(0.0, 1.0);

  // Profile the plan: noisy per-segment spans and a noisy end-to-end time, as a profiler would.
  const auto plan = model::plan_layerwise(grid, o.budget, o.seed);
  std::vector<model::ProfiledPoint> points;
  for (const Clocks& c : plan) {
    const TruthTimes t = truth_times(config, grid, c, o);
    model::ProfiledPoint p;
    p.clocks = c;
    for (size_t i = 0; i < t.host.size(); ++i) {
      p.run.cpu_ns.push_back(noisy(t.host[i]));
      p.run.gpu_ns.push_back(noisy(t.device[i]));
    }
    p.run.e2e_median_ns = truth_e2e(t, nullptr) * (1.0 + 0.3 * o.noise * gauss(rng));
    double host = 0;
    for (double h : p.run.cpu_ns) host += h;
    p.run.sync_ns = std::max(0.0, p.run.e2e_median_ns - host);
    const double z = power_gauss(power_rng);
    p.power_w = synthetic_power_w(config, grid, c, o) *
                std::exp(o.power_noise * z - o.power_noise * o.power_noise / 2);  // mean-preserving
    points.push_back(std::move(p));
  }
  return points;
}

RecoveryReport recover_layerwise(const model::CouplingConfig& config, const ClockGrid& grid,
                                 const RecoveryOptions& o) {
  grid.validate();
  RecoveryReport rep;
  rep.tag = config.tag;
  const std::vector<model::ProfiledPoint> points = synthetic_profiles(config, grid, o);
  rep.profiled = points.size();
  const model::LayerwiseModel model = fit_layerwise(points, grid.emc_hz);

  // The max-clock profile (always in the plan) for the 1/f baseline.
  const model::ProfiledPoint& at_max = points.front();
  const Clocks top = at_max.clocks;
  double max_host = 0, max_dev = 0;
  for (size_t i = 0; i < at_max.run.cpu_ns.size(); ++i)
    max_host += at_max.run.cpu_ns[i], max_dev += at_max.run.gpu_ns[i];
  const double max_off = at_max.run.e2e_median_ns - std::max(max_host, max_dev);

  std::vector<double> ours, sum, mx, scaled, power;
  int host_bound_points = 0;
  const size_t combos = grid.cpu_khz.size() * grid.gpu_hz.size() * grid.emc_hz.size();
  for (size_t k = 0; k < combos; ++k) {
    const Clocks c = grid.at(k);
    bool host_bound = false;
    const double truth = synthetic_truth_ns(config, grid, c, o, &host_bound);
    host_bound_points += host_bound;
    ours.push_back(fit::ape_pct(model.latency_ns(c), truth));
    power.push_back(fit::ape_pct(model.estimate(c).power_w, synthetic_power_w(config, grid, c, o)));
    double h = 0, d = 0, s = 0;
    for (size_t i = 0; i < model.segments(); ++i) {
      const double hi = model.cpu_curves()[i].at(c.cpu_khz, c.emc_hz);
      const double di = model.gpu_curves()[i].at(c.gpu_hz, c.emc_hz) * model.costs().gpu_scale;
      h += hi, d += di, s += hi + di;
    }
    sum.push_back(fit::ape_pct(s + model.costs().sync_latency_ns, truth));
    mx.push_back(
        fit::ape_pct(std::max(h + model.costs().cpu_offset_ns, d) + model.costs().sync_latency_ns, truth));
    const double sh = max_host * top.cpu_khz / c.cpu_khz, sd = max_dev * top.gpu_hz / c.gpu_hz;
    scaled.push_back(fit::ape_pct(std::max(sh, sd) + max_off, truth));
  }
  rep.grid_points = combos;
  rep.timeline = fit::summarize_ape(ours);
  rep.sum_model = fit::summarize_ape(sum);
  rep.max_model = fit::summarize_ape(mx);
  rep.scaled_max = fit::summarize_ape(scaled);
  rep.power = fit::summarize_ape(power);
  rep.power_median_ape_pct = fit::median(power);
  rep.launch_bound_share = static_cast<double>(host_bound_points) / static_cast<double>(combos);
  return rep;
}

}  // namespace flame::validate
