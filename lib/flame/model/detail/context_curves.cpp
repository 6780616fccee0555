#include "flame/model/detail/context_curves.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "flame/fit/nnls.hpp"

namespace flame::model {

GpuCurve ContextGpuCurve::at(ContextPhase phase, double ctx) const {
  const auto phi = context_basis(phase, ctx);
  if (terms.size() != phi.size()) throw std::logic_error("context device curve: wrong number of terms");
  GpuCurve g;
  g.emc_hz = terms.front().emc_hz;
  g.memory_ns.assign(g.emc_hz.size(), 0.0);
  for (size_t k = 0; k < terms.size(); ++k) {
    g.work_ns_hz += phi[k] * terms[k].work_ns_hz;
    for (size_t l = 0; l < g.memory_ns.size(); ++l) g.memory_ns[l] += phi[k] * terms[k].memory_ns[l];
  }
  return g;
}

ContextGpuCurve fit_context_gpu_curve(ContextPhase phase, std::span<const ContextCurveSample> samples,
                                      std::span<const double> emc_levels) {
  if (samples.empty()) throw std::invalid_argument("fit_context_gpu_curve: no samples");
  if (emc_levels.empty()) throw std::invalid_argument("fit_context_gpu_curve: no EMC levels");
  const auto K = static_cast<Eigen::Index>(basis_size(phase));
  const auto L = static_cast<Eigen::Index>(emc_levels.size());
  double f_ref = 0, ctx_ref = 0;
  std::set<double> gpu_freqs;
  std::vector<int> seen(emc_levels.size(), 0);
  for (const auto& s : samples) {
    if (!(s.clocks.gpu_hz > 0 && s.clocks.emc_hz > 0 && s.ctx > 0))
      throw std::invalid_argument("fit_context_gpu_curve: a sample without GPU or EMC clock or context");
    f_ref = std::max(f_ref, s.clocks.gpu_hz);
    ctx_ref = std::max(ctx_ref, s.ctx);
    gpu_freqs.insert(s.clocks.gpu_hz);
    ++seen[nearest_emc_level(emc_levels, s.clocks.emc_hz)];
  }
  const double emc_ref = emc_levels.back();
  const bool split = gpu_freqs.size() > 1;
  // Columns, each scaled to the reference clocks and context so that every coefficient is in ns:
  // the constant term's memory per level (when split) and work; per growing term k its memory
  // (when split) and work, times phi_k(ctx) / phi_k(ctx_ref).
  const Eigen::Index const_cols = split ? L + 1 : 1, per_term = split ? 2 : 1;
  const Eigen::Index cols = const_cols + (K - 1) * per_term;
  const auto ref_phi = context_basis(phase, ctx_ref);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(samples.size()), cols);
  Eigen::VectorXd b(A.rows());
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    const auto& s = samples[i];
    const double work = f_ref / s.clocks.gpu_hz, memory = emc_ref / s.clocks.emc_hz;
    if (split) A(r, static_cast<Eigen::Index>(nearest_emc_level(emc_levels, s.clocks.emc_hz))) = 1.0;
    A(r, const_cols - 1) = work;
    const auto phi = context_basis(phase, s.ctx);
    for (Eigen::Index k = 1; k < K; ++k) {
      const double scale = phi[static_cast<size_t>(k)] / ref_phi[static_cast<size_t>(k)];
      const Eigen::Index c = const_cols + (k - 1) * per_term;
      A(r, c) = scale * work;
      if (split) A(r, c + 1) = scale * memory;
    }
    b(r) = s.ns;
  }
  const Eigen::VectorXd x = fit::solve_nnls(A, b).x;

  ContextGpuCurve out;
  out.terms.resize(static_cast<size_t>(K));
  for (auto& t : out.terms) {
    t.emc_hz.assign(emc_levels.begin(), emc_levels.end());
    t.memory_ns.assign(emc_levels.size(), 0.0);
  }
  GpuCurve& constant = out.terms.front();
  constant.work_ns_hz = x(const_cols - 1) * f_ref;
  if (split) {
    for (Eigen::Index l = 0; l < L; ++l) constant.memory_ns[static_cast<size_t>(l)] = x(l);
    fill_unsampled_levels(constant, seen);
  }
  for (Eigen::Index k = 1; k < K; ++k) {
    GpuCurve& t = out.terms[static_cast<size_t>(k)];
    const double per_phi = 1.0 / ref_phi[static_cast<size_t>(k)];
    const Eigen::Index c = const_cols + (k - 1) * per_term;
    t.work_ns_hz = x(c) * f_ref * per_phi;
    if (split)
      for (size_t l = 0; l < t.memory_ns.size(); ++l)
        t.memory_ns[l] = x(c + 1) * per_phi * emc_ref / t.emc_hz[l];
  }
  return out;
}

}  // namespace flame::model
