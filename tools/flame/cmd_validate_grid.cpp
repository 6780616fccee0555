// flame validate grid FILE --budget N [--seed S] [--deadlines 1.1,1.2,...] [--json]: the model-level
// frequency model on a public measured grid (docs/validation-grid.md).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/grid/dataset.hpp"
#include "flame/grid/grid_validation.hpp"
#include "flame/io/data_path.hpp"

namespace {

using flame::grid::GridValidation;
using flame::grid::ModelErrors;

using flame::fit::stats_json;

nlohmann::json errors_json(const ModelErrors& e) {
  nlohmann::json j{{"latency", stats_json(e.latency)}};
  if (e.power) j["power"] = stats_json(*e.power);
  return j;
}

std::string clocks_text(const flame::Clocks& c) {
  std::string s;
  if (c.cpu_khz > 0) s += fmt::format("cpu {:.0f} kHz", c.cpu_khz);
  if (c.cpu_cores > 0) s += fmt::format(" x{}", c.cpu_cores);
  if (c.gpu_hz > 0) s += fmt::format("{}gpu {:.0f} Hz", s.empty() ? "" : ", ", c.gpu_hz);
  if (c.emc_hz > 0) s += fmt::format("{}emc {:.0f} Hz", s.empty() ? "" : ", ", c.emc_hz);
  return s;
}

nlohmann::json report_json(const GridValidation& v) {
  nlohmann::json j;
  j["file"] = v.path;
  j["format"] = v.format;
  j["latency"] = stats_json(v.model.latency);
  if (v.model.power) j["power"] = stats_json(*v.model.power);
  j["profiled"] = v.profiled;
  j["avoided_combinations"] = v.avoided;
  j["rows"] = v.rows;
  j["points"] = v.points;
  j["clock_combinations"] = v.combos;
  j["series"] = v.series;
  nlohmann::json b = nlohmann::json::object();
  for (const auto& [name, e] : v.baselines) b[name] = errors_json(e);
  j["baselines"] = b;
  if (v.deadlines) {
    j["deadlines"] = {{"decisions", v.deadlines->decisions},
                      {"met_pct", v.deadlines->met_pct},
                      {"energy_vs_oracle", v.deadlines->energy_vs_oracle},
                      {"energy_vs_max", v.deadlines->energy_vs_max},
                      {"worst_vs_oracle", v.deadlines->worst_vs_oracle},
                      {"infeasible", v.deadlines->infeasible},
                      {"margin", v.deadlines->margin},
                      {"unmeasured", v.deadlines->unmeasured}};
  } else {
    j["deadlines"] = nullptr;
    j["deadlines_note"] = v.deadlines_note;
  }
  j["all_points"] = errors_json(v.model_all);
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& c : v.curve) {
    nlohmann::json e = errors_json(c.errors);
    e["budget"] = c.budget;
    curve.push_back(e);
  }
  j["budget_curve"] = curve;
  if (v.floor) j["floor"] = errors_json(*v.floor);
  j["profiling_cost"] = {{"profiled_s", v.profiled_cost_s},
                         {"grid_s", v.grid_cost_s},
                         {"fraction", v.grid_cost_s > 0 ? v.profiled_cost_s / v.grid_cost_s : 0}};
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& e : v.excluded_eval)
    ex.push_back({{"series", e.series}, {"clocks", clocks_text(e.clocks)}, {"reason", e.reason}});
  j["excluded"] = ex;
  j["excluded_repeats"] = v.excluded_eval_rows;
  nlohmann::json exp = nlohmann::json::array();
  for (const auto& e : v.excluded_profiled)
    exp.push_back({{"series", e.series}, {"clocks", clocks_text(e.clocks)}, {"reason", e.reason}});
  j["excluded_from_fit"] = exp;
  j["dropped_rows"] = v.dropped.size();
  j["free_parameters"] = v.free_parameters;
  return j;
}

std::string row(const std::string& name, const ModelErrors& e) {
  std::string s = fmt::format("  {:<22} latency mean {:6.2f}%  p95 {:6.2f}%  max {:7.2f}%", name,
                              e.latency.mean_ape_pct, e.latency.p95_ape_pct, e.latency.max_ape_pct);
  if (e.power)
    s += fmt::format("   power mean {:6.2f}%  p95 {:6.2f}%  max {:7.2f}%", e.power->mean_ape_pct,
                     e.power->p95_ape_pct, e.power->max_ape_pct);
  return s + "\n";
}

