#include "flame/grid/latency_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>

#include "flame/grid/detail/least_squares.hpp"

namespace flame::grid {
namespace {

constexpr double kMaxExponent = 64;  // p-norms above this are a plain max

double ratio(double ref, double f) {
  return (ref > 0 && f > 0) ? ref / f : 1.0;
}

size_t core_index(const ClockReference& ref, int cores) {
  if (ref.cores.empty() || cores <= 0) return ref.cores.empty() ? 0 : ref.cores.size() - 1;
  size_t best = 0;
  for (size_t i = 1; i < ref.cores.size(); ++i)
    if (std::abs(ref.cores[i] - cores) < std::abs(ref.cores[best] - cores)) best = i;
  return best;
}

double factor(const std::vector<double>& per_core, size_t i) {
  return i < per_core.size() ? per_core[i] : 1.0;
}

// ---- parameterisation -------------------------------------------------------------------------
// Every parameter lives in an unconstrained slot: coefficients as logs, exponents as log(p - 1),
// the background load as a bounded logit. Inactive slots keep neutral values.

enum Slot : int {
  kLaunch,
  kMemoryStall,
  kBackground,
  kGpu,
  kMemory,
  kRoofline,
  kDeviceFixed,
  kSerial,
  kSerialFixed,
  kCoupling,
  kParallel,  // Amdahl: share of launch work that parallelises over cores
  kFixedSlots
};

struct Layout {
  std::vector<int> cores;  // core options
  size_t n_cores = 0;  // core options; one multiplier slot per option except the reference (the most cores)
  double background_bound = 0;
  size_t size() const { return kFixedSlots + 2 * (n_cores > 0 ? n_cores - 1 : 0); }
  size_t launch_core(size_t i) const { return kFixedSlots + i; }
  size_t serial_core(size_t i) const { return kFixedSlots + (n_cores - 1) + i; }
};

double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}
double exponent_of(double theta) {
  return 1 + std::exp(std::min(theta, 6.0));
}

LatencyParams decode(const Eigen::VectorXd& t, const Layout& L) {
  LatencyParams p;
  p.launch = std::exp(t[kLaunch]);
  p.memory_stall = std::exp(t[kMemoryStall]);
  p.background = L.background_bound * sigmoid(t[kBackground]);
  p.gpu = std::exp(t[kGpu]);
  p.memory = std::exp(t[kMemory]);
  p.roofline = exponent_of(t[kRoofline]);
  p.device_fixed = std::exp(t[kDeviceFixed]);
  p.serial = std::exp(t[kSerial]);
  p.serial_fixed = std::exp(t[kSerialFixed]);
  p.coupling = exponent_of(t[kCoupling]);
  if (L.n_cores > 1) {
    // Launch work follows Amdahl's law over the online cores, times a per-option deviation that a
    // tight prior keeps near 1 unless the data insists.
    const double par = sigmoid(t[kParallel]), nref = L.cores.back();
    for (size_t i = 0; i + 1 < L.n_cores; ++i) {
      const double amdahl = (1 - par) + par * nref / std::max(1, L.cores[i]);
      p.launch_cores.push_back(amdahl * std::exp(t[L.launch_core(i)]));
      p.serial_cores.push_back(std::exp(t[L.serial_core(i)]));
    }
    p.launch_cores.push_back(1);
    p.serial_cores.push_back(1);
  }
  return p;
}

constexpr double kOff = -40;  // exp(-40): a coefficient that is switched off

struct SlotInfo {
  std::string name;
  double neutral;              // value while inactive
  double prior_mu, prior_tau;  // weak prior (tau = 0: none)
  bool log_coefficient;        // initialised around the latency scale
};

SlotInfo info(size_t slot, const Layout& L) {
  switch (slot) {
    case kLaunch:
      return {"launch", kOff, 0, 0, true};
    case kMemoryStall:
      return {"memory_stall", kOff, 0, 0, false};
    case kBackground:
      return {"background", kOff, -2, 2, false};
    case kGpu:
      return {"gpu", kOff, 0, 0, true};
    case kMemory:
      return {"memory", kOff, 0, 0, true};
    case kRoofline:
      return {"roofline", std::log(3.0), std::log(3.0), 1.5, false};
    case kDeviceFixed:
      return {"device_fixed", kOff, 0, 0, true};
    case kSerial:
      return {"serial", kOff, 0, 0, true};
    case kSerialFixed:
      return {"serial_fixed", kOff, 0, 0, true};
    case kCoupling:
      return {"coupling", std::log(3.0), std::log(0.2), 0.5, false};
    case kParallel:
      return {"parallel_share", -40, 0, 3, false};
    default:
      break;
  }
  const bool launch = slot < L.serial_core(0);
  return {launch ? "launch_cores" : "serial_cores", 0, 0, launch ? 0.3 : 0.5, false};
}

// Which slots the data can determine, most important first.
std::vector<size_t> candidate_slots(const std::vector<Clocks>& clocks, const ClockReference& ref,
                                    const Layout& L, Coupling coupling) {
  std::set<double> cpu, gpu, emc;
  std::set<int> cores;
  for (const auto& c : clocks)
    cpu.insert(c.cpu_khz), gpu.insert(c.gpu_hz), emc.insert(c.emc_hz), cores.insert(c.cpu_cores);
  const bool vc = cpu.size() > 1 && ref.cpu_khz > 0, vg = gpu.size() > 1 && ref.gpu_hz > 0,
             ve = emc.size() > 1 && ref.emc_hz > 0, vn = cores.size() > 1 && L.n_cores > 1;
  const bool host = vc || vn;
  std::vector<size_t> s;
  if (vg) s.push_back(kGpu);
  if (host) s.push_back(kLaunch);
  if (vg || ve) s.push_back(kMemory);
  if (host && (vg || ve) && coupling == Coupling::SmoothMax) s.push_back(kCoupling);
  if (vc) s.push_back(kSerial);
  if (vg) s.push_back(kRoofline);  // needs both compute (GPU) and memory terms
  if (ve && host) s.push_back(kMemoryStall);
  if (vn && host) s.push_back(kParallel);
  s.push_back(kSerialFixed);
  if (vn)
    for (size_t i = 0; i + 1 < L.n_cores; ++i) s.push_back(L.launch_core(i));
  if (vc && cpu.size() >= 3 && host) s.push_back(kBackground);
  if (vg || ve) s.push_back(kDeviceFixed);
  if (vn)
    for (size_t i = 0; i + 1 < L.n_cores; ++i) s.push_back(L.serial_core(i));
  return s;
}

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

double pnorm(double a, double b, double p) {
  const double m = std::max(a, b);
  if (m <= 0) return 0;
  if (p >= kMaxExponent) return m;
  if (p == 1) return a + b;
  return m * std::pow(std::pow(a / m, p) + std::pow(b / m, p), 1 / p);
}

CoupledLatency::CoupledLatency(ClockReference ref, LatencyParams p) : ref_(std::move(ref)), p_(std::move(p)) {
  const size_t k = ref_.cores.size();
  auto check = [&](const std::vector<double>& v, const char* what) {
    if (!v.empty() && v.size() != k)
      throw std::invalid_argument(std::string("latency model: ") + what +
                                  " needs one factor per core option");
  };
  check(p_.launch_cores, "launch_cores");
  check(p_.serial_cores, "serial_cores");
}

CoupledLatency::Parts CoupledLatency::parts(const Clocks& c) const {
  const double rc = ratio(ref_.cpu_khz, c.cpu_khz), rg = ratio(ref_.gpu_hz, c.gpu_hz),
               re = ratio(ref_.emc_hz, c.emc_hz);
  const double n = c.cpu_cores > 0 ? c.cpu_cores : (ref_.cores.empty() ? 1 : ref_.cores.back());
  const size_t ci = core_index(ref_, c.cpu_cores);
  const double stall = 1 + p_.memory_stall * re;
  // A background load leaves (1 - phi * rc / n) of the CPU to this work; never below 5 % so that
  // clocks outside the fitted range cannot divide by zero.
  const double capacity = std::max(0.05, 1 - p_.background * rc / n);
  Parts out;
  out.host = p_.launch * factor(p_.launch_cores, ci) * rc / capacity * stall;
  out.device = pnorm(p_.gpu * rg, p_.memory * re, p_.roofline) + p_.device_fixed;
  out.serial = (p_.serial * rc + p_.serial_fixed) * factor(p_.serial_cores, ci) * stall;
  out.total = pnorm(out.host, out.device, p_.coupling) + out.serial;
  return out;
}

size_t parameter_budget(size_t points) {
  // Tiny sweeps (a handful of clocks along one domain) interpolate exactly; larger samples keep
  // residual degrees of freedom so that noise is averaged rather than fitted.
  if (points <= 5) return points;
  return std::max<size_t>(5, points / 2);
}

LatencyFit fit_latency(const std::vector<Clocks>& clocks, const std::vector<double>& latency_ms,
                       const ClockReference& ref, const LatencyFitOptions& options) {
  if (clocks.size() != latency_ms.size() || clocks.empty())
    throw std::invalid_argument("latency fit: need as many latencies as clock combinations, at least one");
  for (double t : latency_ms)
    if (!(t > 0) || !std::isfinite(t)) throw std::invalid_argument("latency fit: latencies must be positive");

  Layout L;
  L.cores = ref.cores;
  L.n_cores = ref.cores.size() > 1 ? ref.cores.size() : 0;
  double fmin = ref.cpu_khz;
  for (const auto& c : clocks)
    if (c.cpu_khz > 0) fmin = std::min(fmin, c.cpu_khz);
  const double nmin = ref.cores.empty() || ref.cores.front() <= 0 ? 1 : ref.cores.front();
  L.background_bound = ref.cpu_khz > 0 ? 0.8 * nmin * fmin / ref.cpu_khz : 0;

  std::vector<size_t> active = candidate_slots(clocks, ref, L, options.coupling);
  std::set<std::tuple<double, int, double, double>> combos;
  for (const auto& c : clocks) combos.insert({c.cpu_khz, c.cpu_cores, c.gpu_hz, c.emc_hz});
  const size_t budget = options.max_parameters ? options.max_parameters : parameter_budget(combos.size());
  if (active.size() > budget) active.resize(budget);
  if (active.empty()) active.push_back(kSerialFixed);

  Eigen::VectorXd theta0(L.size());
  for (size_t i = 0; i < L.size(); ++i) theta0[i] = info(i, L).neutral;
  if (options.coupling == Coupling::Sum) theta0[kCoupling] = -40;  // p = 1
  if (options.coupling == Coupling::Max) theta0[kCoupling] = 6;    // p saturates to a max
  const bool has_host = std::find(active.begin(), active.end(), size_t(kLaunch)) != active.end();
  if (options.coupling == Coupling::Max && has_host) theta0[kCoupling] = 6;

  std::vector<double> log_t(latency_ms.size());
  for (size_t i = 0; i < latency_ms.size(); ++i) log_t[i] = std::log(latency_ms[i]);
  std::vector<double> sorted = latency_ms;
  std::sort(sorted.begin(), sorted.end());
  const double scale = std::log(sorted[sorted.size() / 2]);

  // Weak priors on the shape parameters only, scaled so that they matter when the data is silent.
  constexpr double kPriorWeight = 0.02;
  std::vector<std::pair<size_t, SlotInfo>> priors;
  for (size_t s : active)
    if (info(s, L).prior_tau > 0) priors.push_back({s, info(s, L)});

  const size_t m = clocks.size() + priors.size();
  const double robust = options.robust_scale;
  auto residuals = [&](const Eigen::VectorXd& free, Eigen::VectorXd& r) {
    Eigen::VectorXd t = theta0;
    for (size_t j = 0; j < active.size(); ++j) t[active[j]] = free[j];
    const CoupledLatency model(ref, decode(t, L));
    for (size_t i = 0; i < clocks.size(); ++i) {
      const double pred = model.latency_ms(clocks[i]);
      double z = pred > 0 ? std::log(pred) - log_t[i] : 50.0;
      if (robust > 0) z = std::copysign(robust * std::sqrt(std::log1p((z / robust) * (z / robust))), z);
      r[i] = z;
    }
    for (size_t j = 0; j < priors.size(); ++j)
      r[clocks.size() + j] =
          kPriorWeight * (t[priors[j].first] - priors[j].second.prior_mu) / priors[j].second.prior_tau;
  };

  std::mt19937_64 rng(options.seed);
  const size_t n = clocks.size();
  const int starts = options.starts > 0 ? options.starts : (n <= 64 ? 48 : n <= 256 ? 24 : 12);
  std::vector<std::pair<double, Eigen::VectorXd>> candidates;
  for (int s = 0; s < starts; ++s) {
    Eigen::VectorXd x(active.size());
    for (size_t j = 0; j < active.size(); ++j) {
      const SlotInfo si = info(active[j], L);
      const double u = uniform01(rng);
      if (si.log_coefficient)
        x[j] = scale - 4 + 4 * u;
      else if (active[j] == kMemoryStall)
        x[j] = -3 + 4 * u;
      else if (active[j] == kCoupling || active[j] == kRoofline)
        x[j] = -4 + 7 * u;  // from nearly a sum (p = 1.02) to nearly a max (p = 21)
      else
        x[j] = si.prior_mu + si.prior_tau * (u - 0.5);
    }
    const auto r = levenberg_marquardt(residuals, x, static_cast<Eigen::Index>(m), {30, 1e-10, 1e-3, 1e-6});
    candidates.push_back({r.cost, r.theta});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  LsqResult best;
  best.cost = std::numeric_limits<double>::infinity();
  for (size_t s = 0; s < std::min<size_t>(4, candidates.size()); ++s) {
    const auto r = levenberg_marquardt(residuals, candidates[s].second, static_cast<Eigen::Index>(m),
                                       {300, 1e-12, 1e-3, 1e-6});
    if (r.cost < best.cost) best = r;
  }

  Eigen::VectorXd t = theta0;
  for (size_t j = 0; j < active.size(); ++j) t[active[j]] = best.theta[j];
  LatencyFit fit;
  fit.model = CoupledLatency(ref, decode(t, L));
  if (options.coupling == Coupling::Sum) {
    LatencyParams p = fit.model.params();
    p.coupling = 1;
    fit.model = CoupledLatency(ref, p);
  } else if (options.coupling == Coupling::Max) {
    LatencyParams p = fit.model.params();
    p.coupling = kMaxExponent;
    fit.model = CoupledLatency(ref, p);
  }
  double ss = 0;
  std::vector<double> absr;
  for (size_t i = 0; i < n; ++i) {
    const double z = std::log(fit.model.latency_ms(clocks[i])) - log_t[i];
    ss += z * z;
    absr.push_back(std::abs(z));
  }
  fit.rms_log_residual = std::sqrt(ss / static_cast<double>(n));
  std::nth_element(absr.begin(), absr.begin() + static_cast<long>(n / 2), absr.end());
  // In-sample residuals understate the error at unseen clocks by about sqrt((n - k) / n).
  const double dof = static_cast<double>(n) - static_cast<double>(active.size());
  fit.residual_sigma = 1.4826 * absr[n / 2] * std::sqrt(static_cast<double>(n) / std::max(1.0, dof));
  fit.points = combos.size();
  std::set<std::string> names;
  for (size_t s : active) names.insert(info(s, L).name);
  fit.free_parameters.assign(names.begin(), names.end());
  fit.coupling = options.coupling;
  return fit;
}

}  // namespace flame::grid
