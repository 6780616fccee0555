#include "flame/model/detail/layerwise_sections.hpp"

#include <fmt/format.h>

#include <cmath>

namespace flame::model {

TimelineCosts read_costs(const YAML::Node& c, const ModelFileReader& r, const std::string& where) {
  TimelineCosts costs;
  costs.cpu_offset_ns = r.number(r.need(c, "cpu_offset_ns", where), where + ".cpu_offset_ns", -1e12);
  costs.gpu_scale = r.number(r.need(c, "gpu_scale", where), where + ".gpu_scale", 1e-6);
  costs.sync_latency_ns = r.number(r.need(c, "sync_latency_ns", where), where + ".sync_latency_ns");
  return costs;
}

void write_costs(YAML::Emitter& e, const TimelineCosts& c) {
  e << YAML::Key << "costs" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "cpu_offset_ns" << YAML::Value << c.cpu_offset_ns;
  e << YAML::Key << "gpu_scale" << YAML::Value << c.gpu_scale;
  e << YAML::Key << "sync_latency_ns" << YAML::Value << c.sync_latency_ns;
  e << YAML::EndMap;
}

std::vector<double> read_emc_levels(const YAML::Node& root, const ModelFileReader& r) {
  auto emc = r.levels(r.need(root, "emc_hz"), "emc_hz");
  if (emc.front() <= 0) r.fail(root["emc_hz"], "emc_hz: a memory clock must be above 0 Hz");
  return emc;
}

CpuCurve read_cpu_curve(const YAML::Node& cpu, const ModelFileReader& r, const std::string& where,
                        int version) {
  const auto h = r.numbers(cpu, where + ".cpu");
  // Version 1 host curves have no EMC term: it is 0, so they evaluate exactly as before.
  if (version == 1 && h.size() != 2)
    r.fail(cpu, where + ".cpu: expected [fixed_ns, work_ns_khz] (version 1)");
  if (version >= 2 && h.size() != 3)
    r.fail(cpu, where + ".cpu: expected [fixed_ns, work_ns_khz, memory_ns_hz]");
  return {h[0], h[1], version >= 2 ? h[2] : 0.0};
}

GpuCurve read_gpu_curve(const YAML::Node& g, const std::vector<double>& emc, const ModelFileReader& r,
                        const std::string& where) {
  GpuCurve gc;
  gc.emc_hz = emc;
  gc.work_ns_hz = r.number(r.need(g, "work_ns_hz", where), where + ".work_ns_hz");
  gc.memory_ns = r.numbers(r.need(g, "memory_ns", where), where + ".memory_ns");
  if (gc.memory_ns.size() != emc.size())
    r.fail(g["memory_ns"],
           fmt::format("{}.memory_ns: expected {} values (one per EMC level)", where, emc.size()));
  return gc;
}

void write_cpu_curve(YAML::Emitter& e, const CpuCurve& c) {
  e << YAML::Key << "cpu" << YAML::Value << YAML::Flow
    << std::vector<double>{c.fixed_ns, c.work_ns_khz, c.memory_ns_hz};
}

void write_gpu_curve(YAML::Emitter& e, const GpuCurve& g) {
  e << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "work_ns_hz" << YAML::Value << g.work_ns_hz;
  e << YAML::Key << "memory_ns" << YAML::Value << YAML::Flow << g.memory_ns;
  e << YAML::EndMap;
}

std::optional<LayerPower> read_layer_power(const YAML::Node& root, const ModelFileReader& r) {
  const YAML::Node pw = root["power"];
  if (!pw || pw.IsNull()) return std::nullopt;
  const YAML::Node ref = r.need(pw, "reference", "power");
  grid::ClockReference c;
  c.cpu_khz = r.number(r.need(ref, "cpu_khz", "power.reference"), "power.reference.cpu_khz", 1);
  c.gpu_hz = r.number(r.need(ref, "gpu_hz", "power.reference"), "power.reference.gpu_hz", 1);
  c.emc_hz = r.number(r.need(ref, "emc_hz", "power.reference"), "power.reference.emc_hz", 1);
  if (const YAML::Node cores = ref["cores"]; cores && cores.size() > 0) {
    for (double k : r.levels(cores, "power.reference.cores")) {
      if (k < 1 || k != std::floor(k))
        r.fail(cores, "power.reference.cores: expected positive whole numbers");
      c.cores.push_back(static_cast<int>(k));
    }
  }
  if (pw["log_terms"]) return read_power_terms(pw, c, r, "power");  // the grid form, files before version 3
  return read_busy_terms(pw, c, r, "power");
}

void write_layer_power(YAML::Emitter& e, const LayerPower& p) {
  e << YAML::Key << "power" << YAML::Value << YAML::BeginMap;
  const auto& ref = std::visit([](const auto& x) -> const grid::ClockReference& { return x.reference(); }, p);
  e << YAML::Key << "reference" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "cpu_khz" << YAML::Value << ref.cpu_khz;
  e << YAML::Key << "gpu_hz" << YAML::Value << ref.gpu_hz;
  e << YAML::Key << "emc_hz" << YAML::Value << ref.emc_hz;
  e << YAML::Key << "cores" << YAML::Value << YAML::Flow << ref.cores;
  e << YAML::EndMap;
  if (const auto* b = std::get_if<BusyPowerModel>(&p))
    write_busy_terms(e, *b);
  else
    write_power_terms(e, std::get<grid::PowerModel>(p));
  e << YAML::EndMap;
}

}  // namespace flame::model
