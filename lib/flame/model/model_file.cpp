#include "flame/model/model_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <cmath>
#include <optional>

#include "flame/model/detail/model_file_header.hpp"
#include "flame/model/detail/power_section.hpp"
#include "flame/model/grid_model_file.hpp"

namespace flame::model {
namespace {

using Reader = ModelFileReader;

// The optional power section of a layer-wise model: its own reference clocks (a layer-wise file
// has no clock tables) and either the busy form's `terms` or the grid form's `log_terms`.
std::optional<LayerPower> parse_layerwise_power(const YAML::Node& root, const Reader& r) {
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

std::shared_ptr<const LatencyModel> parse_layerwise(const YAML::Node& root, const Reader& r, int version) {
  const YAML::Node c = r.need(root, "costs");
  TimelineCosts costs;
  costs.cpu_offset_ns = r.number(r.need(c, "cpu_offset_ns"), "costs.cpu_offset_ns", -1e12);
  costs.gpu_scale = r.number(r.need(c, "gpu_scale"), "costs.gpu_scale", 1e-6);
  costs.sync_latency_ns = r.number(r.need(c, "sync_latency_ns"), "costs.sync_latency_ns");
  const auto emc = r.levels(r.need(root, "emc_hz"), "emc_hz");
  if (emc.front() <= 0) r.fail(root["emc_hz"], "emc_hz: a memory clock must be above 0 Hz");
  const YAML::Node segs = r.need(root, "segments");
  if (!segs.IsSequence() || segs.size() == 0) r.fail(segs, "segments: expected a non-empty list");
  if (segs.size() > kMaxModelSegments)
    r.fail(segs, fmt::format("segments: {} of them; a model file may hold at most {}", segs.size(),
                             kMaxModelSegments));
  std::vector<std::string> names;
  std::vector<CpuCurve> cpu;
  std::vector<GpuCurve> gpu;
  for (size_t i = 0; i < segs.size(); ++i) {
    const YAML::Node s = segs[i];
    const std::string where = fmt::format("segments[{}]", i);
    names.push_back(s["name"] ? r.text(s["name"], where + ".name") : std::string{});
    const auto h = r.numbers(r.need(s, "cpu"), where + ".cpu");
    // Version 1 host curves have no EMC term: it is 0, so they evaluate exactly as before.
    if (version == 1 && h.size() != 2)
      r.fail(s["cpu"], where + ".cpu: expected [fixed_ns, work_ns_khz] (version 1)");
    if (version >= 2 && h.size() != 3)
      r.fail(s["cpu"], where + ".cpu: expected [fixed_ns, work_ns_khz, memory_ns_hz]");
    cpu.push_back({h[0], h[1], version >= 2 ? h[2] : 0.0});
    const YAML::Node g = r.need(s, "gpu");
    GpuCurve gc;
    gc.emc_hz = emc;
    gc.work_ns_hz = r.number(r.need(g, "work_ns_hz"), where + ".gpu.work_ns_hz");
    gc.memory_ns = r.numbers(r.need(g, "memory_ns"), where + ".gpu.memory_ns");
    if (gc.memory_ns.size() != emc.size())
      r.fail(g["memory_ns"],
             fmt::format("{}.gpu.memory_ns: expected {} values (one per EMC level)", where, emc.size()));
    gpu.push_back(std::move(gc));
  }
  return std::make_shared<LayerwiseLatencyModel>(LayerwiseModel(
      std::move(names), std::move(cpu), std::move(gpu), costs, parse_layerwise_power(root, r)));
}

}  // namespace

LoadedModel parse_model_file(const std::string& yaml, const std::string& source) {
  const Reader r{source};
  const YAML::Node root = r.document(yaml, "flame-model", "model file");
  const double version = r.number(r.need(root, "version"), "version");
  if (version != std::floor(version) || version < kOldestModelFileVersion || version > kModelFileVersion)
    r.fail(root["version"], fmt::format("version {} is not supported (this build reads {} to {})", version,
                                        kOldestModelFileVersion, kModelFileVersion));
  LoadedModel m;
  m.kind = r.text(r.need(root, "kind"), "kind");
  m.name = r.text(r.need(root, "name"), "name");
  if (m.name.empty() || m.name.size() > 128) r.fail(root["name"], "name: must have 1 to 128 characters");
  if (root["board"]) m.board = r.text(root["board"], "board");
  try {
    if (m.kind == "layerwise")
      m.model = parse_layerwise(root, r, static_cast<int>(version));
    else if (m.kind == "grid")
      m.model = parse_grid_model(root, source);
    else
      r.fail(root["kind"], fmt::format("kind '{}' is not known (known: layerwise, grid)", m.kind));
  } catch (const YAML::Exception& e) {
    r.fail(root, std::string("malformed: ") + e.what());
  } catch (const std::invalid_argument& e) {
    r.fail(root, e.what());
  }
  return m;
}

LoadedModel load_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kMaxModelFileBytes)
    throw ModelFileError(
        fmt::format("{}: {} bytes; a model file may hold at most {} bytes (docs/model-format.md)",
                    path.string(), bytes, kMaxModelFileBytes));
  const std::string text = io::read_file<ModelFileError>(path, "model file");
  LoadedModel m = parse_model_file(text, path.string());
  m.digest = model_digest(text);
  return m;
}

