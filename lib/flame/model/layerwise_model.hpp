#pragma once
// FLAME's layer-wise latency model: per-segment host and device curves, aggregated through the
// launch-queue timeline at any clock combination (bubbles included), and optionally board power
// fitted from the rail samples of the same profiles (busy_power.hpp; docs/model-format.md).
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/grid/power_model.hpp"
#include "flame/model/coupling_calibration.hpp"
#include "flame/model/detail/busy_power.hpp"
#include "flame/model/detail/segment_curves.hpp"
#include "flame/model/timeline.hpp"

namespace flame::model {

// One profiled run of the model at one clock combination.
struct ProfiledPoint {
  Clocks clocks;
  ProfiledRun run;
  std::optional<double> power_w;  // mean board power while it ran; none without rails
};

// Board power of a layer-wise model: the busy form fitted by flame profile (busy_power.hpp), or the
// grid model's log-linear form that earlier files carry.
using LayerPower = std::variant<BusyPowerModel, grid::PowerModel>;

class LayerwiseModel {
 public:
  LayerwiseModel() = default;
  LayerwiseModel(std::vector<std::string> names, std::vector<CpuCurve> cpu, std::vector<GpuCurve> gpu,
                 TimelineCosts costs, std::optional<LayerPower> power = std::nullopt);

  size_t segments() const { return cpu_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<CpuCurve>& cpu_curves() const { return cpu_; }
  const std::vector<GpuCurve>& gpu_curves() const { return gpu_; }
  const TimelineCosts& costs() const { return costs_; }
  // Board power; absent in models fitted without rail samples (and in older files).
  const std::optional<LayerPower>& power() const { return power_; }

  TimelineResult simulate(const Clocks& clocks, bool per_segment = false) const;
  // Same end-to-end time as simulate(), in one allocation-free pass: the search calls this.
  double latency_ns(const Clocks& clocks) const;
  // How busy each side is over the inference at these clocks (the busy power form's input).
  Busy busy(const Clocks& clocks) const;
  // Latency and power (0 W without a power model: the search then uses its proxy).
  Estimate estimate(const Clocks& clocks) const;

 private:
  std::vector<std::string> names_;
  std::vector<CpuCurve> cpu_;
  std::vector<GpuCurve> gpu_;
  TimelineCosts costs_;
  std::optional<LayerPower> power_;
  // latency_ns, and the busy split when `busy` is given.
  double evaluate(const Clocks& clocks, Busy* busy) const;
  // Prefix sums for latency_ns (index j: segments [0, j)): host fixed, CPU-scaled and EMC-scaled
  // parts, device clock-scaled part, and the device memory part per EMC level (level-major).
  std::vector<double> pre_fixed_, pre_work_, pre_host_memory_, pre_gpu_work_, pre_memory_;
};

// Fits every segment's curves from runs at several clock combinations (all with the same segment
// structure) and the timeline costs as the median of each run's calibration. emc_levels are the
// board's EMC points. When every point has a power sample, also fits the power model
// (fit_busy_power, with this model's predicted busy shares and the highest profiled clock of each
// domain as the reference).
LayerwiseModel fit_layerwise(std::span<const ProfiledPoint> points, std::span<const double> emc_levels,
                             std::vector<std::string> names = {});

// The parts of that fit that other layer-wise models share (slm_model.hpp):
// the timeline costs as the median of each run's calibration (calibrate_costs, with the machine's
// sync latency from the launch-bound runs among them) ...
TimelineCosts fit_timeline_costs(std::span<const ProfiledRun> runs);
// ... and the busy power form from rail samples, with the highest clock of each domain among
// `clocks` as the reference (and the core options, when they varied).
BusyPowerModel fit_profiled_power(std::span<const Clocks> clocks, std::span<const Busy> busy,
                                  std::span<const double> power_w);

}  // namespace flame::model
