#pragma once
// The `power` section of a model file (docs/model-format.md): the grid power model's
// latency_ref_ms and log_terms, shared by `kind: grid` series and older `kind: layerwise` models,
// and the busy form's `terms` that `flame profile` writes into layer-wise models.
#include <yaml-cpp/yaml.h>

#include <string>

#include "flame/grid/power_model.hpp"
#include "flame/io/yaml_reader.hpp"
#include "flame/model/detail/busy_power.hpp"
#include "flame/model/model_file.hpp"

namespace flame::model {

// Model files are read with the shared YAML reader; its errors are ModelFileErrors.
using ModelFileReader = io::YamlReader<ModelFileError>;

// Reads `latency_ref_ms` and `log_terms` from the mapping `pw` (named `where` in errors).
grid::PowerModel read_power_terms(const YAML::Node& pw, const grid::ClockReference& ref,
                                  const ModelFileReader& r, const std::string& where);
// Writes the same two keys into the mapping being emitted.
void write_power_terms(YAML::Emitter& e, const grid::PowerModel& m);

// Reads `terms` (term: weight, weights >= 0) from `pw`; writes them.
BusyPowerModel read_busy_terms(const YAML::Node& pw, const grid::ClockReference& ref,
                               const ModelFileReader& r, const std::string& where);
void write_busy_terms(YAML::Emitter& e, const BusyPowerModel& m);

}  // namespace flame::model
