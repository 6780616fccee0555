#include "flame/features/curve_prior.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace flame::features {

CurveShape shape_of(const model::CpuCurve& cpu, const model::GpuCurve& gpu, const Clocks& ref) {
  CurveShape s;
  const double fixed = cpu.fixed_ns, work = cpu.work_ns_khz / ref.cpu_khz,
               memory = cpu.memory_ns_hz / ref.emc_hz;
  if (const double host = fixed + work + memory; host > 0) {
    s.host_fixed = fixed / host;
    s.host_work = work / host;
    s.host_memory = memory / host;
  }
  s.device_memory.assign(gpu.memory_ns.size(), 0.0);
  if (const double device = gpu.at(ref.gpu_hz, ref.emc_hz); device > 0) {
    s.device_work = gpu.work_ns_hz / ref.gpu_hz / device;
    for (std::size_t l = 0; l < gpu.memory_ns.size(); ++l) s.device_memory[l] = gpu.memory_ns[l] / device;
  }
  return s;
}

std::vector<double> CurvePrior::features(const model::Segment& s) const {
  const double macs = s.features ? s.features->macs : 0;
  const double bytes =
      s.features ? s.features->bytes_in + s.features->bytes_out + s.features->param_bytes : 0;
  return {std::log10(1 + macs),
          std::log10(1 + bytes),
          std::log10((1 + macs) / (1 + bytes)),
          std::log2(1.0 + std::max(0, s.n_kernels)),
          s.features ? 1.0 : 0.0,
          s.kind == model::SegmentKind::Call ? 1.0 : 0.0};
}

CurvePrior::CurvePrior(std::vector<ShapeSample> samples, std::vector<double> emc_levels, PriorOptions options)
    : samples_(std::move(samples)), emc_(std::move(emc_levels)), o_(options) {
  if (samples_.empty()) throw std::invalid_argument("curve prior: no segments to learn from");
  for (const auto& s : samples_)
    if (s.shape.device_memory.size() != emc_.size())
      throw std::invalid_argument("curve prior: every model must have the same EMC levels");
  for (const auto& s : samples_) x_.push_back(features(s.segment));
  const std::size_t d = x_.front().size();
  mean_.assign(d, 0.0);
  scale_.assign(d, 0.0);
  for (const auto& x : x_)
    for (std::size_t j = 0; j < d; ++j) mean_[j] += x[j] / static_cast<double>(x_.size());
  for (const auto& x : x_)
    for (std::size_t j = 0; j < d; ++j)
      scale_[j] += (x[j] - mean_[j]) * (x[j] - mean_[j]) / static_cast<double>(x_.size());
  for (auto& v : scale_) v = v > 1e-12 ? std::sqrt(v) : 1.0;
  for (auto& x : x_)
    for (std::size_t j = 0; j < d; ++j) x[j] = (x[j] - mean_[j]) / scale_[j];
}

CurveShape CurvePrior::predict(const model::Segment& s) const {
  auto q = features(s);
  for (std::size_t j = 0; j < q.size(); ++j) q[j] = (q[j] - mean_[j]) / scale_[j];
  std::vector<std::pair<double, std::size_t>> dist;
  dist.reserve(x_.size());
  for (std::size_t i = 0; i < x_.size(); ++i) {
    double d2 = 0;
    for (std::size_t j = 0; j < q.size(); ++j) d2 += (x_[i][j] - q[j]) * (x_[i][j] - q[j]);
    dist.emplace_back(std::sqrt(d2), i);
  }
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, o_.neighbours)), dist.size());
  std::partial_sort(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(k), dist.end());
  CurveShape out;
  out.host_work = out.device_work = 0;
  out.device_memory.assign(emc_.size(), 0.0);
  double total = 0;
  for (std::size_t n = 0; n < k; ++n) {
    const auto& smp = samples_[dist[n].second];
    // Closer neighbours count more, and so do the ones that carry more time (their shape is
    // measured against more than profiler noise).
    const double w = std::sqrt(std::max(smp.weight, 1.0)) / (dist[n].first + 0.05);
    total += w;
    out.host_fixed += w * smp.shape.host_fixed;
    out.host_work += w * smp.shape.host_work;
    out.host_memory += w * smp.shape.host_memory;
    out.device_work += w * smp.shape.device_work;
    for (std::size_t l = 0; l < emc_.size(); ++l) out.device_memory[l] += w * smp.shape.device_memory[l];
  }
  out.host_fixed /= total;
  out.host_work /= total;
  out.host_memory /= total;
  out.device_work /= total;
  for (auto& m : out.device_memory) m /= total;
  return out;
}

std::vector<ShapeSample> shape_samples(const model::LayerwiseModel& m,
                                       std::span<const model::Segment> segments, const Clocks& ref) {
  if (segments.size() != m.segments())
    throw std::invalid_argument("curve prior: the model and its profile have different segment counts");
  std::vector<ShapeSample> out;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& cpu = m.cpu_curves()[i];
    const auto& gpu = m.gpu_curves()[i];
    out.push_back({segments[i], shape_of(cpu, gpu, ref),
                   cpu.at(ref.cpu_khz, ref.emc_hz) + gpu.at(ref.gpu_hz, ref.emc_hz)});
  }
  return out;
}

model::LayerwiseModel derive_layerwise(const model::ProfiledRun& run,
                                       std::span<const model::Segment> segments, const Clocks& ref,
                                       const CurvePrior& prior, std::vector<std::string> names) {
  if (run.cpu_ns.size() != segments.size() || run.gpu_ns.size() != segments.size())
    throw std::invalid_argument("derived model: the run and the segment structure differ in length");
  std::vector<model::CpuCurve> cpu;
  std::vector<model::GpuCurve> gpu;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const CurveShape s = prior.predict(segments[i]);
    const double h = run.cpu_ns[i], d = run.gpu_ns[i];
    cpu.push_back({s.host_fixed * h, s.host_work * h * ref.cpu_khz, s.host_memory * h * ref.emc_hz});
    model::GpuCurve g;
    g.emc_hz = prior.emc_levels();
    g.work_ns_hz = s.device_work * d * ref.gpu_hz;
    for (double m : s.device_memory) g.memory_ns.push_back(m * d);
    gpu.push_back(std::move(g));
  }
  const model::ProfiledRun runs[] = {run};
  return model::LayerwiseModel(std::move(names), std::move(cpu), std::move(gpu),
                               model::fit_timeline_costs(runs));
}

}  // namespace flame::features
