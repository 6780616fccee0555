#include "flame/model/detail/segment_curves.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "flame/fit/nnls.hpp"

namespace flame::model {
double GpuCurve::at(double gpu_hz, double emc) const {
  double memory = 0;
  if (!emc_hz.empty()) {
    if (emc <= emc_hz.front()) {
      memory = memory_ns.front();
    } else if (emc >= emc_hz.back()) {
      memory = memory_ns.back();
    } else {
      const auto hi =
          static_cast<size_t>(std::upper_bound(emc_hz.begin(), emc_hz.end(), emc) - emc_hz.begin());
      const size_t lo = hi - 1;
      const double t = (1 / emc - 1 / emc_hz[lo]) / (1 / emc_hz[hi] - 1 / emc_hz[lo]);
      memory = memory_ns[lo] + t * (memory_ns[hi] - memory_ns[lo]);
    }
  }
  return memory + work_ns_hz / gpu_hz;
}

namespace {

// The host design matrix, columns scaled by the highest clocks so every coefficient is in ns.
Eigen::MatrixXd host_columns(std::span<const Clocks> clocks, bool with_memory) {
  double cpu_ref = 0, emc_ref = 0;
  for (const auto& c : clocks) cpu_ref = std::max(cpu_ref, c.cpu_khz), emc_ref = std::max(emc_ref, c.emc_hz);
  Eigen::MatrixXd A(static_cast<Eigen::Index>(clocks.size()), with_memory ? 3 : 2);
  for (size_t i = 0; i < clocks.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    A(r, 0) = 1.0;
    A(r, 1) = cpu_ref / clocks[i].cpu_khz;
    if (with_memory) A(r, 2) = emc_ref / clocks[i].emc_hz;
  }
  return A;
}

}  // namespace

bool host_memory_term_identifiable(std::span<const Clocks> clocks) {
  if (clocks.size() < 3) return false;
  for (const auto& c : clocks)
    if (!(c.cpu_khz > 0 && c.emc_hz > 0)) return false;
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(host_columns(clocks, true));
  qr.setThreshold(1e-9);
  return qr.rank() == 3;
}

CpuCurve fit_cpu_curve(std::span<const CurveSample> samples) {
  if (samples.empty()) throw std::invalid_argument("fit_cpu_curve: no samples");
  std::set<double> freqs;
  std::vector<Clocks> clocks;
  double f_ref = 0, emc_ref = 0;
  for (const auto& s : samples) {
    if (!(s.clocks.cpu_khz > 0)) throw std::invalid_argument("fit_cpu_curve: sample without a CPU clock");
    freqs.insert(s.clocks.cpu_khz);
    clocks.push_back(s.clocks);
    f_ref = std::max(f_ref, s.clocks.cpu_khz);
    emc_ref = std::max(emc_ref, s.clocks.emc_hz);
  }
  CpuCurve c;
  if (freqs.size() < 2) {
    double mean = 0;
    for (const auto& s : samples) mean += s.ns * s.clocks.cpu_khz;
    c.work_ns_khz = mean / static_cast<double>(samples.size());
    return c;
  }
  const bool memory = host_memory_term_identifiable(clocks);
  const Eigen::MatrixXd A = host_columns(clocks, memory);
  Eigen::VectorXd b(A.rows());
  for (size_t i = 0; i < samples.size(); ++i) b(static_cast<Eigen::Index>(i)) = samples[i].ns;
  const auto x = fit::solve_nnls(A, b).x;
  c.fixed_ns = x(0);
  c.work_ns_khz = x(1) * f_ref;
  if (memory) c.memory_ns_hz = x(2) * emc_ref;
  return c;
}

void fill_unsampled_levels(GpuCurve& g, std::span<const int> seen) {
  std::vector<size_t> sampled;
  for (size_t l = 0; l < seen.size(); ++l)
    if (seen[l]) sampled.push_back(l);
  if (sampled.empty()) return;
  for (size_t l = 0; l < seen.size(); ++l) {
    if (seen[l]) continue;
    auto hi = std::upper_bound(sampled.begin(), sampled.end(), l);
    if (hi == sampled.begin()) {
      g.memory_ns[l] = g.memory_ns[*hi];
    } else if (hi == sampled.end()) {
      g.memory_ns[l] = g.memory_ns[*(hi - 1)];
    } else {
      const size_t a = *(hi - 1), c = *hi;
      const double t = (1 / g.emc_hz[l] - 1 / g.emc_hz[a]) / (1 / g.emc_hz[c] - 1 / g.emc_hz[a]);
      g.memory_ns[l] = g.memory_ns[a] + t * (g.memory_ns[c] - g.memory_ns[a]);
    }
  }
}

size_t nearest_emc_level(std::span<const double> levels, double hz) {
  size_t best = 0;
  for (size_t i = 1; i < levels.size(); ++i)
    if (std::abs(levels[i] - hz) < std::abs(levels[best] - hz)) best = i;
  return best;
}

GpuCurve fit_gpu_curve(std::span<const CurveSample> samples, std::span<const double> emc_levels) {
  if (samples.empty()) throw std::invalid_argument("fit_gpu_curve: no samples");
  if (emc_levels.empty()) throw std::invalid_argument("fit_gpu_curve: no EMC levels");
  GpuCurve g;
  g.emc_hz.assign(emc_levels.begin(), emc_levels.end());
  g.memory_ns.assign(emc_levels.size(), 0.0);
  std::set<double> gpu_freqs;
  double f_ref = 0;
  std::vector<int> seen(emc_levels.size(), 0);
  for (const auto& s : samples) {
    if (!(s.clocks.gpu_hz > 0)) throw std::invalid_argument("fit_gpu_curve: sample without a GPU clock");
    gpu_freqs.insert(s.clocks.gpu_hz);
    f_ref = std::max(f_ref, s.clocks.gpu_hz);
    ++seen[nearest_emc_level(emc_levels, s.clocks.emc_hz)];
  }
  if (gpu_freqs.size() < 2) {
    // One GPU clock: the compute/memory split is unknown; attribute everything to compute.
    double mean = 0;
    for (const auto& s : samples) mean += s.ns * s.clocks.gpu_hz;
    g.work_ns_hz = mean / static_cast<double>(samples.size());
    return g;
  }
  const auto levels = static_cast<Eigen::Index>(emc_levels.size());
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(samples.size()), levels + 1);
  Eigen::VectorXd b(A.rows());
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    A(r, static_cast<Eigen::Index>(nearest_emc_level(emc_levels, samples[i].clocks.emc_hz))) = 1.0;
    A(r, levels) = f_ref / samples[i].clocks.gpu_hz;
    b(r) = samples[i].ns;
  }
  const auto x = fit::solve_nnls(A, b).x;
  for (Eigen::Index l = 0; l < levels; ++l) g.memory_ns[static_cast<size_t>(l)] = x(l);
  g.work_ns_hz = x(levels) * f_ref;
  fill_unsampled_levels(g, seen);
  return g;
}

}  // namespace flame::model
