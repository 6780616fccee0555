#include "flame/context/context_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flame/context/context_series.hpp"
#include "flame/fit/median.hpp"
#include "flame/fit/nnls.hpp"

namespace flame::context {
namespace {

void check_ctx(double ctx) {
  if (!(ctx > 0) || !std::isfinite(ctx))
    throw std::invalid_argument(fmt::format("context model: context length must be positive, got {}", ctx));
}

}  // namespace

ContextModel::ContextModel(model::ContextPhase phase, std::vector<model::Segment> segments,
                           Eigen::MatrixXd gpu_coefficients, model::TimelineCosts costs,
                           std::vector<int> fit_contexts)
    : phase_(phase),
      segments_(std::move(segments)),
      coef_(std::move(gpu_coefficients)),
      costs_(costs),
      fit_contexts_(std::move(fit_contexts)) {
  if (coef_.rows() != static_cast<Eigen::Index>(segments_.size()) ||
      coef_.cols() != model::basis_size(phase_))
    throw std::invalid_argument(
        fmt::format("context model: {}x{} coefficients for {} segments and {} basis functions", coef_.rows(),
                    coef_.cols(), segments_.size(), model::basis_size(phase_)));
  if ((coef_.array() < 0).any() || !coef_.allFinite())
    throw std::invalid_argument("context model: GPU coefficients must be finite and non-negative");
}

std::vector<double> ContextModel::gpu_ns(double ctx) const {
  check_ctx(ctx);
  const auto basis = model::context_basis(phase_, ctx);
  const Eigen::Map<const Eigen::VectorXd> phi(basis.data(), static_cast<Eigen::Index>(basis.size()));
  const Eigen::VectorXd t = coef_ * phi;
  return {t.data(), t.data() + t.size()};
}

std::vector<double> ContextModel::cpu_ns() const {
  std::vector<double> out;
  out.reserve(segments_.size());
  for (const auto& s : segments_) out.push_back(s.cpu_ns);
  return out;
}

model::SegmentProfile ContextModel::profile_at(double ctx) const {
  model::SegmentProfile p;
  p.tag = fmt::format("{}_ctx{}", model::phase_name(phase_), ctx);
  p.segments = segments_;
  const auto gpu = gpu_ns(ctx);
  for (size_t i = 0; i < gpu.size(); ++i) p.segments[i].gpu_ns = gpu[i];
  return p;
}

model::TimelineResult ContextModel::simulate(double ctx, double cpu_ratio, bool per_segment) const {
  return simulate_timeline(cpu_ns(), gpu_ns(ctx), costs_, cpu_ratio, per_segment);
}

model::ProfiledRun profiled_run(const ContextSample& sample) {
  model::ProfiledRun run;
  for (const auto& s : sample.profile.segments) {
    run.cpu_ns.push_back(s.cpu_ns);
    run.gpu_ns.push_back(s.gpu_ns);
  }
  run.e2e_median_ns = sample.e2e_median_ns;
  run.sync_ns = sample.profile.sync_ns;
  return run;
}

ContextModel fit_context_model(model::ContextPhase phase, std::span<const ContextSample> samples,
                               const model::MachineCalibration& machine) {
  const int k = model::basis_size(phase);
  if (static_cast<int>(samples.size()) < k)
    throw std::invalid_argument(
        fmt::format("context model: fitting {} GPU time needs at least {} profiled contexts (one per basis "
                    "function), got {}",
                    model::phase_name(phase), k, samples.size()));
  std::vector<int> contexts;
  for (const auto& s : samples) {
    if (s.ctx <= 0)
      throw std::invalid_argument(
          fmt::format("context model: {}: context length must be positive, got {}", s.profile.tag, s.ctx));
    if (std::find(contexts.begin(), contexts.end(), s.ctx) != contexts.end())
      throw std::invalid_argument(fmt::format("context model: context length {} profiled twice", s.ctx));
    contexts.push_back(s.ctx);
    check_same_structure(samples.front().profile, s.profile);
  }
  std::sort(contexts.begin(), contexts.end());

  const auto n_seg = samples.front().profile.segments.size();
  const auto m = static_cast<Eigen::Index>(samples.size());
  Eigen::MatrixXd a(m, k);
  for (Eigen::Index r = 0; r < m; ++r) {
    const auto phi = model::context_basis(phase, samples[r].ctx);
    for (int j = 0; j < k; ++j) a(r, j) = phi[j];
  }
  Eigen::MatrixXd coef(static_cast<Eigen::Index>(n_seg), k);
  std::vector<model::Segment> segments = samples.front().profile.segments;
  Eigen::VectorXd b(m);
  for (size_t i = 0; i < n_seg; ++i) {
    std::vector<double> cpu;
    for (Eigen::Index r = 0; r < m; ++r) {
      b(r) = samples[r].profile.segments[i].gpu_ns;
      cpu.push_back(samples[r].profile.segments[i].cpu_ns);
    }
    coef.row(static_cast<Eigen::Index>(i)) = fit::solve_nnls(a, b).x.transpose();
    segments[i].cpu_ns = fit::median(cpu);
    segments[i].gpu_ns = 0;
    segments[i].features.reset();  // sizes differ per context; the model keeps only the structure
  }

  std::vector<double> offset, scale, sync;
  for (const auto& s : samples) {
    const model::TimelineCosts c = calibrate_costs(profiled_run(s), machine);
    offset.push_back(c.cpu_offset_ns);
    scale.push_back(c.gpu_scale);
    sync.push_back(c.sync_latency_ns);
  }
  const model::TimelineCosts costs{fit::median(offset), fit::median(scale), fit::median(sync)};
  return ContextModel(phase, std::move(segments), std::move(coef), costs, std::move(contexts));
}

}  // namespace flame::context