std::string model_digest(const std::string& text) {
  const auto crc = ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(text.data()),
                           static_cast<uInt>(text.size()));
  return fmt::format("{:08x}", crc);
}

std::string layerwise_to_yaml(const LayerwiseModel& m, const std::string& name, const std::string& board,
                              const std::string& provenance) {
  YAML::Emitter e;
  e.SetDoublePrecision(8);
  begin_model_document(e, kModelFileVersion, "layerwise", name, board, provenance);
  e << YAML::Key << "costs" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "cpu_offset_ns" << YAML::Value << m.costs().cpu_offset_ns;
  e << YAML::Key << "gpu_scale" << YAML::Value << m.costs().gpu_scale;
  e << YAML::Key << "sync_latency_ns" << YAML::Value << m.costs().sync_latency_ns;
  e << YAML::EndMap;
  const auto& emc = m.gpu_curves().empty() ? std::vector<double>{} : m.gpu_curves().front().emc_hz;
  e << YAML::Key << "emc_hz" << YAML::Value << YAML::Flow << emc;
  e << YAML::Key << "segments" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < m.segments(); ++i) {
    e << YAML::Flow << YAML::BeginMap;
    if (i < m.names().size() && !m.names()[i].empty())
      e << YAML::Key << "name" << YAML::Value << m.names()[i];
    e << YAML::Key << "cpu" << YAML::Value << YAML::Flow
      << std::vector<double>{m.cpu_curves()[i].fixed_ns, m.cpu_curves()[i].work_ns_khz,
                             m.cpu_curves()[i].memory_ns_hz};
    e << YAML::Key << "gpu" << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "work_ns_hz" << YAML::Value << m.gpu_curves()[i].work_ns_hz;
    e << YAML::Key << "memory_ns" << YAML::Value << YAML::Flow << m.gpu_curves()[i].memory_ns;
    e << YAML::EndMap << YAML::EndMap;
  }
  e << YAML::EndSeq;
  if (const auto& p = m.power()) {
    e << YAML::Key << "power" << YAML::Value << YAML::BeginMap;
    const auto& ref =
        std::visit([](const auto& x) -> const grid::ClockReference& { return x.reference(); }, *p);
    e << YAML::Key << "reference" << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "cpu_khz" << YAML::Value << ref.cpu_khz;
    e << YAML::Key << "gpu_hz" << YAML::Value << ref.gpu_hz;
    e << YAML::Key << "emc_hz" << YAML::Value << ref.emc_hz;
    e << YAML::Key << "cores" << YAML::Value << YAML::Flow << ref.cores;
    e << YAML::EndMap;
    if (const auto* b = std::get_if<BusyPowerModel>(&*p))
      write_busy_terms(e, *b);
    else
      write_power_terms(e, std::get<grid::PowerModel>(*p));
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flame::model
