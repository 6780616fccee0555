#include "flame/profile/e2e_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "flame/model/grid_model_file.hpp"
#include "flame/model/model_file.hpp"

namespace flame::profile {
namespace {

// The grid fit's input: one sample per recorded inference, at the clocks the hardware reported.
// Power only when every combination has a reading above 0 (as the layer-wise fit).
grid::Dataset dataset_of(const JournalHeader& h, std::span<const StepRecord> steps, std::size_t skip) {
  const bool power = std::all_of(steps.begin(), steps.end(),
                                 [](const StepRecord& s) { return s.power_mw && *s.power_mw > 0; });
  grid::Dataset d;
  d.path = fmt::format("flame profile --e2e: {}", fmt::join(h.command, " "));
  d.latency_label = "latency_ms (latency lines)";
  if (power) d.power_label = "rail power (W, mean of the recorded inferences' samples)";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i == skip) continue;
    const auto& s = steps[i];
    if (!s.e2e)
      throw std::runtime_error(
          fmt::format("step {} has no latencies: the journal is not from an end-to-end run (--e2e)", s.step));
    for (double ms : s.e2e->latencies_ms) {
      grid::Sample x;
      x.clocks = s.observed;
      x.latency_ms = ms;
      if (power) x.power_w = *s.power_mw / 1e3;
      x.cost_ms = ms;
      x.line = static_cast<int>(s.step);
      d.samples.push_back(x);
    }
  }
  return d;
}

std::size_t combinations(const grid::Dataset& d) {
  std::vector<Clocks> c;
  for (const auto& s : d.samples)
    if (std::find(c.begin(), c.end(), s.clocks) == c.end()) c.push_back(s.clocks);
  return c.size();
}

grid::GridFit fit(const grid::Dataset& d, std::uint64_t seed) {
  grid::GridFitOptions o;
  o.budget = combinations(d);  // every profiled combination (the plan was made before profiling)
  o.seed = seed;
  try {
    return grid::fit_grid_model(d, o);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("the grid fit cannot use these combinations: {}", e.what()));
  }
}

}  // namespace

EndToEndFit fit_end_to_end(const JournalHeader& h, std::span<const StepRecord> steps) {
  if (steps.empty()) throw std::runtime_error("no profiled combinations to fit");
  std::vector<StepRecord> sorted(steps.begin(), steps.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  EndToEndFit f;
  f.name = h.model;
  f.points = sorted.size();
  grid::GridFit all = fit(dataset_of(h, sorted, sorted.size()), h.seed);
  for (const auto& e : all.excluded)
    f.excluded.push_back(fmt::format("{}: {}", to_string(e.clocks), e.reason));
  f.excluded_inferences = all.excluded_rows.size();
  f.model = std::move(all.model);
  f.model.format = "flame-profile-e2e";  // not a dataset file: the latency lines of a profiling run
  f.model.budget = h.budget;
  const auto& series = f.model.series.front();
  std::vector<double> in, cv, power_in, power_cv;
  for (const auto& s : sorted) {
    const Estimate e = series.estimate(s.observed);
    in.push_back(fit::ape_pct(e.latency_ms, s.e2e->median_ms));
    if (series.power) power_in.push_back(fit::ape_pct(e.power_w, *s.power_mw / 1e3));
  }
  // Leave-one-out: the grid fit needs one more combination than it has varying domains, and
  // a held-back combination must leave that many.
  if (sorted.size() >= 5) {
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      const grid::GridFit m = fit(dataset_of(h, sorted, i), h.seed);
      const Estimate e = m.model.series.front().estimate(sorted[i].observed);
      cv.push_back(fit::ape_pct(e.latency_ms, sorted[i].e2e->median_ms));
      if (series.power && m.model.series.front().power)
        power_cv.push_back(fit::ape_pct(e.power_w, *sorted[i].power_mw / 1e3));
    }
  }
  f.in_sample = fit::summarize_ape(in);
  f.cross_validated = fit::summarize_ape(cv);
  f.power_in_sample = fit::summarize_ape(power_in);
  f.power_cross_validated = fit::summarize_ape(power_cv);
  return f;
}

std::string end_to_end_model_file_text(const EndToEndFit& f, const JournalHeader& h,
                                       const std::string& board) {
  const std::string cv =
      f.cross_validated.n > 0
          ? fmt::format("leave-one-out error on held-back combinations: mean {:.2f} %, max {:.2f} % (n = {})",
                        f.cross_validated.mean_ape_pct, f.cross_validated.max_ape_pct, f.cross_validated.n)
          : std::string("too few combinations for a cross-validated error");
  std::string provenance = fmt::format(
      "Grid model of '{}' fitted by `flame profile --e2e` from the latencies its command printed at {} of {} "
      "clock combinations (budget {}, seed {}, median per combination after dropping {} warm-up lines); {}; "
      "in-sample mean {:.2f} %. Command: {}",
      f.name, f.points, h.grid.cpu_khz.size() * h.grid.gpu_hz.size() * h.grid.emc_hz.size(), h.budget, h.seed,
      h.warmup, cv, f.in_sample.mean_ape_pct, fmt::join(h.command, " "));
  if (!f.model.series.front().power)
    provenance += " No power model: not every combination has a rail power sample.";
  else if (f.power_cross_validated.n > 0)
    provenance +=
        fmt::format(" Power: leave-one-out error mean {:.2f} %, max {:.2f} %; in-sample mean {:.2f} %.",
                    f.power_cross_validated.mean_ape_pct, f.power_cross_validated.max_ape_pct,
                    f.power_in_sample.mean_ape_pct);
  if (!f.excluded.empty())
    provenance += fmt::format(" Left out as glitches: {}.", fmt::join(f.excluded, "; "));
  if (f.excluded_inferences > 0)
    provenance += fmt::format(" {} latencies more than {:.0f} % from their combination's median left out.",
                              f.excluded_inferences, grid::ScreenOptions{}.repeat_tolerance * 100);
  std::string text = model::grid_to_yaml(f.model, f.name, board, provenance);
  model::parse_model_file(text, f.name);  // never hand out a file the daemon could not load
  return text;
}

}  // namespace flame::profile
