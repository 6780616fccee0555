#pragma once
// A curve prior from a directory of layer-wise model files profiled in full (`flame profile --prior
// DIR`, docs/feature-model.md): every file that says what its segments are (`layer`, model file
// version 4) teaches the prior its segments' curve shapes. Files that cannot teach are skipped with a
// reason: other kinds, other boards, derived models (a prior never learns from a derivation), files
// without segment traits, other EMC levels, and the model being derived itself.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/features/curve_prior.hpp"
#include "flame/model/layerwise_model.hpp"  // BusyPowerModel

namespace flame::features {

struct PriorDir {
  std::optional<CurvePrior> prior;           // nullopt when no file could teach
  std::vector<std::string> models;           // the models it learned from, in file-name order
  std::vector<model::BusyPowerModel> power;  // their busy power forms (the board's power, per model)
  std::vector<std::string> skipped;          // "file: why"
};

// `board`: the board the derived model is for ("" = any); `ref`: its reference clocks (the top of
// every domain); `emc_levels`: its EMC levels; `exclude`: the name of the model being derived.
// Throws std::runtime_error when `dir` cannot be listed.
PriorDir load_prior_dir(const std::filesystem::path& dir, const std::string& board, const Clocks& ref,
                        const std::vector<double>& emc_levels, const std::string& exclude);

}  // namespace flame::features
