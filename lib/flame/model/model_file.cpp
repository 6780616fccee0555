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

SegmentTraits read_traits(const YAML::Node& layer, const Reader& r, const std::string& where) {
  r.only_keys(layer, where, {"type", "kernels", "macs", "flops", "bytes_in", "bytes_out", "param_bytes"});
  SegmentTraits t;
  if (layer["type"]) t.type = r.text(layer["type"], where + ".type");
  if (layer["kernels"])
    t.n_kernels = static_cast<int>(r.number(layer["kernels"], where + ".kernels", 0, 1e9));
  if (layer["macs"]) {
    SegmentFeatures f;
    f.macs = r.number(r.need(layer, "macs", where), where + ".macs");
    f.flops = r.number(r.need(layer, "flops", where), where + ".flops");
    f.bytes_in = r.number(r.need(layer, "bytes_in", where), where + ".bytes_in");
    f.bytes_out = r.number(r.need(layer, "bytes_out", where), where + ".bytes_out");
    f.param_bytes = r.number(r.need(layer, "param_bytes", where), where + ".param_bytes");
    t.features = f;
  }
  return t;
}

// Features are counts: written whole, every digit kept (the emitter's precision is the curves').
void write_count(YAML::Emitter& e, const char* key, double v) {
  e << YAML::Key << key << YAML::Value;
  if (v == std::floor(v) && std::abs(v) < 9e15)
    e << static_cast<long long>(v);
  else
    e << v;
}

void write_traits(YAML::Emitter& e, const SegmentTraits& t) {
  e << YAML::Key << "layer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (!t.type.empty()) e << YAML::Key << "type" << YAML::Value << t.type;
  e << YAML::Key << "kernels" << YAML::Value << t.n_kernels;
  if (const auto& f = t.features) {
    write_count(e, "macs", f->macs);
    write_count(e, "flops", f->flops);
    write_count(e, "bytes_in", f->bytes_in);
    write_count(e, "bytes_out", f->bytes_out);
    write_count(e, "param_bytes", f->param_bytes);
  }
  e << YAML::EndMap;
}

Derivation read_derivation(const YAML::Node& d, const Reader& r) {
  r.only_keys(d, "derived", {"prior", "models", "profiled"});
  Derivation out;
  out.prior = r.text(r.need(d, "prior", "derived"), "derived.prior");
  const YAML::Node models = r.need(d, "models", "derived");
  if (!models.IsSequence() || models.size() == 0) r.fail(models, "derived.models: expected a non-empty list");
  for (std::size_t i = 0; i < models.size(); ++i)
    out.models.push_back(r.text(models[i], fmt::format("derived.models[{}]", i)));
  out.profiled =
      static_cast<std::size_t>(r.number(r.need(d, "profiled", "derived"), "derived.profiled", 1, 1e6));
  return out;
}

std::shared_ptr<const LatencyModel> parse_layerwise(const YAML::Node& root, const Reader& r, int version,
                                                    LayerwiseFileExtras& extras) {
  if (root["derived"]) {
    if (version < 4) r.fail(root["derived"], "derived: needs model file version 4");
    extras.derived = read_derivation(root["derived"], r);
  }
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
    if (s["layer"]) {
      if (extras.traits.size() != i) r.fail(s, where + ": every segment or none has a 'layer'");
      extras.traits.push_back(read_traits(s["layer"], r, where + ".layer"));
    }
  }
  if (!extras.traits.empty() && extras.traits.size() != segs.size())
    r.fail(segs, "segments: every segment or none has a 'layer'");
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
      m.model = parse_layerwise(root, r, static_cast<int>(version), m.extras);
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
                              const std::string& provenance, const LayerwiseFileExtras& extras) {
  if (!extras.traits.empty() && extras.traits.size() != m.segments())
    throw std::invalid_argument("model file: the segment traits do not match the model's segments");
  YAML::Emitter e;
  e.SetDoublePrecision(8);
  begin_model_document(e, extras.derived ? kModelFileVersion : kUnderivedModelFileVersion, "layerwise", name,
                       board, provenance);
  if (const auto& d = extras.derived) {
    e << YAML::Key << "derived" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "prior" << YAML::Value << d->prior;
    e << YAML::Key << "models" << YAML::Value << YAML::Flow << d->models;
    e << YAML::Key << "profiled" << YAML::Value << d->profiled;
    e << YAML::EndMap;
  }
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
    if (i < extras.traits.size()) write_traits(e, extras.traits[i]);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  if (const auto& p = m.power()) write_layer_power(e, *p);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flame::model
