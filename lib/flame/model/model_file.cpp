#include "flame/model/model_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <cmath>
#include <optional>

#include "flame/model/detail/layerwise_sections.hpp"
#include "flame/model/detail/model_file_header.hpp"
#include "flame/model/grid_model_file.hpp"
#include "flame/model/slm_model_file.hpp"

namespace flame::model {
namespace {

using Reader = ModelFileReader;

std::shared_ptr<const LatencyModel> parse_layerwise(const YAML::Node& root, const Reader& r, int version) {
  const TimelineCosts costs = read_costs(r.need(root, "costs"), r, "costs");
  const auto emc = read_emc_levels(root, r);
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
    cpu.push_back(read_cpu_curve(r.need(s, "cpu"), r, where, version));
    gpu.push_back(read_gpu_curve(r.need(s, "gpu"), emc, r, where + ".gpu"));
  }
  return std::make_shared<LayerwiseLatencyModel>(
      LayerwiseModel(std::move(names), std::move(cpu), std::move(gpu), costs, read_layer_power(root, r)));
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
    else if (m.kind == "slm")
      m.model = parse_slm_model(root, r, static_cast<int>(version));
    else
      r.fail(root["kind"], fmt::format("kind '{}' is not known (known: layerwise, slm, grid)", m.kind));
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
  write_costs(e, m.costs());
  const auto& emc = m.gpu_curves().empty() ? std::vector<double>{} : m.gpu_curves().front().emc_hz;
  e << YAML::Key << "emc_hz" << YAML::Value << YAML::Flow << emc;
  e << YAML::Key << "segments" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < m.segments(); ++i) {
    e << YAML::Flow << YAML::BeginMap;
    if (i < m.names().size() && !m.names()[i].empty())
      e << YAML::Key << "name" << YAML::Value << m.names()[i];
    write_cpu_curve(e, m.cpu_curves()[i]);
    e << YAML::Key << "gpu" << YAML::Value;
    write_gpu_curve(e, m.gpu_curves()[i]);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  if (const auto& p = m.power()) write_layer_power(e, *p);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flame::model