void print_text(const GridValidation& v, const flame::grid::GridValidationOptions& o) {
  fmt::print("flame validate grid {}\n", v.path);
  fmt::print(
      "  format {}: {} rows, {} clock combinations, {} series; profiled {} combinations (budget {}, seed "
      "{})\n",
      v.format, v.rows, v.combos, v.series, v.profiled, o.budget, o.seed);
  if (!v.dropped.empty())
    fmt::print("  dropped {} unusable rows (e.g. line {}: {})\n", v.dropped.size(), v.dropped[0].line,
               v.dropped[0].reason);
  if (v.skipped) fmt::print("  skipped {} rows: {}\n", v.skipped, v.skipped_reason);
  if (v.avoided)
    fmt::print("  {} clock combinations are glitched in most series (below) and were not profiled\n",
               v.avoided);
  fmt::print("errors on {} of {} rows (the rest are glitches, below):\n", v.model.latency.n,
             v.model_all.latency.n);
  fmt::print("{}", row("model", v.model));
  for (const auto& [name, e] : v.baselines) fmt::print("{}", row("baseline " + name, e));
  fmt::print("{}", row("model, all points", v.model_all));
  if (!v.curve.empty()) {
    fmt::print("error versus budget:\n");
    for (const auto& c : v.curve) fmt::print("{}", row(fmt::format("budget {}", c.budget), c.errors));
  }
  if (v.floor) fmt::print("{}", row("floor (all points)", *v.floor));
  fmt::print("profiling cost: {:.1f} s of {:.1f} s for the whole grid ({:.1f}%)\n", v.profiled_cost_s,
             v.grid_cost_s, v.grid_cost_s > 0 ? 100 * v.profiled_cost_s / v.grid_cost_s : 0.0);
  if (v.deadlines)
    fmt::print(
        "deadlines (margin {:.1f}%): {} decisions, {:.1f}% met, energy {:.3f} x oracle (worst {:.3f}), "
        "{:.3f} x "
        "max clocks, {} infeasible\n",
        100 * v.deadlines->margin, v.deadlines->decisions, v.deadlines->met_pct,
        v.deadlines->energy_vs_oracle, v.deadlines->worst_vs_oracle, v.deadlines->energy_vs_max,
        v.deadlines->infeasible);
  else
    fmt::print("deadlines: not evaluated ({})\n", v.deadlines_note);
  if (!v.excluded_eval.empty() || !v.excluded_eval_rows.empty()) {
    fmt::print("excluded from the evaluation ({} points, {} repeats):\n", v.excluded_eval.size(),
               v.excluded_eval_rows.size());
    for (const auto& e : v.excluded_eval)
      fmt::print("  {}{}\n", e.series.empty() ? "" : e.series + ": ", e.reason);
    for (const auto& r : v.excluded_eval_rows) fmt::print("  {}\n", r);
  }
  if (!v.excluded_profiled.empty()) {
    fmt::print("left out of the fit ({} profiled points):\n", v.excluded_profiled.size());
    for (const auto& e : v.excluded_profiled)
      fmt::print("  {}{}\n", e.series.empty() ? "" : e.series + ": ", e.reason);
  }
}

struct Args {
  std::string file = "data/jetson-public/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv";
  flame::grid::GridValidationOptions options;
  bool json = false;
  bool no_curve = false;
};

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* validate = flame::cli::group(root, "validate", "Validate models against measured data");
  CLI::App* sub = validate->add_subcommand(
      "grid",
      "Model-level frequency model on a measured clock grid: sparse profile, fit, predict every point");
  auto a = std::make_shared<Args>();
  sub->add_option("FILE", a->file, "Measured grid (FlexiBO TX2 or Energyinfra Orin CSV)")
      ->capture_default_str();
  sub->add_option("--budget", a->options.budget, "Clock combinations to profile")->capture_default_str();
  sub->add_option("--seed", a->options.seed, "Seed of the sampling plan and the fit")->capture_default_str();
  sub->add_option("--deadlines", a->options.deadlines,
                  "Deadlines as multiples of the fastest measured latency per core setting")
      ->delimiter(',');
  sub->add_option("--margin", a->options.safety_margin,
                  "Safety margin of the search (0.05 = 5 %); default: twice the fit's robust error spread")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_flag("--no-curve", a->no_curve, "Skip the error-versus-budget curve and the floor");
  sub->add_flag("--json", a->json, "Print a JSON report");
  sub->callback([a] {
    if (a->no_curve) a->options.curve.clear(), a->options.floor = false;
    for (double m : a->options.deadlines)
      if (!(m >= 1))
        throw std::invalid_argument(fmt::format("--deadlines: {} is below 1 (the fastest latency)", m));
    const auto dataset = flame::grid::read_dataset(flame::io::find_data(a->file).string());
    const auto v = flame::grid::validate_grid(dataset, a->options);
    if (a->json)
      std::cout << report_json(v).dump(2) << "\n";
    else
      print_text(v, a->options);
  });
});

}  // namespace
