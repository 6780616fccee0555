#include "flame/model/slm_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace flame::model {

namespace {

// The cache holds one layer-wise model per (phase, context) asked for; a chat moves through
// neighbouring contexts, so a small bound is plenty.
constexpr std::size_t kCachedContexts = 64;

LayerwiseModel materialize(const SlmPhase& p, int ctx, const std::optional<BusyPowerModel>& power) {
  std::vector<GpuCurve> gpu;
  gpu.reserve(p.gpu.size());
  for (const auto& g : p.gpu) gpu.push_back(g.at(p.phase, ctx));
  std::optional<LayerPower> lp;
  if (power) lp = *power;
  return LayerwiseModel(p.names, p.cpu, std::move(gpu), p.costs, std::move(lp));
}

void check_phase(const SlmPhase& p) {
  const auto where = fmt::format("SLM model, {}", phase_name(p.phase));
  if (p.cpu.size() != p.gpu.size())
    throw std::invalid_argument(where + ": host and device curve counts differ");
  if (p.contexts.empty()) throw std::invalid_argument(where + ": no profiled contexts");
  if (!std::is_sorted(p.contexts.begin(), p.contexts.end()) || p.contexts.front() <= 0 ||
      std::adjacent_find(p.contexts.begin(), p.contexts.end()) != p.contexts.end())
    throw std::invalid_argument(where + ": profiled contexts must be positive and strictly ascending");
  const auto k = static_cast<std::size_t>(basis_size(p.phase));
  for (std::size_t i = 0; i < p.gpu.size(); ++i)
    if (p.gpu[i].terms.size() != k)
      throw std::invalid_argument(fmt::format("{}: segment {} has {} device terms, the basis {}", where, i,
                                              p.gpu[i].terms.size(), k));
  // Every term at once: the layer-wise model checks levels, signs and finiteness of each curve.
  std::vector<GpuCurve> all;
  std::vector<CpuCurve> cpu;
  for (std::size_t i = 0; i < p.gpu.size(); ++i)
    for (const auto& t : p.gpu[i].terms) all.push_back(t), cpu.push_back(p.cpu[i]);
  try {
    (void)LayerwiseModel({}, std::move(cpu), std::move(all), p.costs);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
}

}  // namespace

SlmModel::SlmModel(std::vector<SlmPhase> phases, std::optional<BusyPowerModel> power)
    : phases_(std::move(phases)), power_(std::move(power)) {
  if (phases_.empty()) throw std::invalid_argument("SLM model: no phases");
  std::set<ContextPhase> seen;
  for (const auto& p : phases_) {
    if (!seen.insert(p.phase).second)
      throw std::invalid_argument(fmt::format("SLM model: phase {} given twice", phase_name(p.phase)));
    check_phase(p);
  }
  const auto& levels =
      phases_.front().gpu.empty() ? std::vector<double>{} : phases_.front().gpu.front().terms.front().emc_hz;
  for (const auto& p : phases_)
    for (const auto& g : p.gpu)
      if (g.terms.front().emc_hz != levels)
        throw std::invalid_argument("SLM model: both phases must use the same EMC levels");
}

SlmModel::SlmModel(const SlmModel& other) : phases_(other.phases_), power_(other.power_) {}

SlmModel::SlmModel(SlmModel&& other) noexcept
    : phases_(std::move(other.phases_)), power_(std::move(other.power_)) {}

SlmModel& SlmModel::operator=(const SlmModel& other) {
  if (this != &other) *this = SlmModel(other);
  return *this;
}

SlmModel& SlmModel::operator=(SlmModel&& other) noexcept {
  if (this != &other) {
    phases_ = std::move(other.phases_);
    power_ = std::move(other.power_);
    const std::lock_guard lock(cache_mutex_);
    cache_.clear();
  }
  return *this;
}

const SlmPhase* SlmModel::phase(ContextPhase p) const {
  for (const auto& x : phases_)
    if (x.phase == p) return &x;
  return nullptr;
}

std::shared_ptr<const LayerwiseModel> SlmModel::at(ContextPhase p, int ctx) const {
  const SlmPhase* ph = phase(p);
  if (!ph) throw std::out_of_range(fmt::format("the model has no {} phase", phase_name(p)));
  if (ctx < 1 || ctx > ph->max_context())
    throw std::out_of_range(fmt::format(
        "{} context {} is outside what the model serves: 1 to {} ({} times the largest profiled, {})",
        phase_name(p), ctx, ph->max_context(), kContextExtrapolation, ph->contexts.back()));
  const std::lock_guard lock(cache_mutex_);
  const auto key = std::pair{p, ctx};
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (cache_.size() >= kCachedContexts) cache_.clear();
  auto m = std::make_shared<const LayerwiseModel>(materialize(*ph, ctx, power_));
  cache_.emplace(key, m);
  return m;
}

Estimate SlmModel::estimate(const Clocks& clocks, ContextPhase p, int ctx) const {
  return at(p, ctx)->estimate(clocks);
}

SlmModel fit_slm(std::span<const SlmPoint> points, std::span<const double> emc_levels,
                 const std::map<ContextPhase, std::vector<std::string>>& names) {
  if (points.empty()) throw std::invalid_argument("SLM fit: no profiled points");
  std::map<ContextPhase, std::vector<const SlmPoint*>> by_phase;
  for (const auto& p : points) by_phase[p.phase].push_back(&p);
  std::vector<SlmPhase> phases;
  for (const auto& [phase, pts] : by_phase) {
    SlmPhase out;
    out.phase = phase;
    const std::size_t n = pts.front()->point.run.cpu_ns.size();
    std::set<int> contexts;
    for (const auto* p : pts) {
      if (p->point.run.cpu_ns.size() != n || p->point.run.gpu_ns.size() != n)
        throw std::invalid_argument(
            fmt::format("SLM fit, {}: profiles have different segment structures ({} and {} segments)",
                        phase_name(phase), n, p->point.run.cpu_ns.size()));
      if (p->ctx <= 0) throw std::invalid_argument("SLM fit: a profile without a context length");
      contexts.insert(p->ctx);
    }
    if (static_cast<int>(contexts.size()) < basis_size(phase))
      throw std::invalid_argument(fmt::format(
          "SLM fit, {}: the basis {{{}}} needs at least {} profiled context lengths, there are {}",
          phase_name(phase), fmt::join(basis_names(phase), ", "), basis_size(phase), contexts.size()));
    out.contexts.assign(contexts.begin(), contexts.end());
    if (auto it = names.find(phase); it != names.end()) out.names = it->second;
    std::vector<CurveSample> cs(pts.size());
    std::vector<ContextCurveSample> gs(pts.size());
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < pts.size(); ++j) {
        const auto& p = *pts[j];
        cs[j] = {p.point.clocks, p.point.run.cpu_ns[i]};
        gs[j] = {p.point.clocks, static_cast<double>(p.ctx), p.point.run.gpu_ns[i]};
      }
      out.cpu.push_back(fit_cpu_curve(cs));
      out.gpu.push_back(fit_context_gpu_curve(phase, gs, emc_levels));
    }
    std::vector<ProfiledRun> runs;
    for (const auto* p : pts) runs.push_back(p->point.run);
    out.costs = fit_timeline_costs(runs);
    phases.push_back(std::move(out));
  }
  SlmModel latency(std::move(phases), std::nullopt);
  if (!std::all_of(points.begin(), points.end(),
                   [](const SlmPoint& p) { return p.point.power_w.has_value(); }))
    return latency;
  // Power from every run of both phases, each run's busy shares predicted by the latency model.
  std::vector<Clocks> clocks;
  std::vector<Busy> busy;
  std::vector<double> power;
  for (const auto& p : points) {
    clocks.push_back(p.point.clocks);
    busy.push_back(latency.at(p.phase, p.ctx)->busy(p.point.clocks));
    power.push_back(*p.point.power_w);
  }
  return SlmModel(latency.phases(), fit_profiled_power(clocks, busy, power));
}

Estimate SlmLatencyModel::estimate(const Clocks& clocks, const Workload& w) const {
  const auto phase = parse_context_phase(w.phase);
  if (!phase) throw std::invalid_argument(fmt::format("phase \"{}\": give decode or prefill", w.phase));
  return m_.estimate(clocks, *phase, w.ctx);
}

}  // namespace flame::model
