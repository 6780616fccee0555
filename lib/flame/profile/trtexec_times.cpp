#include "flame/profile/trtexec_times.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace flame::profile {

TrtexecMetric trtexec_metric(std::string_view name) {
  if (name == "latency") return TrtexecMetric::Latency;
  if (name == "compute") return TrtexecMetric::Compute;
  if (name == "end-to-end") return TrtexecMetric::EndToEnd;
  throw std::invalid_argument(
      fmt::format("'{}' is not a trtexec metric (latency, compute or end-to-end)", name));
}

const char* trtexec_key(TrtexecMetric m) {
  switch (m) {
    case TrtexecMetric::Latency:
      return "latencyMs";
    case TrtexecMetric::Compute:
      return "computeMs";
    case TrtexecMetric::EndToEnd:
      return "endToEndMs";
  }
  return "latencyMs";
}

std::vector<double> parse_trtexec_times(std::string_view text, TrtexecMetric metric,
                                        const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw TrtexecTimesError(
        fmt::format("{}: not JSON ({}); give the file trtexec --exportTimes= wrote", source, e.what()));
  }
  if (!j.is_array())
    throw TrtexecTimesError(fmt::format(
        "{}: expected a JSON array of queries (trtexec --exportTimes=), got a {}", source, j.type_name()));
  const char* key = trtexec_key(metric);
  std::vector<double> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& q = j[i];
    if (!q.is_object() || !q.contains(key) || !q.at(key).is_number())
      throw TrtexecTimesError(fmt::format("{}: query {} has no numeric \"{}\"", source, i, key));
    out.push_back(q.at(key).get<double>());
  }
  if (out.empty()) throw TrtexecTimesError(fmt::format("{}: no queries", source));
  return out;
}

}  // namespace flame::profile
