#include "flame/grid/detail/glitch_screen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "flame/fit/median.hpp"
#include "flame/grid/sampling_plan.hpp"

namespace flame::grid {
namespace {

std::string describe(const Clocks& c) {
  std::string s;
  if (c.cpu_khz > 0) s += fmt::format("CPU {:.0f} MHz", c.cpu_khz / 1e3);
  if (c.cpu_cores > 0) s += fmt::format("{}x{}", s.empty() ? "" : " ", c.cpu_cores);
  if (c.gpu_hz > 0) s += fmt::format("{}GPU {:.0f} MHz", s.empty() ? "" : ", ", c.gpu_hz / 1e6);
  if (c.emc_hz > 0) s += fmt::format("{}EMC {:.0f} MHz", s.empty() ? "" : ", ", c.emc_hz / 1e6);
  return s;
}

// The one domain in which a and b differ (0 cpu, 1 gpu, 2 emc), or -1.
int single_difference(const Clocks& a, const Clocks& b) {
  if (a.cpu_cores != b.cpu_cores) return -1;
  const bool dc = a.cpu_khz != b.cpu_khz, dg = a.gpu_hz != b.gpu_hz, de = a.emc_hz != b.emc_hz;
  if (dc + dg + de != 1) return -1;
  return dc ? 0 : dg ? 1 : 2;
}

double clock_of(const Clocks& c, int domain) {
  return domain == 0 ? c.cpu_khz : domain == 1 ? c.gpu_hz : c.emc_hz;
}
const char* domain_name(int domain) {
  return domain == 0 ? "CPU" : domain == 1 ? "GPU" : "EMC";
}

}  // namespace

ScreenResult screen_points(const std::vector<Point>& points, const Dataset& d, const ClockReference& ref,
                           const ScreenOptions& o, const CoupledLatency* fitted) {
  ScreenResult out;
  out.points = points;
  out.keep.assign(points.size(), true);

  // 1. Repeats.
  for (size_t i = 0; i < out.points.size(); ++i) {
    Point& p = out.points[i];
    if (p.rows.size() < 2) continue;
    std::vector<double> lat;
    for (size_t r : p.rows) lat.push_back(d.samples[r].latency_ms);
    const double m = fit::median(lat);
    if (p.rows.size() == 2) {
      const double spread = std::abs(lat[0] - lat[1]) / std::min(lat[0], lat[1]);
      if (spread > o.repeat_tolerance) {
        out.keep[i] = false;
        out.excluded.push_back(
            {i, fmt::format("{}: its two repeats disagree by {:.0f}% ({:.1f} vs {:.1f} ms)",
                            describe(p.clocks), spread * 100, lat[0], lat[1])});
      }
      continue;
    }
    std::vector<size_t> kept;
    for (size_t r : p.rows) {
      const double dev = d.samples[r].latency_ms / m - 1;
      if (std::abs(dev) > o.repeat_tolerance)
        out.excluded_rows.push_back(
            {r, fmt::format("line {}: repeat {:.1f} ms is {:+.0f}% from the median of its "
                            "{} repeats at {}",
                            d.samples[r].line, d.samples[r].latency_ms, dev * 100, p.rows.size(),
                            describe(p.clocks))});
      else
        kept.push_back(r);
    }
    if (kept.size() != p.rows.size() && !kept.empty()) {
      p.rows = kept;
      std::vector<double> l2, p2;
      for (size_t r : kept) {
        l2.push_back(d.samples[r].latency_ms);
        if (d.samples[r].power_w) p2.push_back(*d.samples[r].power_w);
      }
      p.latency_ms = fit::median(l2);
      if (!p2.empty()) p.power_w = fit::median(p2);
    }
  }

  // 2. A robust fit to the points still kept, for residuals (unless the caller has one).
  std::vector<size_t> idx;
  for (size_t i = 0; i < out.points.size(); ++i)
    if (out.keep[i]) idx.push_back(i);
  CoupledLatency model;
  bool have_model = false;
  if (fitted) {
    model = *fitted;
    have_model = true;
  } else {
    std::vector<Clocks> cs;
    std::vector<double> ts;
    for (size_t i : idx) cs.push_back(out.points[i].clocks), ts.push_back(out.points[i].latency_ms);
    // Residuals only mean something when the fit has points to spare.
    if (cs.size() >= 4 && cs.size() > std::min(min_plan_budget(ClockLevels::of(cs)), cs.size() - 1)) {
      LatencyFitOptions fo;
      fo.robust_scale = 0.05;
      fo.seed = o.seed;
      model = fit_latency(cs, ts, ref, fo).model;
      have_model = true;
    }
  }
  std::vector<double> resid(out.points.size(), 0.0);
  double sigma = 0;
  if (have_model) {
    std::vector<double> absr;
    for (size_t i : idx) {
      resid[i] = std::log(out.points[i].latency_ms / model.latency_ms(out.points[i].clocks));
      absr.push_back(std::abs(resid[i]));
    }
    sigma = absr.empty() ? 0 : 1.4826 * fit::median(absr);
  }

  // 3. Monotonicity: blame the member of a violating pair that the fit explains worse.
  std::vector<int> blamed(out.points.size(), 0);
  std::vector<std::string> why(out.points.size());
  for (size_t a : idx)
    for (size_t b : idx) {
      if (a == b || out.points[a].series != out.points[b].series) continue;
      const int dom = single_difference(out.points[a].clocks, out.points[b].clocks);
      if (dom < 0 || clock_of(out.points[a].clocks, dom) >= clock_of(out.points[b].clocks, dom)) continue;
      // a has the lower clock: it must not be clearly faster than b.
      // The tolerance grows with the profile's noise: single noisy measurements contradict each
      // other by a few per cent all the time, a clock change that did not happen by much more.
      const double ta = out.points[a].latency_ms, tb = out.points[b].latency_ms;
      if (tb <= ta * (1 + std::max(o.monotone_tolerance, o.monotone_sigmas * sigma))) continue;
      if (!have_model) continue;  // nothing to tell which one is wrong
      const size_t bad = std::abs(resid[a]) >= std::abs(resid[b]) ? a : b, other = bad == a ? b : a;
      if (std::abs(resid[bad]) <= o.monotone_sigmas * sigma) continue;  // neither stands out
      if (!blamed[bad]++)
        why[bad] = fmt::format("{}: {:.1f} ms contradicts {:.1f} ms at {} ({} clock {} but {} {:.0f}%)",
                               describe(out.points[bad].clocks), out.points[bad].latency_ms,
                               out.points[other].latency_ms, describe(out.points[other].clocks),
                               domain_name(dom), bad == a ? "lower" : "higher",
                               bad == a ? "faster by" : "slower by", (tb / ta - 1) * 100);
    }
  for (size_t i : idx)
    if (blamed[i]) out.keep[i] = false, out.excluded.push_back({i, why[i]});

  // 4. Residual outliers.
  if (have_model)
    for (size_t i : idx) {
      if (!out.keep[i]) continue;
      const double r = resid[i];
      if (std::abs(r) > std::max(o.residual_floor, o.residual_sigmas * sigma)) {
        out.keep[i] = false;
        out.excluded.push_back(
            {i, fmt::format("{}: measured {:.1f} ms, {:+.0f}% from the clock response the other "
                            "points follow ({:.1f} ms)",
                            describe(out.points[i].clocks), out.points[i].latency_ms, (std::exp(r) - 1) * 100,
                            model.latency_ms(out.points[i].clocks))});
      }
    }
  std::sort(out.excluded.begin(), out.excluded.end(),
            [](const ScreenedPoint& a, const ScreenedPoint& b) { return a.point < b.point; });
  return out;
}

}  // namespace flame::grid
