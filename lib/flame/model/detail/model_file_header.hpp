#pragma once
// The common head of every model file (docs/model-format.md): provenance comment, format, version,
// kind, name and board. Opens the top-level map; the writer of each kind adds its keys and closes it.
#include <yaml-cpp/yaml.h>

#include <string>

#include "flame/model/model_file.hpp"

namespace flame::model {

inline void begin_model_document(YAML::Emitter& e, int version, const char* kind, const std::string& name,
                                 const std::string& board, const std::string& provenance) {
  if (!provenance.empty()) e << YAML::Comment(provenance);
  e << YAML::BeginMap;
  e << YAML::Key << "format" << YAML::Value << "flame-model";
  e << YAML::Key << "version" << YAML::Value << version;
  e << YAML::Key << "kind" << YAML::Value << kind;
  e << YAML::Key << "name" << YAML::Value << name;
  if (!board.empty()) e << YAML::Key << "board" << YAML::Value << board;
}

}  // namespace flame::model
