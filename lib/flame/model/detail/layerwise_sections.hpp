#pragma once
// The sections that layer-wise model files share (docs/model-format.md): timeline costs, a
// segment's host and device curves, and the power section. `kind: layerwise` has one set, `kind:
// slm` one per phase (and one power section).
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "flame/model/detail/power_section.hpp"
#include "flame/model/detail/segment_curves.hpp"
#include "flame/model/layerwise_model.hpp"

namespace flame::model {

// `where` prefixes every error ("phases.decode.costs").
TimelineCosts read_costs(const YAML::Node& c, const ModelFileReader& r, const std::string& where);
void write_costs(YAML::Emitter& e, const TimelineCosts& c);

// emc_hz: the file's levels, > 0 and strictly ascending (refused otherwise).
std::vector<double> read_emc_levels(const YAML::Node& root, const ModelFileReader& r);

// A segment's `cpu: [fixed_ns, work_ns_khz, memory_ns_hz]` (two values in version 1 files).
CpuCurve read_cpu_curve(const YAML::Node& cpu, const ModelFileReader& r, const std::string& where,
                        int version);
// `{work_ns_hz, memory_ns: [one per EMC level]}`.
GpuCurve read_gpu_curve(const YAML::Node& g, const std::vector<double>& emc, const ModelFileReader& r,
                        const std::string& where);
void write_cpu_curve(YAML::Emitter& e, const CpuCurve& c);
void write_gpu_curve(YAML::Emitter& e, const GpuCurve& g);

// The optional `power` section: its own reference clocks and either the busy form's `terms` or the
// grid form's `log_terms` (files before version 3).
std::optional<LayerPower> read_layer_power(const YAML::Node& root, const ModelFileReader& r);
void write_layer_power(YAML::Emitter& e, const LayerPower& p);

}  // namespace flame::model
