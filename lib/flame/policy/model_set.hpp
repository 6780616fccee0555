#pragma once
// The models a policy serves, by name, and how a directory of model files becomes one (flamed's
// models_dir, `flame eval --models DIR`). Any flame::LatencyModel: grid, layer-wise, SLM context.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flame/model/latency_model.hpp"

namespace flame::policy {

using ModelSet = std::map<std::string, std::shared_ptr<const LatencyModel>>;

// What a model directory gave: the models, and one message per file skipped.
struct LoadedModels {
  ModelSet models;
  std::vector<std::string> errors;
};

// Every *.yaml / *.yml file in `dir` (docs/model-format.md), in file-name order; a broken file or a
// name already loaded is reported in `errors` and skipped, never fatal. A missing directory is an
// error entry and an empty set.
LoadedModels load_model_dir(const std::filesystem::path& dir);

}  // namespace flame::policy
