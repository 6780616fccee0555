#include "flame/model/grid_model_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>

#include "flame/model/detail/model_file_header.hpp"
#include "flame/model/detail/power_section.hpp"
#include "flame/model/model_file.hpp"

namespace flame::model {
namespace {

using Reader = ModelFileReader;

grid::SeriesModel parse_series(const YAML::Node& s, const grid::ClockReference& ref, const Reader& r,
                               const std::string& where) {
  grid::SeriesModel out;
  if (s["name"]) {
    if (!s["name"].IsScalar()) r.fail(s["name"], where + ".name: expected a string");
    out.name = s["name"].Scalar();
  }
  const YAML::Node l = r.need(s, "latency", where);
  const std::string lw = where + ".latency";
  grid::LatencyParams p;
  p.launch = r.optional(l, "launch_ms", lw, 0);
  p.memory_stall = r.optional(l, "memory_stall", lw, 0);
  p.background = r.optional(l, "background", lw, 0);
  if (p.background >= 1) r.fail(l["background"], lw + ".background: must be below 1");
  p.gpu = r.optional(l, "gpu_ms", lw, 0);
  p.memory = r.optional(l, "memory_ms", lw, 0);
  p.roofline = r.optional(l, "roofline", lw, 4, 1);
  p.device_fixed = r.optional(l, "device_fixed_ms", lw, 0);
  p.serial = r.optional(l, "serial_ms", lw, 0);
  p.serial_fixed = r.optional(l, "serial_fixed_ms", lw, 0);
  p.coupling = r.optional(l, "coupling", lw, 4, 1);
  for (const char* key : {"launch_cores", "serial_cores"}) {
    if (!l[key]) continue;
    auto v = r.numbers(l[key], lw + "." + key);
    if (v.size() != ref.cores.size())
      r.fail(l[key],
             fmt::format("{}.{}: expected {} factors (one per core option)", lw, key, ref.cores.size()));
    (std::string(key) == "launch_cores" ? p.launch_cores : p.serial_cores) = std::move(v);
  }
  out.latency = grid::CoupledLatency(ref, p);
  out.residual_sigma = r.optional(l, "residual_sigma", lw, 0);
  if (const YAML::Node pw = s["power"]; pw && !pw.IsNull()) {
    out.power = read_power_terms(pw, ref, r, where + ".power");
  }
  return out;
}

}  // namespace

std::shared_ptr<const GridLatencyModel> parse_grid_model(const YAML::Node& root, const std::string& source) {
  const Reader r{source};
  grid::GridModel m;
  const YAML::Node c = r.need(root, "clocks", "model");
  m.levels.cpu_khz = r.levels(r.need(c, "cpu_khz", "clocks"), "clocks.cpu_khz");
  m.levels.gpu_hz = r.levels(r.need(c, "gpu_hz", "clocks"), "clocks.gpu_hz");
  m.levels.emc_hz = r.levels(r.need(c, "emc_hz", "clocks"), "clocks.emc_hz");
  m.levels.cores = {0};
  if (c["cores"] && c["cores"].size() > 0) {
    const auto cores = r.levels(c["cores"], "clocks.cores");
    m.levels.cores.clear();
    for (double k : cores) {
      if (k < 1 || k != std::floor(k)) r.fail(c["cores"], "clocks.cores: expected positive whole numbers");
      m.levels.cores.push_back(static_cast<int>(k));
    }
  }
  const grid::ClockReference ref = grid::reference_of(m.levels);
  if (const YAML::Node src = root["source"]; src && src.IsMap()) {
    if (src["dataset"]) m.dataset = src["dataset"].Scalar();
    if (src["format"]) m.format = src["format"].Scalar();
    m.budget = static_cast<size_t>(r.optional(src, "budget", "source", 0));
    m.seed = static_cast<uint64_t>(r.optional(src, "seed", "source", 0));
    m.profiled = static_cast<size_t>(r.optional(src, "profiled", "source", 0));
  }
  const YAML::Node series = r.need(root, "series", "model");
  if (!series.IsSequence() || series.size() == 0) r.fail(series, "series: expected a non-empty list");
  for (size_t i = 0; i < series.size(); ++i)
    m.series.push_back(parse_series(series[i], ref, r, fmt::format("series[{}]", i)));
  return std::make_shared<GridLatencyModel>(std::move(m));
}

std::string grid_to_yaml(const grid::GridModel& m, const std::string& name, const std::string& board,
                         const std::string& provenance) {
  YAML::Emitter e;
  e.SetDoublePrecision(10);
  begin_model_document(e, kOldestModelFileVersion, "grid", name, board, provenance);
  e << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "dataset" << YAML::Value << m.dataset;
  e << YAML::Key << "format" << YAML::Value << m.format;
  e << YAML::Key << "budget" << YAML::Value << m.budget;
  e << YAML::Key << "seed" << YAML::Value << m.seed;
  e << YAML::Key << "profiled" << YAML::Value << m.profiled;
  e << YAML::EndMap;
  e << YAML::Key << "clocks" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "cpu_khz" << YAML::Value << YAML::Flow << m.levels.cpu_khz;
  std::vector<int> cores;
  if (m.levels.cores.front() > 0) cores = m.levels.cores;
  e << YAML::Key << "cores" << YAML::Value << YAML::Flow << cores;
  e << YAML::Key << "gpu_hz" << YAML::Value << YAML::Flow << m.levels.gpu_hz;
  e << YAML::Key << "emc_hz" << YAML::Value << YAML::Flow << m.levels.emc_hz;
  e << YAML::EndMap;
  e << YAML::Key << "series" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : m.series) {
    e << YAML::BeginMap;
    if (!s.name.empty()) e << YAML::Key << "name" << YAML::Value << s.name;
    const auto& p = s.latency.params();
    e << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "coupling" << YAML::Value << p.coupling;
    e << YAML::Key << "launch_ms" << YAML::Value << p.launch;
    e << YAML::Key << "memory_stall" << YAML::Value << p.memory_stall;
    e << YAML::Key << "background" << YAML::Value << p.background;
    e << YAML::Key << "gpu_ms" << YAML::Value << p.gpu;
    e << YAML::Key << "memory_ms" << YAML::Value << p.memory;
    e << YAML::Key << "roofline" << YAML::Value << p.roofline;
    e << YAML::Key << "device_fixed_ms" << YAML::Value << p.device_fixed;
    e << YAML::Key << "serial_ms" << YAML::Value << p.serial;
    e << YAML::Key << "serial_fixed_ms" << YAML::Value << p.serial_fixed;
    if (!p.launch_cores.empty())
      e << YAML::Key << "launch_cores" << YAML::Value << YAML::Flow << p.launch_cores;
    if (!p.serial_cores.empty())
      e << YAML::Key << "serial_cores" << YAML::Value << YAML::Flow << p.serial_cores;
    e << YAML::Key << "residual_sigma" << YAML::Value << s.residual_sigma;
    e << YAML::EndMap;
    if (s.power) {
      e << YAML::Key << "power" << YAML::Value << YAML::BeginMap;
      write_power_terms(e, *s.power);
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flame::model
