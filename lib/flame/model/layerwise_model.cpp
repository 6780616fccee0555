#include "flame/model/layerwise_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "flame/fit/median.hpp"

namespace flame {
LayerwiseModel::LayerwiseModel(std::vector<std::string> names, std::vector<CpuCurve> cpu,
                               std::vector<GpuCurve> gpu, TimelineCosts costs)
    : names_(std::move(names)), cpu_(std::move(cpu)), gpu_(std::move(gpu)), costs_(costs) {
  if (cpu_.size() != gpu_.size())
    throw std::invalid_argument("layer-wise model: host and device curve counts differ");
  if (!names_.empty() && names_.size() != cpu_.size())
    throw std::invalid_argument("layer-wise model: segment name count differs from curve count");
  for (size_t i = 0; i < gpu_.size(); ++i)
    if (gpu_[i].emc_hz != gpu_.front().emc_hz || gpu_[i].memory_ns.size() != gpu_[i].emc_hz.size())
      throw std::invalid_argument("layer-wise model: device curves must share the same EMC levels");
  for (const auto& c : cpu_) fixed_sum_ += c.fixed_ns, work_sum_ += c.work_ns_khz;
}

double LayerwiseModel::latency_ns(const Clocks& clocks) const {
  if (!(clocks.cpu_khz > 0 && clocks.gpu_hz > 0 && clocks.emc_hz > 0))
    throw std::invalid_argument("layer-wise model: CPU, GPU and EMC clocks must all be set");
  const double inv_cpu = 1.0 / clocks.cpu_khz, inv_gpu = 1.0 / clocks.gpu_hz;
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
  const double host = fixed_sum_ + work_sum_ * inv_cpu;
  const double stretch = host > 0 ? std::max(0.0, host + costs_.cpu_offset_ns) / host : 1.0;
  double c = 0, g = 0;
  for (size_t i = 0; i < cpu_.size(); ++i) {
    c += (cpu_[i].fixed_ns + cpu_[i].work_ns_khz * inv_cpu) * stretch;
    const auto& m = gpu_[i].memory_ns;
    const double work = (m[lo] + t * (m[hi] - m[lo]) + gpu_[i].work_ns_hz * inv_gpu) * costs_.gpu_scale;
    if (work > 0) g = std::max(g, c) + work;
  }
  return std::max(c, g) + costs_.sync_latency_ns;
}

TimelineResult LayerwiseModel::simulate(const Clocks& clocks, bool per_segment) const {
  if (!(clocks.cpu_khz > 0 && clocks.gpu_hz > 0 && clocks.emc_hz > 0))
    throw std::invalid_argument("layer-wise model: CPU, GPU and EMC clocks must all be set");
  std::vector<double> cpu(cpu_.size()), gpu(gpu_.size());
  for (size_t i = 0; i < cpu_.size(); ++i) {
    cpu[i] = cpu_[i].at(clocks.cpu_khz);
    gpu[i] = gpu_[i].at(clocks.gpu_hz, clocks.emc_hz);
  }
  return simulate_timeline(cpu, gpu, costs_, 1.0, per_segment);
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

  // Hidden timeline costs: each run calibrated at its own clocks, then the median of each cost.
  std::vector<ProfiledRun> runs;
  for (const auto& p : points) runs.push_back(p.run);
  const MachineCalibration machine = calibrate_machine(runs);
  std::vector<double> offset, scale, sync;
  for (const auto& r : runs) {
    const TimelineCosts c = calibrate_costs(r, machine);
    offset.push_back(c.cpu_offset_ns);
    scale.push_back(c.gpu_scale);
    sync.push_back(c.sync_latency_ns);
  }
  TimelineCosts costs;
  costs.cpu_offset_ns = median(offset);
  costs.gpu_scale = median(scale);
  costs.sync_latency_ns = median(sync);
  return LayerwiseModel(std::move(names), std::move(cpu), std::move(gpu), costs);
}

}  // namespace flame
