#include "flame/sim/layer_board.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flame/sim/rng.hpp"

namespace flame::sim {

namespace {

// Voltage at clock f relative to the top clock: linear between v_min_ratio at the lowest level and 1.
double volt(double f, double f_min, double f_max, double v_min_ratio) {
  if (f_max <= f_min) return 1.0;
  const double x = std::clamp((f - f_min) / (f_max - f_min), 0.0, 1.0);
  return v_min_ratio + (1.0 - v_min_ratio) * x;
}

bool half_precision(std::string dtype) {
  if (dtype.rfind("torch.", 0) == 0) dtype.erase(0, 6);  // the datasets write "torch.float16"
  return dtype == "float16" || dtype == "bfloat16" || dtype == "half";
}

// Device time of one segment's kernels on the board, and the part of it bound by DRAM.
struct DeviceWork {
  double ns = 0;
  double memory_ns = 0;
};

bool convolution(const model::Segment& s) {
  return s.type.find("Conv") != std::string::npos;
}

// Multiply-accumulates of a call: recorded MACs, else half the recorded FLOPs.
double macs_of(const model::SegmentFeatures& f) {
  return f.macs > 0 ? f.macs : f.flops / 2;
}

// Whether a configuration records arithmetic at all (then a call without it is element-wise).
bool records_arithmetic(const model::CouplingConfig& c) {
  for (const auto& s : c.profile.segments)
    if (s.features && macs_of(*s.features) > 0) return true;
  return false;
}

DeviceWork device_time(const model::Segment& s, const std::string& dtype, double gpu_hz, double emc_hz,
                       double emc_max, bool arithmetic_recorded, const LayerBoardParams& p) {
  DeviceWork w;
  if (s.n_kernels <= 0 && s.gpu_ns <= 0) return w;
  const int kernels = std::max(s.n_kernels, 1);
  const double overhead_ns = kernels * p.kernel_overhead_cycles / gpu_hz * 1e9;
  const double bandwidth = p.dram_bytes_per_emc_hz * emc_hz * p.memory_efficiency;  // bytes/s
  double compute_ns = 0, memory_ns = 0;
  const model::SegmentFeatures* f = s.features ? &*s.features : nullptr;
  const double bytes = f ? f->bytes_in + f->bytes_out + f->param_bytes : 0;
  const bool half = half_precision(dtype);
  const double speedup = half ? p.gpu_fp16_speedup : (convolution(s) ? p.tf32_conv_speedup : 1.0);
  const double flop_per_s = p.gpu_flop_per_cycle_fp32 * speedup * gpu_hz * p.compute_efficiency;
  // What the H200 spent beyond its per-kernel floor.
  const double excess = std::max(0.0, s.gpu_ns - kernels * p.h200_kernel_floor_ns);
  if (f && macs_of(*f) > 0) {
    compute_ns = 2.0 * macs_of(*f) / flop_per_s * 1e9;
    memory_ns = bytes / bandwidth * 1e9;
  } else if (bytes > 0) {
    // An element-wise call streams its operands. In a dataset that records no arithmetic at all, what
    // the H200 spent beyond its floor is taken as arithmetic, scaled by the ratio of the FP32 peaks.
    memory_ns = bytes / bandwidth * 1e9;
    if (!arithmetic_recorded) compute_ns = excess * p.h200_fp32_flops / (flop_per_s / p.compute_efficiency);
  } else {
    // Glue without features: what the H200 spent beyond its per-kernel floor is data movement, scaled
    // by the bandwidth ratio and the EMC clock.
    memory_ns = excess * p.h200_to_board_bandwidth * emc_max / emc_hz;
  }
  // Roofline: a kernel is bound by the slower of its arithmetic and its memory traffic.
  w.ns = overhead_ns + std::max(compute_ns, memory_ns);
  w.memory_ns = memory_ns >= compute_ns ? memory_ns : 0;
  return w;
}

}  // namespace

ClockLevels tx2_levels() {
  return {
      {1, 2, 3, 4},
      {345600, 499200, 652800, 806400, 960000, 1113600, 1267200, 1420800, 1574400, 1728000, 1881600, 2035200},
      {140250000, 497250000, 943500000, 1300500000},
      {1062400000, 1331200000, 1600000000, 1866000000}};
}

LayerRun replay_inference(const model::CouplingConfig& config, const SimClocks& clocks,
                          const LayerBoardParams& p, const ClockLevels& levels, double host_factor,
                          ReplayTimeline* timeline) {
  if (config.sweeps.empty()) throw std::invalid_argument(config.tag + ": no reference sweep");
  const auto& ref = config.sweeps.front();
  const auto& segs = config.profile.segments;
  if (ref.cpu_seg_ns.size() < segs.size())
    throw std::invalid_argument(config.tag + ": fewer host spans than segments");
  if (clocks.cpu_khz == 0 || clocks.gpu_hz == 0 || clocks.emc_hz == 0 || clocks.cores < 1)
    throw std::invalid_argument("layer board: clocks must be positive and at least one core online");
  const double f_cpu = double(clocks.cpu_khz), f_gpu = double(clocks.gpu_hz), f_emc = double(clocks.emc_hz);
  const double emc_max = double(levels.emc_hz.back());
  const int max_cores = levels.cores.empty() ? 4 : levels.cores.back();
  if (!(host_factor > 0)) throw std::invalid_argument("layer board: the host factor must be > 0");
  if (timeline) *timeline = {};

  // Host: the H200 span, slower by the core's speed at this clock; a share waits on DRAM instead.
  const double host_scale =
      p.host_slowdown_at_max *
      ((1 - p.host_memory_share) * p.cpu_max_khz / f_cpu + p.host_memory_share * emc_max / f_emc) *
      (1 + p.core_contention * std::max(0, max_cores - clocks.cores)) * host_factor;

  const bool arithmetic = records_arithmetic(config);
  LayerRun r;
  double host_t = 0;    // when the host has dispatched everything so far
  double gpu_free = 0;  // when the GPU finishes the kernels queued so far
  for (size_t i = 0; i < segs.size(); ++i) {
    const model::Segment& s = segs[i];
    const double span = ref.cpu_seg_ns[i] * host_scale;
    const DeviceWork dev = device_time(s, config.dtype, f_gpu, f_emc, emc_max, arithmetic, p);
    const int kernels = s.n_kernels > 0 ? s.n_kernels : (dev.ns > 0 ? 1 : 0);
    if (timeline) timeline->host.push_back({host_t, host_t + span});
    if (kernels == 0) {
      host_t += span;
      r.host_ns += span;
      continue;
    }
    // Kernel-level launch granularity: the span is cut into kernels + 1 slices and kernel k is queued at
    // the end of slice k; the GPU runs queued kernels in order and idles when the queue is empty.
    const double slice = span / (kernels + 1);
    const double per_kernel = dev.ns / kernels;
    for (int k = 0; k < kernels; ++k) {
      const double queued = host_t + slice * (k + 1);
      if (queued > gpu_free) r.bubble_ns += queued - gpu_free;
      const double start = std::max(gpu_free, queued);
      gpu_free = start + per_kernel;
      if (timeline) timeline->kernels.push_back({i, queued, start, gpu_free});
    }
    host_t += span;
    r.host_ns += span;
    r.device_ns += dev.ns;
    r.memory_ns += dev.memory_ns;
  }
  // The host then waits for the GPU (synchronise) and wakes up.
  r.latency_ns = std::max(host_t, gpu_free) + p.sync_ns;
  // Leading idle before the first kernel is a bubble too, already counted above (gpu_free starts at 0).

  const double cpu_v =
      volt(f_cpu, double(levels.cpu_khz.front()), double(levels.cpu_khz.back()), p.v_min_ratio);
  const double gpu_v =
      volt(f_gpu, double(levels.gpu_hz.front()), double(levels.gpu_hz.back()), p.v_min_ratio);
  const double cpu_rel = f_cpu / double(levels.cpu_khz.back()),
               gpu_rel = f_gpu / double(levels.gpu_hz.back());
  const double host_util = std::min(1.0, r.host_ns / r.latency_ns);
  const double gpu_util = std::min(1.0, r.device_ns / r.latency_ns);
  const double mem_util = std::min(1.0, r.memory_ns / r.latency_ns);
  r.power_w = p.static_w + p.per_core_w * clocks.cores +
              p.cpu_dynamic_w * cpu_rel * cpu_v * cpu_v * (0.15 + 0.85 * host_util) +
              p.gpu_dynamic_w * gpu_rel * gpu_v * gpu_v * gpu_util + p.gpu_clock_w * gpu_rel * gpu_v * gpu_v +
              p.emc_w * (f_emc / emc_max) * (p.emc_idle_share + (1 - p.emc_idle_share) * mem_util);
  return r;
}

model::ProfiledRun replay_profile(const model::CouplingConfig& config, const SimClocks& clocks,
                                  const LayerBoardParams& p, const ClockLevels& levels, double host_factor) {
  ReplayTimeline tl;
  const LayerRun r = replay_inference(config, clocks, p, levels, host_factor, &tl);
  model::ProfiledRun out;
  out.cpu_ns.resize(tl.host.size());
  out.gpu_ns.assign(tl.host.size(), 0.0);
  for (std::size_t i = 0; i < tl.host.size(); ++i) out.cpu_ns[i] = tl.host[i].end_ns - tl.host[i].start_ns;
  for (const auto& k : tl.kernels) out.gpu_ns[k.segment] += k.end_ns - k.start_ns;
  out.e2e_median_ns = r.latency_ns;
  out.sync_ns = std::max(0.0, r.latency_ns - (tl.host.empty() ? 0.0 : tl.host.back().end_ns));
  return out;
}

HostNoise host_noise(const model::CouplingDataset& d) {
  HostNoise n;
  std::vector<double> r;
  for (const auto& c : d.configs)
    for (const auto& s : c.sweeps) {
      ++n.sweeps;
      if (!s.steady()) continue;
      ++n.steady_sweeps;
      std::vector<double> v = s.e2e_ns;
      std::sort(v.begin(), v.end());
      const std::size_t k = v.size();
      const double m = k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
      for (double x : s.e2e_ns)
        if (x > 0) r.push_back(std::log(x / m));
    }
  n.samples = r.size();
  if (r.empty()) return n;
  // Robust: 1.4826 × the median absolute deviation (the residuals are centred on their sweep's median).
  for (double& x : r) x = std::abs(x);
  std::sort(r.begin(), r.end());
  const std::size_t k = r.size();
  n.sigma = 1.4826 * (k % 2 ? r[k / 2] : 0.5 * (r[k / 2 - 1] + r[k / 2]));
  return n;
}

LayerTruth::LayerTruth(model::CouplingConfig config, LayerBoardParams params, ClockLevels levels,
                       double host_sigma)
    : config_(std::move(config)), params_(params), levels_(std::move(levels)), host_sigma_(host_sigma) {
  if (config_.sweeps.empty()) throw std::invalid_argument(config_.tag + ": no reference sweep");
  if (!(host_sigma_ >= 0)) throw std::invalid_argument("layer board: host sigma must be >= 0");
  if (levels_.cpu_khz.empty() || levels_.gpu_hz.empty() || levels_.emc_hz.empty() || levels_.cores.empty())
    throw std::invalid_argument("layer board: every domain needs at least one level");
}

LayerRun LayerTruth::replay(const SimClocks& c, double factor, ReplayTimeline* timeline) const {
  return replay_inference(config_, c, params_, levels_, factor, timeline);
}

TruthSample LayerTruth::sample(const SimClocks& c, const TruthDraw& d) const {
  const double factor = host_factor(d);
  const bool plain = factor == 1.0;
  const auto key = std::make_tuple(c.cores, c.cpu_khz, c.gpu_hz, c.emc_hz);
  if (plain) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (const auto it = mean_.find(key); it != mean_.end()) return it->second;
  }
  const LayerRun r = replay(c, factor);
  TruthSample s;
  s.latency_ms = r.latency_ns / 1e6;
  s.power_w = r.power_w;
  s.latency_noise = factor;
  if (plain) {
    const std::lock_guard<std::mutex> lock(mu_);
    mean_.emplace(key, s);
  }
  return s;
}

