// flame validate features FILE [--json]: GPU time of unprofiled configurations from counter-like
// features, leave one configuration out, versus the in-sample fit.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "dataset_validation.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/validate/feature_validation.hpp"

namespace {

using flame::fit::stats_json;

nlohmann::json summary_json(const flame::validate::FeatureSummary& s) {
  return {{"gpu_total_held_out", stats_json(s.gpu_total_held_out)},
          {"gpu_total_in_sample", stats_json(s.gpu_total_in_sample)},
          {"weighted_held_out", stats_json(s.weighted_held_out)},
          {"weighted_in_sample", stats_json(s.weighted_in_sample)},
          {"e2e_held_out", stats_json(s.e2e_held_out)},
          {"e2e_in_sample", stats_json(s.e2e_in_sample)},
          {"e2e_profiled", stats_json(s.e2e_profiled)}};
}

void print_json(const flame::validate::FeatureReport& r) {
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& c : r.cases)
    cases.push_back({{"tag", c.tag},
                     {"model", c.model},
                     {"gpu_measured_ns", c.gpu_measured_ns},
                     {"gpu_held_out_ns", c.gpu_held_out_ns},
                     {"gpu_in_sample_ns", c.gpu_in_sample_ns},
                     {"weighted_held_out_ape_pct", c.weighted_held_out_ape_pct},
                     {"weighted_in_sample_ape_pct", c.weighted_in_sample_ape_pct},
                     {"call_measured_ns", c.call_measured_ns},
                     {"call_held_out_ns", c.call_held_out_ns},
                     {"glue_measured_ns", c.glue_measured_ns},
                     {"glue_held_out_ns", c.glue_held_out_ns},
                     {"fallback_segments", c.fallback_segments},
                     {"e2e_measured_ns", c.e2e_measured_ns},
                     {"e2e_held_out_ns", c.e2e_held_out_ns},
                     {"e2e_in_sample_ns", c.e2e_in_sample_ns},
                     {"e2e_profiled_ns", c.e2e_profiled_ns}});
  nlohmann::json by_model;
  for (const auto& [m, s] : r.by_model) by_model[m] = summary_json(s);
  nlohmann::json out = {{"has_macs", r.has_macs},
                        {"features", r.has_macs ? nlohmann::json{"macs", "act_bytes", "param_bytes"}
                                                : nlohmann::json{"act_bytes", "param_bytes"}},
                        {"cases", cases},
                        {"summary", summary_json(r.all)},
                        {"by_model", by_model}};
  std::cout << out.dump(2) << "\n";
}

double err(double p, double m) {
  return m != 0 ? (p - m) / m * 100.0 : 0.0;
}

void print_human(const flame::validate::FeatureReport& r, const std::string& file) {
  fmt::print("flame validate features {}\n", file);
  fmt::print("GPU time of every segment from features, fitted on all other configurations (held out)\n");
  fmt::print("versus fitted on all of them (in-sample). w = sum|err|/sum(meas) over segments. e2e: the\n");
  fmt::print("configuration's measured host side + predicted GPU times through the timeline, slowdown 1.\n");
  if (!r.has_macs)
    fmt::print(
        "Note: this file has no \"macs\"; calls are predicted from activation and parameter bytes only.\n");
  fmt::print("\n  {:<38} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>5} {:>8} {:>8} {:>8}\n",
             "configuration", "GPU ms", "held", "total", "w", "in tot", "in w", "glue", "fallb", "e2e ms",
             "e2e", "prof");
  for (const auto& c : r.cases)
    fmt::print(
        "  {:<38} {:>8.3f} {:>8.3f} {:>+6.1f}% {:>6.1f}% {:>+6.1f}% {:>6.1f}% {:>+7.1f}% {:>5} {:>8.3f} "
        "{:>+7.2f}% {:>+7.2f}%\n",
        c.tag, c.gpu_measured_ns / 1e6, c.gpu_held_out_ns / 1e6, err(c.gpu_held_out_ns, c.gpu_measured_ns),
        c.weighted_held_out_ape_pct, err(c.gpu_in_sample_ns, c.gpu_measured_ns), c.weighted_in_sample_ape_pct,
        err(c.glue_held_out_ns, c.glue_measured_ns), c.fallback_segments, c.e2e_measured_ns / 1e6,
        err(c.e2e_held_out_ns, c.e2e_measured_ns), err(c.e2e_profiled_ns, c.e2e_measured_ns));
  auto line = [](const std::string& name, const flame::validate::FeatureSummary& s) {
    fmt::print(
        "  {:<20} {:>7.2f} {:>7.2f} {:>7.2f} {:>7.2f} | {:>7.2f} {:>7.2f} {:>7.2f} {:>7.2f} | {:>6.2f} "
        "{:>6.2f} {:>6.2f}\n",
        name, s.gpu_total_held_out.mean_ape_pct, s.gpu_total_held_out.max_ape_pct,
        s.weighted_held_out.mean_ape_pct, s.weighted_held_out.max_ape_pct, s.gpu_total_in_sample.mean_ape_pct,
        s.gpu_total_in_sample.max_ape_pct, s.weighted_in_sample.mean_ape_pct,
        s.weighted_in_sample.max_ape_pct, s.e2e_held_out.mean_ape_pct, s.e2e_in_sample.mean_ape_pct,
        s.e2e_profiled.mean_ape_pct);
  };
  fmt::print("\nAbsolute percentage errors (mean / max over configurations):\n");
  fmt::print("  {:<20} {:>15} {:>15} | {:>15} {:>15} | {:>20}\n", "", "held-out total", "held-out w",
             "in-smpl total", "in-sample w", "e2e mean: held/in/prof");
  line("all", r.all);
  for (const auto& [m, s] : r.by_model) line(m, s);
}

const flame::cli::Registrar reg([](CLI::App& root) {
  flame::cli::add_dataset_validation(
      root, "features",
      "GPU time of unprofiled configurations from layer features (leave one configuration out)",
      "Coupling dataset (coupling.json)",
      [](const flame::model::CouplingDataset& d, const std::string& file, bool json) {
        flame::cli::print_report(flame::validate::validate_features(d), file, json, print_json, print_human);
      });
});

}  // namespace
