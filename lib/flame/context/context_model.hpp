#pragma once
// Per-segment costs of an SLM as a function of context length, fitted from a few profiled
// contexts of one phase (see docs/context-model.md).
//
//  * GPU side: per segment, a non-negative combination of the phase's basis (flame/model/context_basis.hpp),
//    fitted by NNLS to the profiled GPU times at the reference clocks.
//  * Host side: independent of the context length. The host launches the same kernels whatever
//    the context (only their sizes change), and the measured host spans show no trend in ctx, only
//    run-to-run noise; so each segment gets the median of its profiled spans.
//  * Timeline costs (host offset, GPU scale, sync latency): calibrated on each profiled context and
//    combined by the median.
#include <Eigen/Dense>
#include <span>
#include <vector>

#include "flame/model/context_basis.hpp"
#include "flame/model/coupling_calibration.hpp"
#include "flame/model/segment_profile.hpp"
#include "flame/model/timeline.hpp"

namespace flame::context {

// One profiled context length at the reference clocks.
struct ContextSample {
  int ctx = 0;
  model::SegmentProfile profile;  // per-segment host spans and GPU times, plus the sync wait
  double e2e_median_ns = 0;       // measured end-to-end time of the same runs (for the timeline costs)
};

class ContextModel {
 public:
  // gpu_coefficients: one row per segment, one column per basis function, in ns per ctx^k.
  // segments: the structure (kind, name, type); their cpu_ns is the host span used at
  // every context, their gpu_ns is ignored.
  ContextModel(model::ContextPhase phase, std::vector<model::Segment> segments,
               Eigen::MatrixXd gpu_coefficients, model::TimelineCosts costs, std::vector<int> fit_contexts);

  model::ContextPhase phase() const { return phase_; }
  const std::vector<int>& fit_contexts() const { return fit_contexts_; }
  size_t segment_count() const { return segments_.size(); }
  const std::vector<model::Segment>& segments() const { return segments_; }
  const Eigen::MatrixXd& gpu_coefficients() const { return coef_; }
  const model::TimelineCosts& costs() const { return costs_; }

  // Per-segment GPU time at the reference clocks for a context length ctx > 0. Contexts beyond
  // the fitted range extrapolate along the same non-negative curves.
  std::vector<double> gpu_ns(double ctx) const;
  // Per-segment host spans at the reference clocks (the same for every context).
  std::vector<double> cpu_ns() const;
  // A full segment profile at ctx, ready for the timeline (sync_ns is left 0: it is an outcome).
  model::SegmentProfile profile_at(double ctx) const;
  // End-to-end latency at ctx through the timeline, with the host cpu_ratio times slower.
  model::TimelineResult simulate(double ctx, double cpu_ratio = 1.0, bool per_segment = false) const;

 private:
  model::ContextPhase phase_;
  std::vector<model::Segment> segments_;
  Eigen::MatrixXd coef_;
  model::TimelineCosts costs_;
  std::vector<int> fit_contexts_;
};

// Fits a model from profiled contexts of one phase. The samples must have distinct positive
// contexts, the same segment structure, and at least model::basis_size(phase) of them; `machine` supplies
// the sync latency for samples that are execution-bound at the profile (see coupling_calibration).
// Throws std::invalid_argument / std::runtime_error with a message naming what is wrong.
ContextModel fit_context_model(model::ContextPhase phase, std::span<const ContextSample> samples,
                               const model::MachineCalibration& machine);

// A sample's reference run as a timeline calibration input.
model::ProfiledRun profiled_run(const ContextSample& sample);

}  // namespace flame::context
