#include "flame/grid/power_model.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>

namespace flame::grid {
namespace {

// Clock as a fraction of the reference (1 at the maximum); unknown clocks count as the reference.
double frac(double f, double ref) {
  return (f > 0 && ref > 0) ? f / ref : 1.0;
}

}  // namespace

std::string PowerFeature::name() const {
  switch (kind) {
    case One:
      return "1";
    case Cpu:
      return "cpu";
    case Cpu2:
      return "cpu^2";
    case Cpu3:
      return "cpu^3";
    case Gpu:
      return "gpu";
    case Gpu2:
      return "gpu^2";
    case Gpu3:
      return "gpu^3";
    case CpuGpu:
      return "cpu*gpu";
    case Cpu2Gpu:
      return "cpu^2*gpu";
    case CpuGpu2:
      return "cpu*gpu^2";
    case Emc:
      return "emc";
    case Emc2:
      return "emc^2";
    case EmcCpu:
      return "emc*cpu";
    case EmcGpu:
      return "emc*gpu";
    case Cores:
      return fmt::format("cores={}", cores);
    case CoresCpu:
      return fmt::format("cores={}*cpu", cores);
    case LogLatency:
      return "log_latency";
    case CpuLogLatency:
      return "cpu*log_latency";
    case GpuLogLatency:
      return "gpu*log_latency";
  }
  return "?";
}

PowerFeature PowerFeature::parse(const std::string& n) {
  static const Kind all[] = {One,    Cpu,    Cpu2,       Cpu3,          Gpu,          Gpu2,
                             Gpu3,   CpuGpu, Cpu2Gpu,    CpuGpu2,       Emc,          Emc2,
                             EmcCpu, EmcGpu, LogLatency, CpuLogLatency, GpuLogLatency};
  for (Kind k : all)
    if (PowerFeature{k, 0}.name() == n) return {k, 0};
  if (n.rfind("cores=", 0) == 0) {
    const bool slope = n.size() > 4 && n.compare(n.size() - 4, 4, "*cpu") == 0;
    const std::string digits = n.substr(6, n.size() - 6 - (slope ? 4 : 0));
    if (!digits.empty() && digits.size() < 4 && std::all_of(digits.begin(), digits.end(), ::isdigit) &&
        std::stoi(digits) > 0)
      return {slope ? CoresCpu : Cores, std::stoi(digits)};
  }
  throw std::invalid_argument(fmt::format("unknown power feature '{}'", n));
}

PowerModel::PowerModel(ClockReference ref, double latency_ref_ms, std::vector<PowerFeature> features,
                       std::vector<double> weights)
    : ref_(std::move(ref)),
      latency_ref_(latency_ref_ms),
      features_(std::move(features)),
      weights_(std::move(weights)) {
  if (features_.size() != weights_.size()) throw std::invalid_argument("power model: one weight per feature");
  if (!(latency_ref_ > 0)) throw std::invalid_argument("power model: the latency reference must be positive");
}

double PowerModel::feature(const PowerFeature& f, const Clocks& c, double latency_ms) const {
  const double xc = frac(c.cpu_khz, ref_.cpu_khz), xg = frac(c.gpu_hz, ref_.gpu_hz),
               xe = frac(c.emc_hz, ref_.emc_hz);
  const double ll = std::log(std::max(latency_ms, 1e-9) / latency_ref_);
  switch (f.kind) {
    case PowerFeature::One:
      return 1;
    case PowerFeature::Cpu:
      return xc;
    case PowerFeature::Cpu2:
      return xc * xc;
    case PowerFeature::Cpu3:
      return xc * xc * xc;
    case PowerFeature::Gpu:
      return xg;
    case PowerFeature::Gpu2:
      return xg * xg;
    case PowerFeature::Gpu3:
      return xg * xg * xg;
    case PowerFeature::CpuGpu:
      return xc * xg;
    case PowerFeature::Cpu2Gpu:
      return xc * xc * xg;
    case PowerFeature::CpuGpu2:
      return xc * xg * xg;
    case PowerFeature::Emc:
      return xe;
    case PowerFeature::Emc2:
      return xe * xe;
    case PowerFeature::EmcCpu:
      return xe * xc;
    case PowerFeature::EmcGpu:
      return xe * xg;
    case PowerFeature::Cores:
      return c.cpu_cores == f.cores ? 1 : 0;
    case PowerFeature::CoresCpu:
      return c.cpu_cores == f.cores ? xc : 0;
    case PowerFeature::LogLatency:
      return ll;
    case PowerFeature::CpuLogLatency:
      return xc * ll;
    case PowerFeature::GpuLogLatency:
      return xg * ll;
  }
  return 0;
}

double PowerModel::power_w(const Clocks& c, double latency_ms) const {
  double s = 0;
  for (size_t i = 0; i < features_.size(); ++i) s += weights_[i] * feature(features_[i], c, latency_ms);
  return std::exp(s);
}

PowerFit fit_power(const std::vector<Clocks>& clocks, const std::vector<double>& power_w,
                   const std::vector<double>& latency_ms, const ClockReference& ref) {
  const size_t n = clocks.size();
  if (n == 0 || power_w.size() != n || latency_ms.size() != n)
    throw std::invalid_argument("power fit: need one power and one latency per clock combination");
  for (double p : power_w)
    if (!(p > 0) || !std::isfinite(p)) throw std::invalid_argument("power fit: power must be positive");

  std::set<double> cpu, gpu, emc;
  std::set<int> cores;
  std::set<std::tuple<double, int, double, double>> combos;
  for (const auto& c : clocks) {
    cpu.insert(c.cpu_khz), gpu.insert(c.gpu_hz), emc.insert(c.emc_hz), cores.insert(c.cpu_cores);
    combos.insert({c.cpu_khz, c.cpu_cores, c.gpu_hz, c.emc_hz});
  }
  const bool vc = cpu.size() > 1, vg = gpu.size() > 1, ve = emc.size() > 1,
             vn = cores.size() > 1 && ref.cores.size() > 1;

  // Features the data can determine, most important first, at most one per two combinations (the
  // samples are single noisy measurements); the ridge strength decides how far they are used.
  using F = PowerFeature;
  const bool vl = vc || vg || ve || vn;
  std::vector<F> fs{{F::One, 0}};
  if (vc) fs.push_back({F::Cpu, 0});
  if (vg) fs.push_back({F::Gpu, 0});
  if (ve) fs.push_back({F::Emc, 0});
  if (vn)
    for (size_t i = 0; i + 1 < ref.cores.size(); ++i) fs.push_back({F::Cores, ref.cores[i]});
  if (vg) fs.push_back({F::Gpu2, 0});
  if (vc) fs.push_back({F::Cpu2, 0});
  if (vc && vg) fs.push_back({F::CpuGpu, 0});
  if (vl) fs.push_back({F::LogLatency, 0});
  if (vc) fs.push_back({F::CpuLogLatency, 0});
  if (vc && ve) fs.push_back({F::EmcCpu, 0});
  if (vc && vn)
    for (size_t i = 0; i + 1 < ref.cores.size(); ++i) fs.push_back({F::CoresCpu, ref.cores[i]});
  if (vg) fs.push_back({F::Gpu3, 0});
  if (vc) fs.push_back({F::Cpu3, 0});
  if (vc && vg) fs.push_back({F::Cpu2Gpu, 0}), fs.push_back({F::CpuGpu2, 0});
  if (vg && ve) fs.push_back({F::EmcGpu, 0});
  if (ve) fs.push_back({F::Emc2, 0});
  if (vg && vl) fs.push_back({F::GpuLogLatency, 0});
  const size_t budget = combos.size() <= 3 ? combos.size() : std::max<size_t>(3, combos.size() / 2);
  if (fs.size() > budget) fs.resize(budget);

  std::vector<double> sorted = latency_ms;
  std::sort(sorted.begin(), sorted.end());
  const double lref = sorted[sorted.size() / 2] > 0 ? sorted[sorted.size() / 2] : 1;
  const PowerModel shape(ref, lref, fs, std::vector<double>(fs.size(), 0.0));

  const size_t k = fs.size();
  Eigen::MatrixXd X(n, k);
  Eigen::VectorXd y(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < k; ++j) X(i, j) = shape.feature(fs[j], clocks[i], latency_ms[i]);
    y[i] = std::log(power_w[i]);
  }
  // Ridge on standardised features (never on the intercept); the strength with the lowest
  // leave-one-out error wins (closed form: residual / (1 - leverage)).
  Eigen::VectorXd scale = Eigen::VectorXd::Ones(k);
  for (size_t j = 1; j < k; ++j) {
    const double sd = std::sqrt((X.col(j).array() - X.col(j).mean()).square().mean());
    scale[j] = sd > 1e-12 ? sd : 1;
  }
  const Eigen::MatrixXd Z = X * scale.cwiseInverse().asDiagonal();
  const Eigen::MatrixXd ZtZ = Z.transpose() * Z;
  Eigen::VectorXd best_w;
  double best_loo = std::numeric_limits<double>::infinity();
  // With no point to spare, leave-one-out says nothing: interpolate (almost) exactly.
  const std::vector<double> lambdas =
      n > k + 1 ? std::vector<double>{1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0}
                : std::vector<double>{1e-8};
  for (double lambda : lambdas) {
    Eigen::MatrixXd A = ZtZ;
    for (size_t j = 1; j < k; ++j) A(j, j) += lambda * static_cast<double>(n);
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
    const Eigen::VectorXd wz = ldlt.solve(Z.transpose() * y);
    const Eigen::VectorXd r = Z * wz - y;
    const Eigen::MatrixXd H = Z * ldlt.solve(Z.transpose());
    double loo = 0;
    for (size_t i = 0; i < n; ++i) {
      const double h = std::min(H(i, i), 0.999);
      loo += std::abs(r[i] / (1 - h));
    }
    if (loo < best_loo && wz.allFinite()) best_loo = loo, best_w = wz.cwiseQuotient(scale);
  }
  const Eigen::VectorXd w = best_w;
  PowerFit fit;
  fit.model = PowerModel(ref, lref, fs, std::vector<double>(w.data(), w.data() + w.size()));
  fit.rms_log_residual = std::sqrt((X * w - y).squaredNorm() / static_cast<double>(n));
  return fit;
}

}  // namespace flame::grid
