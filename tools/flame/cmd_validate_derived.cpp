// flame validate derived --board layer-tx2|layer-orin [FILE] [--json]: models derived from one
// profiled point against the same models profiled in full, leave one model out, on a live layer board
// (lib/flame/validate/derived_validation.hpp, docs/feature-model.md).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/validate/derived_validation.hpp"

namespace {

using flame::fit::stats_json;

struct Args {
  std::string file = "data/h200-coupling/run2/coupling.json";
  std::string board;
  flame::validate::DerivedOptions options;
  bool json = false;
};

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* validate = flame::cli::group(root, "validate", "Validate models against measured data");
  CLI::App* sub = validate->add_subcommand("derived",
                                           "Models from one profiled point (curve shapes from features) "
                                           "against full profiles, leave one model out");
  auto a = std::make_shared<Args>();
  sub->add_option("FILE", a->file, "Coupling dataset the live board replays")->capture_default_str();
  sub->add_option("--board", a->board, flame::sim::layer_board_names())->required();
  sub->add_option("--budget", a->options.budget, "Combinations of the full profiles")->capture_default_str();
  sub->add_option("--seed", a->options.seed, "Seed of the plan and the host noise")->capture_default_str();
  sub->add_flag("--json", a->json, "Print a JSON report");
  sub->callback([a] {
    const auto board = flame::sim::layer_board(a->board);
    if (!board) {
      std::cerr << fmt::format("flame validate derived: unknown board '{}' (known: {})\n", a->board,
                               flame::sim::layer_board_names());
      throw flame::cli::Exit{2};
    }
    const auto dataset = flame::model::load_coupling_dataset(flame::io::find_data(a->file));
    const auto rows = flame::validate::validate_derived(dataset, *board, a->options);
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : rows)
        out.push_back({{"tag", r.tag},
                       {"prior_models", r.prior_models},
                       {"prior_segments", r.prior_segments},
                       {"full", stats_json(r.full)},
                       {"derived", stats_json(r.derived)}});
      std::cout << nlohmann::json{{"board", a->board}, {"configs", out}}.dump(2) << "\n";
      return;
    }
    fmt::print("{:<34} {:>10} {:>12} {:>12} {:>7}\n", fmt::format("configuration ({})", a->board),
               "full mean", "derived mean", "derived max", "ratio");
    for (const auto& r : rows)
      fmt::print("{:<34} {:>9.2f}% {:>11.2f}% {:>11.2f}% {:>7.2f}\n", r.tag, r.full.mean_ape_pct,
                 r.derived.mean_ape_pct, r.derived.max_ape_pct,
                 r.full.mean_ape_pct > 0 ? r.derived.mean_ape_pct / r.full.mean_ape_pct : 0.0);
  });
});

}  // namespace
