#include "flame/grid/grid_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "flame/grid/sampling_plan.hpp"

namespace flame::grid {

Estimate SeriesModel::estimate(const Clocks& c) const {
  Estimate e;
  e.latency_ms = latency.latency_ms(c);
  if (power) e.power_w = power->power_w(c, e.latency_ms);
  return e;
}

double SeriesModel::suggested_margin() const {
  return std::clamp(2 * residual_sigma, 0.05, 0.15);
}

const SeriesModel& GridModel::find(const std::string& name) const {
  for (const auto& s : series)
    if (s.name == name) return s;
  std::string known;
  for (const auto& s : series) known += (known.empty() ? "" : ", ") + (s.name.empty() ? "''" : s.name);
  throw std::out_of_range(fmt::format("no series '{}' in the model (known: {})", name, known));
}

ClockReference reference_of(const ClockLevels& l) {
  ClockReference r;
  r.cpu_khz = l.cpu_khz.back();
  r.gpu_hz = l.gpu_hz.back();
  r.emc_hz = l.emc_hz.back();
  if (l.cores.front() > 0) r.cores = l.cores;
  return r;
}

SeriesModel fit_series(const std::string& name, const std::vector<Point>& points, const ClockReference& ref,
                       uint64_t seed, double robust_scale, std::vector<std::string>* free_parameters) {
  std::vector<Clocks> cs;
  std::vector<double> ts, ps;
  bool power = true;
  for (const auto& p : points) {
    cs.push_back(p.clocks);
    ts.push_back(p.latency_ms);
    if (p.power_w)
      ps.push_back(*p.power_w);
    else
      power = false;
  }
  LatencyFitOptions lo;
  lo.seed = seed;
  lo.robust_scale = robust_scale;
  const LatencyFit lf = fit_latency(cs, ts, ref, lo);
  if (free_parameters) *free_parameters = lf.free_parameters;
  SeriesModel s{name, lf.model, std::nullopt, lf.residual_sigma};
  if (power && !ps.empty()) {
    std::vector<double> predicted;
    for (const auto& c : cs) predicted.push_back(lf.model.latency_ms(c));
    s.power = fit_power(cs, ps, predicted, ref).model;
  }
  return s;
}

GridFit fit_grid_model(const Dataset& d, const GridFitOptions& o) {
  const std::vector<Point> all = group_points(d);
  // The plan is over clock combinations; every series (workload) is profiled at each of them.
  std::vector<Clocks> combos;
  {
    std::map<std::tuple<double, int, double, double>, Clocks> u;
    for (const auto& p : all)
      u[{p.clocks.cpu_khz, p.clocks.cpu_cores, p.clocks.gpu_hz, p.clocks.emc_hz}] = p.clocks;
    for (const auto& [k, c] : u) combos.push_back(c);
  }
  const ClockLevels levels = ClockLevels::of(combos);
  const ClockReference ref = reference_of(levels);
  std::vector<Clocks> candidates;
  for (const auto& c : combos)
    if (std::find(o.avoid.begin(), o.avoid.end(), c) == o.avoid.end()) candidates.push_back(c);
  if (candidates.empty()) candidates = combos;
  const std::vector<size_t> pick = plan_samples(candidates, o.budget, o.seed);

  GridFit out;
  for (size_t i : pick) out.profiled.push_back(candidates[i]);
  out.model.levels = levels;
  out.model.dataset = d.path;
  out.model.format = to_string(d.format);
  out.model.budget = o.budget;
  out.model.seed = o.seed;
  out.model.profiled = pick.size();

  for (const std::string& name : series_names(d)) {
    std::vector<Point> pts;
    for (const auto& p : all)
      if (p.series == name &&
          std::find(out.profiled.begin(), out.profiled.end(), p.clocks) != out.profiled.end())
        pts.push_back(p);
    if (pts.empty()) continue;
    if (o.screen) {
      ScreenOptions so = o.screen_options;
      so.seed = o.seed;
      const ScreenResult sr = screen_points(pts, d, ref, so);
      for (const auto& e : sr.excluded) out.excluded.push_back({name, sr.points[e.point].clocks, e.reason});
      for (const auto& r : sr.excluded_rows) out.excluded_rows.push_back(r.reason);
      std::vector<Point> kept;
      for (size_t i = 0; i < sr.points.size(); ++i)
        if (sr.keep[i]) kept.push_back(sr.points[i]);
      if (!kept.empty()) pts = kept;
    }
    out.model.series.push_back(fit_series(name, pts, ref, o.seed, o.robust_scale, &out.free_parameters));
    out.fitted_points.push_back(std::move(pts));
  }
  if (out.model.series.empty()) throw std::invalid_argument("grid fit: no series to fit");
  return out;
}

}  // namespace flame::grid
