#include "flame/model/detail/busy_power.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "flame/fit/nnls.hpp"

namespace flame::model {

namespace {

constexpr BusyTerm kAll[] = {BusyTerm::One,     BusyTerm::Cores,    BusyTerm::Cpu, BusyTerm::Cpu3,
                             BusyTerm::CpuBusy, BusyTerm::Cpu3Busy, BusyTerm::Gpu, BusyTerm::Gpu3,
                             BusyTerm::GpuBusy, BusyTerm::Gpu3Busy, BusyTerm::Emc, BusyTerm::EmcBusy};

double ratio(double f, double ref) {
  return f > 0 && ref > 0 ? f / ref : 1.0;
}

}  // namespace

std::string to_string(BusyTerm t) {
  switch (t) {
    case BusyTerm::One:
      return "one";
    case BusyTerm::Cores:
      return "cores";
    case BusyTerm::Cpu:
      return "cpu";
    case BusyTerm::Cpu3:
      return "cpu3";
    case BusyTerm::CpuBusy:
      return "cpu*host_busy";
    case BusyTerm::Cpu3Busy:
      return "cpu3*host_busy";
    case BusyTerm::Gpu:
      return "gpu";
    case BusyTerm::Gpu3:
      return "gpu3";
    case BusyTerm::GpuBusy:
      return "gpu*device_busy";
    case BusyTerm::Gpu3Busy:
      return "gpu3*device_busy";
    case BusyTerm::Emc:
      return "emc";
    case BusyTerm::EmcBusy:
      return "emc*memory_busy";
  }
  return "?";
}

BusyTerm busy_term_from(const std::string& name) {
  for (BusyTerm t : kAll)
    if (to_string(t) == name) return t;
  std::string known;
  for (BusyTerm t : kAll) known += (known.empty() ? "" : ", ") + to_string(t);
  throw std::invalid_argument("unknown power term '" + name + "' (known: " + known + ")");
}

BusyPowerModel::BusyPowerModel(grid::ClockReference ref, std::vector<BusyTerm> terms,
                               std::vector<double> weights)
    : ref_(std::move(ref)), terms_(std::move(terms)), weights_(std::move(weights)) {
  if (terms_.size() != weights_.size()) throw std::invalid_argument("power model: one weight per term");
  for (double w : weights_)
    if (!std::isfinite(w) || w < 0)
      throw std::invalid_argument("power model: weights must be finite and >= 0");
  if (!(ref_.cpu_khz > 0 && ref_.gpu_hz > 0 && ref_.emc_hz > 0))
    throw std::invalid_argument("power model: the reference clocks must be positive");
}

double BusyPowerModel::term(BusyTerm t, const Clocks& c, const Busy& b) const {
  const double xc = ratio(c.cpu_khz, ref_.cpu_khz), xg = ratio(c.gpu_hz, ref_.gpu_hz),
               xe = ratio(c.emc_hz, ref_.emc_hz);
  const double n_ref = ref_.cores.empty() ? 0 : ref_.cores.back();
  switch (t) {
    case BusyTerm::One:
      return 1;
    case BusyTerm::Cores:
      return n_ref > 0 && c.cpu_cores > 0 ? c.cpu_cores / n_ref : 1;
    case BusyTerm::Cpu:
      return xc;
    case BusyTerm::Cpu3:
      return xc * xc * xc;
    case BusyTerm::CpuBusy:
      return xc * b.host;
    case BusyTerm::Cpu3Busy:
      return xc * xc * xc * b.host;
    case BusyTerm::Gpu:
      return xg;
    case BusyTerm::Gpu3:
      return xg * xg * xg;
    case BusyTerm::GpuBusy:
      return xg * b.device;
    case BusyTerm::Gpu3Busy:
      return xg * xg * xg * b.device;
    case BusyTerm::Emc:
      return xe;
    case BusyTerm::EmcBusy:
      return xe * b.memory;
  }
  return 0;
}

double BusyPowerModel::power_w(const Clocks& c, const Busy& b) const {
  double p = 0;
  for (size_t i = 0; i < terms_.size(); ++i) p += weights_[i] * term(terms_[i], c, b);
  return p;
}

BusyPowerModel fit_busy_power(const std::vector<Clocks>& clocks, const std::vector<Busy>& busy,
                              const std::vector<double>& power_w, const grid::ClockReference& ref) {
  const size_t n = clocks.size();
  if (n == 0 || busy.size() != n || power_w.size() != n)
    throw std::invalid_argument("power fit: need one busy split and one power per clock combination");
  for (double p : power_w)
    if (!(p > 0) || !std::isfinite(p)) throw std::invalid_argument("power fit: power must be positive");
  std::set<double> cpu, gpu, emc;
  std::set<int> cores;
  for (const auto& c : clocks)
    cpu.insert(c.cpu_khz), gpu.insert(c.gpu_hz), emc.insert(c.emc_hz), cores.insert(c.cpu_cores);
  // A clock that never varies cannot be told apart from the constant: its terms fold into it. x and
  // x³ are nearly collinear over a DVFS range, so with a dozen noisy samples the mix of both can
  // chase the noise: the voltage law (x, x³ or both) is chosen by leave-one-out error.
  enum Law { Flat = 1, Cubic = 2, Both = 3 };
  auto terms_for = [&](int law) {
    std::vector<BusyTerm> t{BusyTerm::One};
    if (cores.size() > 1 && !ref.cores.empty()) t.push_back(BusyTerm::Cores);
    if (cpu.size() > 1) {
      if (law & Flat) t.insert(t.end(), {BusyTerm::Cpu, BusyTerm::CpuBusy});
      if (law & Cubic) t.insert(t.end(), {BusyTerm::Cpu3, BusyTerm::Cpu3Busy});
    }
    if (gpu.size() > 1) {
      if (law & Flat) t.insert(t.end(), {BusyTerm::Gpu, BusyTerm::GpuBusy});
      if (law & Cubic) t.insert(t.end(), {BusyTerm::Gpu3, BusyTerm::Gpu3Busy});
    }
    if (emc.size() > 1) t.insert(t.end(), {BusyTerm::Emc, BusyTerm::EmcBusy});
    return t;
  };
  // Relative error is what matters (energy ranks by ratios): rows weighted by 1 / measured power.
  auto fit = [&](const std::vector<BusyTerm>& terms, size_t skip) {
    const BusyPowerModel shape(ref, terms, std::vector<double>(terms.size(), 0.0));
    const size_t rows = skip < n ? n - 1 : n;
    Eigen::MatrixXd a(rows, terms.size());
    Eigen::VectorXd y = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(rows));
    for (size_t i = 0, row = 0; i < n; ++i) {
      if (i == skip) continue;
      for (size_t j = 0; j < terms.size(); ++j)
        a(row, j) = shape.term(terms[j], clocks[i], busy[i]) / power_w[i];
      ++row;
    }
    const fit::NnlsResult r = fit::solve_nnls(a, y);
    std::vector<double> w(r.x.data(), r.x.data() + r.x.size());
    for (double& v : w) v = std::max(0.0, v);
    return BusyPowerModel(ref, terms, w);
  };
  std::vector<BusyTerm> best = terms_for(Both);
  if (n > 2) {
    double best_loo = std::numeric_limits<double>::infinity();
    for (int law : {Cubic, Flat, Both}) {  // ties go to the simpler law
      const auto terms = terms_for(law);
      double loo = 0;
      for (size_t i = 0; i < n; ++i)
        loo += std::abs(fit(terms, i).power_w(clocks[i], busy[i]) / power_w[i] - 1);
      if (loo < best_loo * (1 - 1e-9)) best_loo = loo, best = terms;
    }
  }
  return fit(best, n);
}

}  // namespace flame::model
