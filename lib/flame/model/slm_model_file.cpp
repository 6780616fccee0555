#include "flame/model/slm_model_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "flame/model/detail/layerwise_sections.hpp"
#include "flame/model/detail/model_file_header.hpp"
#include "flame/model/model_file.hpp"

namespace flame::model {

namespace {

SlmPhase read_phase(const YAML::Node& node, ContextPhase phase, const std::vector<double>& emc,
                    const ModelFileReader& r, int version, std::size_t& segments_seen) {
  const std::string at = fmt::format("phases.{}", phase_name(phase));
  SlmPhase p;
  p.phase = phase;
  for (double c : r.levels(r.need(node, "contexts", at), at + ".contexts")) {
    if (c < 1 || c != std::floor(c) || c > 1e7)
      r.fail(node["contexts"], at + ".contexts: expected context lengths as whole numbers from 1");
    p.contexts.push_back(static_cast<int>(c));
  }
  p.costs = read_costs(r.need(node, "costs", at), r, at + ".costs");
  const YAML::Node segs = r.need(node, "segments", at);
  if (!segs.IsSequence() || segs.size() == 0) r.fail(segs, at + ".segments: expected a non-empty list");
  segments_seen += segs.size();
  if (segments_seen > kMaxModelSegments)
    r.fail(segs, fmt::format("{}.segments: {} segments in the file; a model file may hold at most {}", at,
                             segments_seen, kMaxModelSegments));
  const auto terms = static_cast<std::size_t>(basis_size(phase));
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const YAML::Node s = segs[i];
    const std::string where = fmt::format("{}.segments[{}]", at, i);
    p.names.push_back(s["name"] ? r.text(s["name"], where + ".name") : std::string{});
    p.cpu.push_back(read_cpu_curve(r.need(s, "cpu", where), r, where, version));
    const YAML::Node g = r.need(s, "gpu", where);
    if (!g.IsSequence() || g.size() != terms)
      r.fail(g, fmt::format("{}.gpu: expected {} device curves, one per basis function {{{}}}", where, terms,
                            fmt::join(basis_names(phase), ", ")));
    ContextGpuCurve c;
    for (std::size_t k = 0; k < terms; ++k)
      c.terms.push_back(read_gpu_curve(g[k], emc, r, fmt::format("{}.gpu[{}]", where, k)));
    p.gpu.push_back(std::move(c));
  }
  return p;
}

}  // namespace

std::shared_ptr<const SlmLatencyModel> parse_slm_model(const YAML::Node& root, const ModelFileReader& r,
                                                       int version) {
  const auto emc = read_emc_levels(root, r);
  const YAML::Node phases = r.need(root, "phases");
  if (!phases.IsMap() || phases.size() == 0) r.fail(phases, "phases: expected decode and/or prefill");
  std::vector<SlmPhase> out;
  std::size_t segments = 0;
  std::set<std::string> seen;
  for (const auto& kv : phases) {
    const std::string key = kv.first.as<std::string>();
    const auto phase = parse_context_phase(key);
    if (!phase) r.fail(kv.first, fmt::format("phases.{}: not a phase (decode or prefill)", key));
    if (!seen.insert(key).second) r.fail(kv.first, fmt::format("phases.{}: given twice", key));
    out.push_back(read_phase(kv.second, *phase, emc, r, version, segments));
  }
  std::optional<BusyPowerModel> power;
  if (auto lp = read_layer_power(root, r)) {
    const auto* busy = std::get_if<BusyPowerModel>(&*lp);
    if (!busy) r.fail(root["power"], "power: an SLM model has the busy form (terms), not log_terms");
    power = *busy;
  }
  return std::make_shared<SlmLatencyModel>(SlmModel(std::move(out), std::move(power)));
}

std::string slm_to_yaml(const SlmModel& m, const std::string& name, const std::string& board,
                        const std::string& provenance) {
  YAML::Emitter e;
  e.SetDoublePrecision(8);
  begin_model_document(e, kUnderivedModelFileVersion, "slm", name, board, provenance);
  const auto& first = m.phases().front();
  const auto& emc = first.gpu.empty() ? std::vector<double>{} : first.gpu.front().terms.front().emc_hz;
  e << YAML::Key << "emc_hz" << YAML::Value << YAML::Flow << emc;
  e << YAML::Key << "phases" << YAML::Value << YAML::BeginMap;
  for (const auto& p : m.phases()) {
    e << YAML::Key << std::string(phase_name(p.phase)) << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "contexts" << YAML::Value << YAML::Flow << p.contexts;
    write_costs(e, p.costs);
    e << YAML::Key << "segments" << YAML::Value << YAML::BeginSeq;
    for (std::size_t i = 0; i < p.cpu.size(); ++i) {
      e << YAML::Flow << YAML::BeginMap;
      if (i < p.names.size() && !p.names[i].empty()) e << YAML::Key << "name" << YAML::Value << p.names[i];
      write_cpu_curve(e, p.cpu[i]);
      e << YAML::Key << "gpu" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& t : p.gpu[i].terms) write_gpu_curve(e, t);
      e << YAML::EndSeq << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndMap;
  if (const auto& p = m.power()) write_layer_power(e, LayerPower{*p});
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace flame::model
