// flame fit DATASET --budget N [--seed S] --name NAME [-o MODEL]: profile a sparse plan of a
// measured clock grid and write a `kind: grid` model file (docs/model-format.md).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/grid/dataset.hpp"
#include "flame/grid/grid_model.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/grid_model_file.hpp"

namespace {

struct Args {
  std::string dataset;
  std::string name;
  std::string board;
  std::string out;
  bool json = false;
  flame::grid::GridFitOptions options;
};

const flame::cli::Registrar reg([](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "fit", "Fit a model-level (grid) frequency model from a sparse plan over a measured clock grid");
  auto a = std::make_shared<Args>();
  sub->add_option("DATASET", a->dataset, "Measured grid (FlexiBO TX2 or Energyinfra Orin CSV)")->required();
  sub->add_option("--budget", a->options.budget, "Clock combinations to profile")->capture_default_str();
  sub->add_option("--seed", a->options.seed, "Seed of the sampling plan and the fit")->capture_default_str();
  sub->add_option("--name", a->name, "Name the daemon serves the model under (default: the file's stem)");
  sub->add_option("--board", a->board, "Board the model is for (informational)");
  sub->add_option("-o,--out", a->out, "Model file to write (default: standard output)");
  sub->add_flag(
      "--json", a->json,
      "Print what was fitted as JSON on standard output (with the model text unless --out is given)");
  sub->callback([a] {
    const auto path = flame::io::find_data(a->dataset).string();
    const auto dataset = flame::grid::read_dataset(path);
    const auto fit = flame::grid::fit_grid_model(dataset, a->options);
    const std::string name = a->name.empty() ? std::filesystem::path(a->dataset).stem().string() : a->name;
    const std::string provenance = fmt::format(
        "Grid model of {} ({}), fitted from {} of {} clock combinations (seed {}). Written by `flame fit`.",
        path, flame::grid::to_string(dataset.format), fit.profiled.size(), fit.model.levels.full_size(),
        a->options.seed);
    const std::string yaml = flame::model::grid_to_yaml(fit.model, name, a->board, provenance);
    if (a->json) {
      nlohmann::json excluded = nlohmann::json::array();
      for (const auto& e : fit.excluded) excluded.push_back({{"series", e.series}, {"reason", e.reason}});
      nlohmann::json series = nlohmann::json::array();
      for (const auto& s : fit.model.series) series.push_back(s.name);
      nlohmann::json j{{"name", name},
                       {"dataset", path},
                       {"format", flame::grid::to_string(dataset.format)},
                       {"seed", a->options.seed},
                       {"profiled", fit.profiled.size()},
                       {"combinations", fit.model.levels.full_size()},
                       {"series", series},
                       {"excluded", excluded},
                       {"out", a->out.empty() ? nlohmann::json(nullptr) : nlohmann::json(a->out)}};
      if (a->out.empty())
        j["model"] = yaml;
      else
        flame::io::write_file_atomically(a->out, yaml);
      std::cout << j.dump(2) << "\n";
      return;
    }
    if (a->out.empty()) {
      std::cout << yaml;
    } else {
      flame::io::write_file_atomically(a->out, yaml);
      fmt::print(stderr, "wrote {}: {} series, {} combinations profiled", a->out, fit.model.series.size(),
                 fit.profiled.size());
      if (!fit.excluded.empty()) fmt::print(stderr, ", {} left out as glitches", fit.excluded.size());
      fmt::print(stderr, "\n");
    }
    for (const auto& e : fit.excluded)
      fmt::print(stderr, "  left out: {}{}\n", e.series.empty() ? "" : e.series + ": ", e.reason);
  });
});

}  // namespace
