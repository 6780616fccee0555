#pragma once
// `kind: slm` model files (docs/model-format.md): one file per small language model, both phases
// and every context length (slm_model.hpp). Loaded through load_model_file like every kind.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "flame/model/detail/power_section.hpp"
#include "flame/model/slm_model.hpp"

namespace flame::model {

std::shared_ptr<const SlmLatencyModel> parse_slm_model(const YAML::Node& root, const ModelFileReader& r,
                                                       int version);

std::string slm_to_yaml(const SlmModel& m, const std::string& name, const std::string& board,
                        const std::string& provenance);

}  // namespace flame::model
