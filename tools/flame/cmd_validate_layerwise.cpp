// flame validate layerwise: recovery test of the layer-wise frequency model on a synthetic Jetson.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/board/description_grid.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/validate/layerwise_recovery.hpp"

namespace {

using flame::fit::stats_json;

struct Args {
  std::string file = "data/h200-coupling/run2/coupling.json";
  std::string board = "config/boards/orin-nano-8gb-super.yaml";
  std::vector<std::string> tags;
  flame::validate::RecoveryOptions options;
  bool json = false;
};

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* validate = flame::cli::group(root, "validate", "Validate models against measured data");
  CLI::App* sub = validate->add_subcommand(
      "layerwise",
      "Layer-wise model recovery: fit from a sparse plan on a synthetic Jetson built from real segments");
  auto a = std::make_shared<Args>();
  sub->add_option("FILE", a->file, "Coupling dataset whose segments seed the synthetic board")
      ->capture_default_str();
  sub->add_option("--board", a->board, "Board description whose clock tables form the grid")
      ->capture_default_str();
  sub->add_option("--config", a->tags, "Only these configuration tags")->delimiter(',');
  sub->add_option("--budget", a->options.budget, "Profiled clock combinations")->capture_default_str();
  sub->add_option("--noise", a->options.noise, "Relative measurement noise (1 sigma)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  sub->add_option("--seed", a->options.seed, "Random seed")->capture_default_str();
  sub->add_flag("--json", a->json, "Print a JSON report");
  sub->callback([a] {
    const auto dataset = flame::model::load_coupling_dataset(flame::io::find_data(a->file));
    const auto desc = flame::board::load_board_description(flame::io::find_data(a->board).string());
    const auto grid = flame::board::clock_grid(desc);
    nlohmann::json out = nlohmann::json::array();
    if (!a->json)
      fmt::print("{:<38} {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
                 fmt::format("configuration ({})", desc.name), "N", "mean", "p95", "max", "sum", "max-mod",
                 "1/f", "P med", "P p95");
    size_t matched = 0;
    for (const auto& config : dataset.configs) {
      if (!a->tags.empty() && std::find(a->tags.begin(), a->tags.end(), config.tag) == a->tags.end())
        continue;
      ++matched;
      const auto r = flame::validate::recover_layerwise(config, grid, a->options);
      if (a->json) {
        out.push_back({{"tag", r.tag},
                       {"profiled", r.profiled},
                       {"grid_points", r.grid_points},
                       {"launch_bound_share", r.launch_bound_share},
                       {"timeline", stats_json(r.timeline)},
                       {"power", stats_json(r.power)},
                       {"power_median_ape_pct", r.power_median_ape_pct},
                       {"baselines",
                        {{"sum_model", stats_json(r.sum_model)},
                         {"max_model", stats_json(r.max_model)},
                         {"scaled_max", stats_json(r.scaled_max)}}}});
      } else {
        fmt::print(
            "{:<38} {:>4} {:>7.2f}% {:>7.2f}% {:>7.2f}% {:>7.1f}% {:>7.2f}% {:>7.1f}% {:>7.2f}% {:>7.2f}%\n",
            r.tag, r.profiled, r.timeline.mean_ape_pct, r.timeline.p95_ape_pct, r.timeline.max_ape_pct,
            r.sum_model.mean_ape_pct, r.max_model.mean_ape_pct, r.scaled_max.mean_ape_pct,
            r.power_median_ape_pct, r.power.p95_ape_pct);
      }
    }
    if (matched == 0) throw std::runtime_error("no configuration matches --config");
    if (a->json) std::cout << nlohmann::json{{"configs", out}}.dump(2) << "\n";
  });
});

}  // namespace
