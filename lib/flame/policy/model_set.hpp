#pragma once
// The models a policy serves, by name, and how a directory of model files becomes one (flamed's
// models_dir, `flame eval --models DIR`). Any flame::model::LatencyModel: grid, layer-wise, SLM context.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flame/model/latency_model.hpp"

namespace flame::policy {

struct ServedModel {
  std::shared_ptr<const model::LatencyModel> model;
  std::string board;     // the board its file names ("" = not said)
  std::string digest;    // of its file: calibration learned for another version does not carry over
  bool derived = false;  // its curves come from a prior (model_file.hpp, Derivation): a wider margin
  ServedModel() = default;
  template <class M>  // any model type: ModelSet{{"name", std::make_shared<SomeModel>(...)}}
  ServedModel(std::shared_ptr<M> m, std::string board_name = {}, std::string file_digest = {},
              bool derived_model = false)
      : model(std::move(m)),
        board(std::move(board_name)),
        digest(std::move(file_digest)),
        derived(derived_model) {}
};

using ModelSet = std::map<std::string, ServedModel>;

// Which boards' models a directory may serve (docs/model-format.md, "Board"). A model fitted on
// another board predicts that board's clocks: served here it plans wrong clocks with confidence.
struct ModelAdmission {
  std::string board;           // the board this runs on, as its description names it; "" = unknown
  bool allow_foreign = false;  // serve models of any board
  static ModelAdmission any() { return {"", true}; }
};

// What a model directory gave: the models, one message per file skipped, and the models refused
// for their board (name -> why).
struct LoadedModels {
  ModelSet models;
  std::vector<std::string> errors;
  std::map<std::string, std::string> refused;
};

// Every *.yaml / *.yml file in `dir` (docs/model-format.md), in file-name order; a broken file or a
// name already loaded is reported in `errors` and skipped, never fatal. A missing directory is an
// error entry and an empty set. A model that names a board other than `admission.board` is refused
// unless admission allows foreign models; a model that names no board is served.
LoadedModels load_model_dir(const std::filesystem::path& dir,
                            const ModelAdmission& admission = ModelAdmission::any());

// Why a model fitted on `model_board` is not served under `admission`; "" = it is served.
std::string refusal(const std::string& model_board, const ModelAdmission& admission);

}  // namespace flame::policy
