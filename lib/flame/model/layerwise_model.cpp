#include "flame/model/layerwise_model.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "flame/fit/median.hpp"

namespace flame::model {
LayerwiseModel::LayerwiseModel(std::vector<std::string> names, std::vector<CpuCurve> cpu,
                               std::vector<GpuCurve> gpu, TimelineCosts costs,
                               std::optional<LayerPower> power)
    : names_(std::move(names)),
      cpu_(std::move(cpu)),
      gpu_(std::move(gpu)),
      costs_(costs),
      power_(std::move(power)) {
  if (cpu_.size() != gpu_.size())
    throw std::invalid_argument("layer-wise model: host and device curve counts differ");
  if (!names_.empty() && names_.size() != cpu_.size())
    throw std::invalid_argument("layer-wise model: segment name count differs from curve count");
  for (size_t i = 0; i < gpu_.size(); ++i)
    if (gpu_[i].emc_hz != gpu_.front().emc_hz || gpu_[i].memory_ns.size() != gpu_[i].emc_hz.size())
      throw std::invalid_argument("layer-wise model: device curves must share the same EMC levels");
  // The fast path's prefix sums assume no segment can take negative time.
  auto bad = [](double v) { return !std::isfinite(v) || v < 0; };
  for (size_t i = 0; i < cpu_.size(); ++i) {
    bool ok = !bad(cpu_[i].fixed_ns) && !bad(cpu_[i].work_ns_khz) && !bad(cpu_[i].memory_ns_hz) &&
              !bad(gpu_[i].work_ns_hz);
    for (double m : gpu_[i].memory_ns) ok = ok && !bad(m);
    if (!ok)
      throw std::invalid_argument("layer-wise model: segment " + std::to_string(i) +
                                  " has a negative or non-finite curve coefficient");
  }
  const size_t n = cpu_.size(), levels = gpu_.empty() ? 0 : gpu_.front().emc_hz.size();
  pre_fixed_.assign(n + 1, 0);
  pre_work_.assign(n + 1, 0);
  pre_host_memory_.assign(n + 1, 0);
  pre_gpu_work_.assign(n + 1, 0);
  pre_memory_.assign(levels * (n + 1), 0);
  for (size_t i = 0; i < n; ++i) {
    pre_fixed_[i + 1] = pre_fixed_[i] + cpu_[i].fixed_ns;
    pre_work_[i + 1] = pre_work_[i] + cpu_[i].work_ns_khz;
    pre_host_memory_[i + 1] = pre_host_memory_[i] + cpu_[i].memory_ns_hz;
    pre_gpu_work_[i + 1] = pre_gpu_work_[i] + gpu_[i].work_ns_hz;
    for (size_t l = 0; l < levels; ++l)
      pre_memory_[l * (n + 1) + i + 1] = pre_memory_[l * (n + 1) + i] + gpu_[i].memory_ns[l];
  }
}

double LayerwiseModel::latency_ns(const Clocks& clocks) const {
  return evaluate(clocks, nullptr);
}

Busy LayerwiseModel::busy(const Clocks& clocks) const {
  Busy b;
  evaluate(clocks, &b);
  return b;
}

double LayerwiseModel::evaluate(const Clocks& clocks, Busy* busy) const {
  if (!(clocks.cpu_khz > 0 && clocks.gpu_hz > 0 && clocks.emc_hz > 0))
    throw std::invalid_argument("layer-wise model: CPU, GPU and EMC clocks must all be set");
  const double inv_cpu = 1.0 / clocks.cpu_khz, inv_gpu = 1.0 / clocks.gpu_hz, inv_emc = 1.0 / clocks.emc_hz;
  // Resolve the EMC interpolation once for all segments (GpuCurve::at does it per call).
  size_t lo = 0, hi = 0;
  double t = 0;
  if (!gpu_.empty()) {
    const auto& levels = gpu_.front().emc_hz;
    if (clocks.emc_hz >= levels.back()) {
      lo = hi = levels.size() - 1;
    } else if (clocks.emc_hz > levels.front()) {
      hi =
          static_cast<size_t>(std::upper_bound(levels.begin(), levels.end(), clocks.emc_hz) - levels.begin());
      lo = hi - 1;
      t = (1 / clocks.emc_hz - 1 / levels[lo]) / (1 / levels[hi] - 1 / levels[lo]);
    }
  }
  const size_t n = cpu_.size();
  const double host = pre_fixed_[n] + pre_work_[n] * inv_cpu + pre_host_memory_[n] * inv_emc;
  const double stretch = host > 0 ? std::max(0.0, host + costs_.cpu_offset_ns) / host : 1.0;
  // The queue recurrence g = max(g, c_j) + w_j is a serial chain of dependent max/add. Unrolled it
  // is g = W_n + max_j (c_j - W_{j-1}), with c_j the host's launch time of segment j and W the
  // device prefix sum; both come from prefix sums, so the terms are independent and the loop is
  // throughput-bound (about 1.4x faster). Segments without device work need no special case: their
  // term never exceeds the next segment's, and a trailing one gives g = c_n.
  const double* pm_lo = pre_memory_.data() + lo * (n + 1);
  const double* pm_hi = pre_memory_.data() + hi * (n + 1);
  const double* pf = pre_fixed_.data();
  const double* pw = pre_work_.data();
  const double* ph = pre_host_memory_.data();
  const double* pg = pre_gpu_work_.data();
  const double a = stretch, b = stretch * inv_cpu, e = stretch * inv_emc, s = costs_.gpu_scale,
               sg = costs_.gpu_scale * inv_gpu;
  auto device = [&](size_t j) { return s * (pm_lo[j] + t * (pm_hi[j] - pm_lo[j])) + sg * pg[j]; };
  auto host_at = [&](size_t j) { return a * pf[j] + b * pw[j] + e * ph[j]; };
  auto term = [&](size_t j) { return host_at(j + 1) - device(j); };
  double m[4] = {0, 0, 0, 0};  // with no segments: g = 0; four maxima so the max chain splits too
  size_t j = 0;
  for (; j + 3 < n; j += 4)
    for (size_t u = 0; u < 4; ++u) m[u] = std::max(m[u], term(j + u));
  for (; j < n; ++j) m[0] = std::max(m[0], term(j));
  const double best = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  const double latency = std::max(host_at(n), device(n) + best) + costs_.sync_latency_ns;
  if (busy && latency > 0) {
    busy->host = std::min(1.0, host_at(n) / latency);
    busy->device = std::min(1.0, device(n) / latency);
    busy->memory = std::min(1.0, s * (pm_lo[n] + t * (pm_hi[n] - pm_lo[n])) / latency);
  }
  return latency;
}

Estimate LayerwiseModel::estimate(const Clocks& clocks) const {
  if (!power_) return {latency_ns(clocks) / 1e6, 0.0};
  if (const auto* g = std::get_if<grid::PowerModel>(&*power_)) {
    const double ms = latency_ns(clocks) / 1e6;
    return {ms, g->power_w(clocks, ms)};
  }
  Busy b;
  const double ms = evaluate(clocks, &b) / 1e6;
  return {ms, std::get<BusyPowerModel>(*power_).power_w(clocks, b)};
}

TimelineResult LayerwiseModel::simulate(const Clocks& clocks, bool per_segment) const {
  if (!(clocks.cpu_khz > 0 && clocks.gpu_hz > 0 && clocks.emc_hz > 0))
    throw std::invalid_argument("layer-wise model: CPU, GPU and EMC clocks must all be set");
  std::vector<double> cpu(cpu_.size()), gpu(gpu_.size());
  for (size_t i = 0; i < cpu_.size(); ++i) {
    cpu[i] = cpu_[i].at(clocks.cpu_khz, clocks.emc_hz);
    gpu[i] = gpu_[i].at(clocks.gpu_hz, clocks.emc_hz);
  }
  return simulate_timeline(cpu, gpu, costs_, 1.0, per_segment);
}

TimelineCosts fit_timeline_costs(std::span<const ProfiledRun> runs) {
  // Hidden timeline costs: each run calibrated at its own clocks, then the median of each cost.
  const MachineCalibration machine = calibrate_machine(runs);
  std::vector<double> offset, scale, sync;
  for (const auto& r : runs) {
    const TimelineCosts c = calibrate_costs(r, machine);
    offset.push_back(c.cpu_offset_ns);
    scale.push_back(c.gpu_scale);
    sync.push_back(c.sync_latency_ns);
  }
  TimelineCosts costs;
  costs.cpu_offset_ns = fit::median(offset);
  costs.gpu_scale = fit::median(scale);
  costs.sync_latency_ns = fit::median(sync);
  return costs;
}

BusyPowerModel fit_profiled_power(std::span<const Clocks> clocks, std::span<const Busy> busy,
                                  std::span<const double> power_w) {
  grid::ClockReference ref;
  std::set<int> cores;
  for (const auto& c : clocks) {
    ref.cpu_khz = std::max(ref.cpu_khz, c.cpu_khz);
    ref.gpu_hz = std::max(ref.gpu_hz, c.gpu_hz);
    ref.emc_hz = std::max(ref.emc_hz, c.emc_hz);
    if (c.cpu_cores > 0) cores.insert(c.cpu_cores);
  }
  if (cores.size() > 1) ref.cores.assign(cores.begin(), cores.end());
  return fit_busy_power({clocks.begin(), clocks.end()}, {busy.begin(), busy.end()},
                        {power_w.begin(), power_w.end()}, ref);
}

LayerwiseModel fit_layerwise(std::span<const ProfiledPoint> points, std::span<const double> emc_levels,
                             std::vector<std::string> names) {
  if (points.empty()) throw std::invalid_argument("layer-wise fit: no profiled points");
  const size_t n = points.front().run.cpu_ns.size();
  for (const auto& p : points)
    if (p.run.cpu_ns.size() != n || p.run.gpu_ns.size() != n)
      throw std::invalid_argument("layer-wise fit: profiles have different segment structures");

  std::vector<CpuCurve> cpu(n);
  std::vector<GpuCurve> gpu(n);
  std::vector<CurveSample> cs(points.size()), gs(points.size());
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < points.size(); ++j) {
      cs[j] = {points[j].clocks, points[j].run.cpu_ns[i]};
      gs[j] = {points[j].clocks, points[j].run.gpu_ns[i]};
    }
    cpu[i] = fit_cpu_curve(cs);
    gpu[i] = fit_gpu_curve(gs, emc_levels);
  }

  std::vector<ProfiledRun> runs;
  for (const auto& p : points) runs.push_back(p.run);
  const TimelineCosts costs = fit_timeline_costs(runs);
  LayerwiseModel latency(std::move(names), std::move(cpu), std::move(gpu), costs);
  if (!std::all_of(points.begin(), points.end(),
                   [](const ProfiledPoint& p) { return p.power_w.has_value(); }))
    return latency;

  // Power from the same sparse combinations, each side's busy share predicted by the latency model
  // (not measured), so that it means the same thing when predicting.
  std::vector<Clocks> clocks;
  std::vector<double> power;
  std::vector<Busy> busy;
  for (const auto& p : points) {
    clocks.push_back(p.clocks);
    power.push_back(*p.power_w);
    busy.push_back(latency.busy(p.clocks));
  }
  return LayerwiseModel(latency.names(), latency.cpu_curves(), latency.gpu_curves(), costs,
                        fit_profiled_power(clocks, busy, power));
}

}  // namespace flame::model
