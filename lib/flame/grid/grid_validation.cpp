#include "flame/grid/grid_validation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "flame/grid/sampling_plan.hpp"
#include "flame/search/greedy_search.hpp"

namespace flame::grid {
namespace {

using Key = std::tuple<double, int, double, double>;
Key key(const Clocks& c) {
  return {c.cpu_khz, c.cpu_cores, c.gpu_hz, c.emc_hz};
}

struct SeriesData {
  std::string name;
  std::vector<Point> all;   // every point of the series
  std::vector<Point> eval;  // the points the full-profile screen kept (repeat glitches removed)
};

// Per-row errors of a predictor over points (each row is one measurement).
template <typename Predict>
ModelErrors errors_over(const std::vector<SeriesData>& series, bool use_eval, const Dataset& d,
                        Predict&& predict) {
  std::vector<double> lat, pw;
  for (size_t s = 0; s < series.size(); ++s)
    for (const Point& p : use_eval ? series[s].eval : series[s].all) {
      const Estimate e = predict(s, p.clocks);
      for (size_t r : p.rows) {
        lat.push_back(fit::ape_pct(e.latency_ms, d.samples[r].latency_ms));
        if (d.samples[r].power_w && e.power_w > 0)
          pw.push_back(fit::ape_pct(e.power_w, *d.samples[r].power_w));
      }
    }
  ModelErrors m;
  m.latency = fit::summarize_ape(lat);
  if (!pw.empty()) m.power = fit::summarize_ape(pw);
  return m;
}

ModelErrors model_errors(const std::vector<SeriesData>& series, const GridModel& model, bool use_eval,
                         const Dataset& d) {
  return errors_over(series, use_eval, d,
                     [&](size_t s, const Clocks& c) { return model.find(series[s].name).estimate(c); });
}

// The profiled point at (or nearest to) the maximum clocks.
const Point& top_point(const std::vector<Point>& pts, const ClockLevels& L) {
  const Clocks top = L.max();
  auto gap = [&](const Clocks& c) {
    auto rel = [](double a, double b) { return b > 0 ? std::abs(a - b) / b : 0.0; };
    return rel(c.cpu_khz, top.cpu_khz) + rel(c.gpu_hz, top.gpu_hz) + rel(c.emc_hz, top.emc_hz) +
           std::abs(c.cpu_cores - top.cpu_cores);
  };
  return *std::min_element(pts.begin(), pts.end(),
                           [&](const Point& a, const Point& b) { return gap(a.clocks) < gap(b.clocks); });
}

}  // namespace

GridValidation validate_grid(const Dataset& d, const GridValidationOptions& o) {
  GridValidation v;
  v.path = d.path;
  v.format = to_string(d.format);
  v.rows = d.samples.size();
  v.dropped = d.dropped;
  v.skipped = d.skipped;
  v.skipped_reason = d.skipped_reason;

  const std::vector<Point> all = group_points(d);
  v.points = all.size();
  std::set<Key> combo_set;
  std::vector<Clocks> combos;
  for (const auto& p : all)
    if (combo_set.insert(key(p.clocks)).second) combos.push_back(p.clocks);
  v.combos = combos.size();
  v.series = series_names(d).size();
  const ClockLevels L = ClockLevels::of(combos);
  const ClockReference ref = reference_of(L);

  // The evaluation set: every point, less what a robust fit to the whole profile shows to be a glitch.
  // That fit is also the form's floor.
  std::vector<SeriesData> series;
  GridModel floor_model;
  floor_model.levels = L;
  for (const std::string& name : series_names(d)) {
    SeriesData sd{name, {}, {}};
    for (const auto& p : all)
      if (p.series == name) sd.all.push_back(p);
    SeriesModel fm = fit_series(name, sd.all, ref, o.seed, GridFitOptions{}.robust_scale);
    const ScreenResult sr = screen_points(sd.all, d, ref, ScreenOptions{}, &fm.latency);
    for (size_t i = 0; i < sr.points.size(); ++i)
      if (sr.keep[i]) sd.eval.push_back(sr.points[i]);
    for (const auto& e : sr.excluded) v.excluded_eval.push_back({name, sr.points[e.point].clocks, e.reason});
    for (const auto& r : sr.excluded_rows) v.excluded_eval_rows.push_back(r.reason);
    floor_model.series.push_back(std::move(fm));
    series.push_back(std::move(sd));
  }

  // Combinations the screen flagged in at least half of the series are glitches of the clock
  // setting itself (not of one run): the sparse profile is drawn from the others.
  std::vector<Clocks> glitched;
  {
    std::map<Key, size_t> flagged;
    for (const auto& e : v.excluded_eval) ++flagged[key(e.clocks)];
    for (const auto& c : combos)
      if (auto it = flagged.find(key(c)); it != flagged.end() && 2 * it->second >= series.size())
        glitched.push_back(c);
  }
  v.avoided = glitched.size();

  // The main fit, from the planned sparse profile.
  GridFitOptions fo;
  fo.budget = o.budget;
  fo.seed = o.seed;
  fo.avoid = glitched;
  const GridFit fit = fit_grid_model(d, fo);
  v.profiled = fit.profiled.size();
  v.excluded_profiled = fit.excluded;
  v.free_parameters = fit.free_parameters;

  v.model = model_errors(series, fit.model, true, d);
  v.model_all = model_errors(series, fit.model, false, d);
  if (o.floor) v.floor = model_errors(series, floor_model, true, d);

  // Baselines from the same profiled points.
  {
    std::vector<Estimate> fixed;
    std::vector<Clocks> fixed_at;
    std::vector<CoupledLatency> sum, max;
    for (size_t s = 0; s < fit.fitted_points.size(); ++s) {
      const auto& pts = fit.fitted_points[s];
      const Point& top = top_point(pts, L);
      fixed.push_back({top.latency_ms, top.power_w.value_or(0)});
      fixed_at.push_back(top.clocks);
      std::vector<Clocks> cs;
      std::vector<double> ts;
      for (const auto& p : pts) cs.push_back(p.clocks), ts.push_back(p.latency_ms);
      LatencyFitOptions lo;
      lo.seed = o.seed;
      lo.robust_scale = fo.robust_scale;
      lo.coupling = Coupling::Sum;
      sum.push_back(fit_latency(cs, ts, ref, lo).model);
      lo.coupling = Coupling::Max;
      max.push_back(fit_latency(cs, ts, ref, lo).model);
    }
    auto index_of = [&](size_t s) {  // series index in the fit (same order as series_names)
      for (size_t i = 0; i < fit.model.series.size(); ++i)
        if (fit.model.series[i].name == series[s].name) return i;
      throw std::logic_error("validation: series without a fit");
    };
    v.baselines["fixed_max"] =
        errors_over(series, true, d, [&](size_t s, const Clocks&) { return fixed[index_of(s)]; });
    // Analytic scaling: latency proportional to the period of the clock that varies most in the
    // profile (the GPU clock when it varies), from the profile at the maximum clocks.
    const int domain = L.gpu_varies() ? 1 : L.cpu_varies() ? 0 : 2;
    v.baselines["scaling_1f"] = errors_over(series, true, d, [&](size_t s, const Clocks& c) {
      const size_t i = index_of(s);
      const Clocks& at = fixed_at[i];
      const double r = domain == 1   ? at.gpu_hz / c.gpu_hz
                       : domain == 0 ? at.cpu_khz / c.cpu_khz
                                     : at.emc_hz / c.emc_hz;
      return Estimate{fixed[i].latency_ms * (std::isfinite(r) && r > 0 ? r : 1), 0};
    });
    v.baselines["sum"] = errors_over(series, true, d, [&](size_t s, const Clocks& c) {
      return Estimate{sum[index_of(s)].latency_ms(c), 0};
    });
    v.baselines["max"] = errors_over(series, true, d, [&](size_t s, const Clocks& c) {
      return Estimate{max[index_of(s)].latency_ms(c), 0};
    });
  }

  // Error versus budget.
  for (size_t b : o.curve) {
    if (b >= combos.size()) continue;
    if (b < min_plan_budget(L)) continue;
    GridFitOptions co = fo;
    co.budget = b;
    const GridFit f = fit_grid_model(d, co);
    v.curve.push_back({b, model_errors(series, f.model, true, d)});
  }

  // Profiling cost of the planned combinations versus the whole grid.
  {
    std::set<Key> prof;
    for (const auto& c : fit.profiled) prof.insert(key(c));
    for (const auto& s : d.samples) {
      v.grid_cost_s += s.cost_ms / 1e3;
      if (prof.count(key(s.clocks))) v.profiled_cost_s += s.cost_ms / 1e3;
    }
  }

  // Deadline decisions: greedy search on the fitted model, judged by the measurements.
  if (o.deadlines.empty()) {
    v.deadlines_note = "no --deadlines given";
  } else if (!d.has_power()) {
    v.deadlines_note = "the file has no power, so no energy to compare";
  } else if (L.full_size() != combos.size() || L.cpu_khz.front() <= 0 || L.gpu_hz.front() <= 0 ||
             L.emc_hz.front() <= 0) {
    v.deadlines_note =
        "the clock combinations are not a complete grid, so a chosen setting may have no measurement";
  } else {
    DeadlineEvaluation de;
    double sum_oracle = 0, sum_max = 0;
    double margin_sum = 0;
    for (const auto& sd : series) {
      const SeriesModel& model = fit.model.find(sd.name);
      const double margin = o.safety_margin >= 0 ? o.safety_margin : model.suggested_margin();
      margin_sum += margin;
      for (int cores : L.cores) {
        std::vector<const Point*> pts;
        for (const auto& p : sd.eval)  // glitches are no ground truth for a decision
          if (p.clocks.cpu_cores == cores) pts.push_back(&p);
        if (pts.empty()) continue;
        auto energy = [](const Point* p) { return p->latency_ms * p->power_w.value_or(0); };
        double fastest = std::numeric_limits<double>::infinity();
        const Point* at_max = nullptr;
        for (const Point* p : pts) {
          fastest = std::min(fastest, p->latency_ms);
          if (p->clocks.cpu_khz == L.cpu_khz.back() && p->clocks.gpu_hz == L.gpu_hz.back() &&
              p->clocks.emc_hz == L.emc_hz.back())
            at_max = p;
        }
        const ClockGrid grid{L.cpu_khz, cores > 0 ? std::vector<int>{cores} : std::vector<int>{}, L.gpu_hz,
                             L.emc_hz};
        const search::Predictor predict = [&](const Clocks& c) { return model.estimate(c); };
        for (double mult : o.deadlines) {
          const double deadline = mult * fastest;
          const Point* oracle = nullptr;
          for (const Point* p : pts)
            if (p->latency_ms <= deadline && (!oracle || energy(p) < energy(oracle))) oracle = p;
          if (!oracle) {
            ++de.oracle_infeasible;
            continue;
          }
          const search::SearchResult r = search::greedy_search(grid, predict, deadline / (1 + margin));
          const Point* chosen = nullptr;
          for (const Point* p : pts)
            if (p->clocks == r.clocks) chosen = p;
          if (!chosen) {  // the choice has no trustworthy measurement (a glitch was screened out)
            ++de.unmeasured;
            continue;
          }
          ++de.decisions;
          de.infeasible += !r.feasible;
          de.met += chosen->latency_ms <= deadline;
          const double ratio = energy(chosen) / energy(oracle);
          sum_oracle += ratio;
          de.worst_vs_oracle = std::max(de.worst_vs_oracle, ratio);
          if (at_max) sum_max += energy(chosen) / energy(at_max);
        }
      }
    }
    if (de.decisions) {
      de.met_pct = 100.0 * static_cast<double>(de.met) / static_cast<double>(de.decisions);
      de.energy_vs_oracle = sum_oracle / static_cast<double>(de.decisions);
      de.energy_vs_max = sum_max / static_cast<double>(de.decisions);
      de.margin = margin_sum / static_cast<double>(series.size());
      v.deadlines = de;
    } else {
      v.deadlines_note = "no deadline could be evaluated";
    }
  }
  return v;
}

}  // namespace flame::grid
