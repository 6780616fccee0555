// flame validate coupling FILE [--json]: the timeline model against measured CPU–GPU coupling.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "dataset_validation.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/validate/coupling_validation.hpp"

namespace {

using flame::fit::stats_json;

void print_json(const flame::validate::CouplingReport& r) {
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& c : r.cases)
    cases.push_back({{"tag", c.tag},
                     {"slowdown", c.slowdown},
                     {"cpu_ratio", c.cpu_ratio},
                     {"measured_ns", c.measured_ns},
                     {"predicted_ns", c.predicted_ns},
                     {"predicted_loco_ns", c.predicted_loco_ns},
                     {"band", c.band},
                     {"steady", c.steady},
                     {"bubble_ns", c.bubble_ns},
                     {"baselines_ns", c.baseline_ns}});
  nlohmann::json baselines;
  for (const auto& [name, e] : r.baselines)
    baselines[name] = {{"s_gt_1", stats_json(e.s_gt_1)}, {"band", stats_json(e.band)}};
  nlohmann::json out = {
      {"cases", cases},
      {"s_gt_1", stats_json(r.ours.s_gt_1)},
      {"band", stats_json(r.ours.band)},
      {"loco", {{"s_gt_1", stats_json(r.ours_loco.s_gt_1)}, {"band", stats_json(r.ours_loco.band)}}},
      {"steady", {{"s_gt_1", stats_json(r.ours_steady.s_gt_1)}, {"band", stats_json(r.ours_steady.band)}}},
      {"loco_steady",
       {{"s_gt_1", stats_json(r.ours_loco_steady.s_gt_1)}, {"band", stats_json(r.ours_loco_steady.band)}}},
      {"baselines", baselines}};
  if (r.machine.sync_latency_ns) out["machine"] = {{"sync_latency_ns", *r.machine.sync_latency_ns}};
  std::cout << out.dump(2) << "\n";
}

void print_human(const flame::validate::CouplingReport& r, const std::string& file) {
  fmt::print("flame validate coupling {}\n", file);
  fmt::print("Prediction of each sweep from the slowdown-1 profile and the sweep's CPU ratio k.\n");
  fmt::print("Errors are (predicted - measured) / measured; B = transition band (CPU and GPU within 2x).\n");
  std::string tag;
  for (const auto& c : r.cases) {
    if (c.tag != tag) {
      tag = c.tag;
      const auto& costs = r.costs.at(tag);
      fmt::print("\n{}  (host offset {:+.0f} us, GPU scale {:.3f}, sync latency {:.0f} us)\n", tag,
                 costs.cpu_offset_ns / 1e3, costs.gpu_scale, costs.sync_latency_ns / 1e3);
      fmt::print("  {:>5} {:>5} {:>10} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}  {}\n", "s", "k", "meas ms",
                 "pred ms", "err", "bubbles", "scaled", "max-sum", "sum-max", "");
    }
    auto err = [&](double p) { return (p - c.measured_ns) / c.measured_ns * 100.0; };
    fmt::print(
        "  {:>5.2f} {:>5.2f} {:>10.3f} {:>10.3f} {:>+7.2f}% {:>7.0f}us {:>+8.2f}% {:>+8.2f}% {:>+8.2f}%  "
        "{}{}\n",
        c.slowdown, c.cpu_ratio, c.measured_ns / 1e6, c.predicted_ns / 1e6, err(c.predicted_ns),
        c.bubble_ns / 1e3, err(c.baseline_ns.at("scaled_e2e")), err(c.baseline_ns.at("max_of_sums")),
        err(c.baseline_ns.at("sum_of_max")), c.band ? "B" : "", c.steady ? "" : " drifting");
  }
  auto line = [](const std::string& name, const flame::validate::ErrorPair& e) {
    fmt::print("  {:<12} {:>8.3f}% {:>8.2f}% {:>5} {:>10.3f}% {:>8.2f}% {:>5}\n", name, e.s_gt_1.mean_ape_pct,
               e.s_gt_1.max_ape_pct, e.s_gt_1.n, e.band.mean_ape_pct, e.band.max_ape_pct, e.band.n);
  };
  fmt::print("\nAbsolute percentage error over sweeps with s > 1:\n");
  fmt::print("  {:<12} {:>9} {:>9} {:>5} {:>11} {:>9} {:>5}\n", "model", "mean", "max", "n", "band mean",
             "band max", "n");
  line("timeline", r.ours);
  for (const auto& [name, e] : r.baselines) line(name, e);
  fmt::print(
      "\nThe timeline model with the shared costs fitted without the configuration it predicts (LOCO),\n"
      "and over steady sweeps only (first- and second-half medians within 5 %):\n");
  line("LOCO", r.ours_loco);
  line("steady", r.ours_steady);
  line("LOCO steady", r.ours_loco_steady);
}

const flame::cli::Registrar reg([](CLI::App& root) {
  flame::cli::add_dataset_validation(
      root, "coupling", "Timeline model vs measured CPU-GPU coupling sweeps",
      "Coupling dataset (coupling.json)",
      [](const flame::model::CouplingDataset& d, const std::string& file, bool json) {
        flame::cli::print_report(flame::validate::validate_coupling(d), file, json, print_json, print_human);
      });
});

}  // namespace