LayerGridName layer_grid_name(const model::CouplingConfig& c) {
  // GridTable names a grid "<model_name>-<size up to its first 'x'>": sizes avoid the letter x.
  if (!c.mode.empty()) return {c.model + "-" + c.mode, fmt::format("c{}", c.ctx)};
  const bool half = half_precision(c.dtype);
  return {half ? c.model + "-fp16" : c.model, fmt::format("b{}", std::max(c.batch, 1))};
}

std::string layer_grid_csv(const model::CouplingConfig& config, const LayerBoardParams& p,
                           const ClockLevels& levels, std::uint64_t seed) {
  const auto name = layer_grid_name(config);
  if (name.model.find(',') != std::string::npos || name.size.find('x') != std::string::npos)
    throw std::invalid_argument(config.tag + ": cannot name its grid");
  std::string out =
      ",model_name,sample,size,system_name,config_name,core0_status,core1_status,core2_status,core3_status,"
      "core_freq,gpu_status,gpu_freq,emc_status,emc_freq,inference_time,power_consumption\n";
  Rng rng(seed);
  size_t row = 0;
  for (int cores : levels.cores)
    for (auto cpu : levels.cpu_khz)
      for (auto gpu : levels.gpu_hz)
        for (auto emc : levels.emc_hz) {
          const LayerRun r = replay_inference(config, {cores, cpu, gpu, emc}, p, levels);
          // One measurement per point, like FlexiBO: mean-preserving log-normal noise.
          const double zl = rng.normal(), zp = rng.normal();
          const double lat_s =
              r.latency_ns * 1e-9 * std::exp(p.latency_sigma * zl - p.latency_sigma * p.latency_sigma / 2);
          const double pow_mw =
              r.power_w * 1e3 * std::exp(p.power_sigma * zp - p.power_sigma * p.power_sigma / 2);
          out += fmt::format("{},{},{},{},layer-tx2,Config{},{},{},{},{},{},1,{},1,{},{:.9g},{:.9g}\n", row,
                             name.model, config.tag, name.size, row, int(cores >= 1), int(cores >= 2),
                             int(cores >= 3), int(cores >= 4), cpu, gpu, emc, lat_s, pow_mw);
          ++row;
        }
  return out;
}

}  // namespace flame::sim
