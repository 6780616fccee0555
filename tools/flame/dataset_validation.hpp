#pragma once
// `flame validate <name> FILE [--json]` over a coupling dataset: the shape shared by the coupling,
// features and contexts validations (each brings its own options, report and printers).
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "command.hpp"
#include "flame/model/coupling_dataset.hpp"

namespace flame::cli {

// Adds the subcommand; `run(dataset, file, json)` validates and prints. Returns it for extra options.
inline CLI::App* add_dataset_validation(
    CLI::App& root, const std::string& name, const std::string& description, const std::string& file_help,
    std::function<void(const model::CouplingDataset&, const std::string& file, bool json)> run) {
  CLI::App* validate = group(root, "validate", "Validate models against measured data");
  CLI::App* sub = validate->add_subcommand(name, description);
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("FILE", *file, file_help)->required();
  sub->add_flag("--json", *json, "Print a JSON report");
  sub->callback(
      [file, json, run = std::move(run)] { run(model::load_coupling_dataset(*file), *file, *json); });
  return sub;
}

// The common printer choice.
template <class Report, class Json, class Human>
void print_report(const Report& r, const std::string& file, bool json, Json print_json, Human print_human) {
  if (json)
    print_json(r);
  else
    print_human(r, file);
}

}  // namespace flame::cli
