#include "flame/model/detail/power_section.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace flame::model {

grid::PowerModel read_power_terms(const YAML::Node& pw, const grid::ClockReference& ref,
                                  const ModelFileReader& r, const std::string& where) {
  const double lref = r.number(r.need(pw, "latency_ref_ms", where), where + ".latency_ref_ms", 1e-12);
  const YAML::Node terms = r.need(pw, "log_terms", where);
  if (!terms.IsMap() || terms.size() == 0)
    r.fail(terms, where + ".log_terms: expected a mapping of feature: weight");
  std::vector<grid::PowerFeature> fs;
  std::vector<double> ws;
  for (const auto& kv : terms) {
    const std::string key = kv.first.Scalar();
    try {
      fs.push_back(grid::PowerFeature::parse(key));
    } catch (const std::invalid_argument& e) {
      r.fail(kv.first, fmt::format("{}.log_terms: {}", where, e.what()));
    }
    ws.push_back(r.number(kv.second, fmt::format("{}.log_terms.{}", where, key), -1e12));
  }
  return grid::PowerModel(ref, lref, fs, ws);
}

void write_power_terms(YAML::Emitter& e, const grid::PowerModel& m) {
  e << YAML::Key << "latency_ref_ms" << YAML::Value << m.latency_ref_ms();
  e << YAML::Key << "log_terms" << YAML::Value << YAML::BeginMap;
  for (size_t i = 0; i < m.features().size(); ++i)
    e << YAML::Key << m.features()[i].name() << YAML::Value << m.weights()[i];
  e << YAML::EndMap;
}

BusyPowerModel read_busy_terms(const YAML::Node& pw, const grid::ClockReference& ref,
                               const ModelFileReader& r, const std::string& where) {
  const YAML::Node terms = r.need(pw, "terms", where);
  if (!terms.IsMap() || terms.size() == 0)
    r.fail(terms, where + ".terms: expected a mapping of term: weight");
  std::vector<BusyTerm> ts;
  std::vector<double> ws;
  for (const auto& kv : terms) {
    const std::string key = kv.first.Scalar();
    try {
      ts.push_back(busy_term_from(key));
    } catch (const std::invalid_argument& e) {
      r.fail(kv.first, fmt::format("{}.terms: {}", where, e.what()));
    }
    ws.push_back(r.number(kv.second, fmt::format("{}.terms.{}", where, key), 0));
  }
  return BusyPowerModel(ref, ts, ws);
}

void write_busy_terms(YAML::Emitter& e, const BusyPowerModel& m) {
  e << YAML::Key << "terms" << YAML::Value << YAML::BeginMap;
  for (size_t i = 0; i < m.terms().size(); ++i)
    e << YAML::Key << to_string(m.terms()[i]) << YAML::Value << m.weights()[i];
  e << YAML::EndMap;
}

}  // namespace flame::model
