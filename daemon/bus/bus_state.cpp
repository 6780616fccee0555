#include "bus/bus_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "flame/version.hpp"

namespace flamed {

std::map<std::string, double> clock_map(const flame::Clocks& c) {
  return {{"cpu_khz", c.cpu_khz},
          {"cpu_cores", static_cast<double>(c.cpu_cores)},
          {"gpu_hz", c.gpu_hz},
          {"emc_hz", c.emc_hz}};
}

std::map<std::string, double> calibration_map(
    const std::map<std::string, flame::calibrate::CalibrationState>& buckets) {
  std::map<std::string, double> out;
  for (const auto& [key, s] : buckets) out[key] = s.factor;
  return out;
}

std::string board_label(const flame::board::Identity& id) {
  std::vector<std::string> details;
  if (!id.soc.empty()) details.push_back(id.soc);
  if (!id.l4t.empty()) details.push_back("L4T " + id.l4t);
  const std::string inner = fmt::format("{}", fmt::join(details, ", "));
  if (id.model.empty()) return inner.empty() ? "unknown" : inner;
  return inner.empty() ? id.model : fmt::format("{} ({})", id.model, inner);
}

flame::board::DomainHealth cpu_health(const std::vector<flame::board::CpuPolicy>& policies) {
  flame::board::DomainHealth out;
  if (policies.empty()) {
    out.reason = "no cpufreq policy found";
    return out;
  }
  std::vector<std::string> reasons;
  for (const auto& p : policies) {
    if (p.health.writable())
      return {flame::board::DomainStatus::Active, ""};  // one settable policy is enough
    reasons.push_back(p.health.reason.empty() ? fmt::format("{}: {}", p.name, to_string(p.health.status))
                                              : fmt::format("{}: {}", p.name, p.health.reason));
  }
  out.status = policies.front().health.status;
  out.reason = fmt::format("{}", fmt::join(reasons, "; "));
  return out;
}

namespace {

std::vector<uint64_t> frequencies(const std::vector<double>& values) {
  std::vector<uint64_t> out;
  out.reserve(values.size());
  for (double v : values)
    if (v > 0) out.push_back(static_cast<uint64_t>(std::llround(v)));
  return out;
}

DomainInfo domain(const char* name, const char* unit, const flame::board::DomainHealth* health,
                  const DomainLimits& limits, const std::vector<double>& grid) {
  DomainInfo d;
  d.name = name;
  d.unit = unit;
  d.frequencies = frequencies(grid);
  if (!limits.enabled) {
    d.status = "disabled";
    d.reason = fmt::format("domains.{}.enabled is false", name);
  } else if (!health) {
    d.status = "unknown";
  } else {
    d.status = flame::board::to_string(health->status);
    d.reason = health->reason;
    if (health->writable()) d.reason.clear();
  }
  d.controlled = d.status == "active" && d.frequencies.size() >= 2;
  return d;
}

}  // namespace

std::vector<DomainInfo> domain_infos(const flame::board::Board* board, const flame::ClockGrid& grid,
                                     const Config& config) {
  std::optional<flame::board::DomainHealth> cpu;
  if (board) cpu = cpu_health(board->cpu);
  return {domain("cpu", "kHz", cpu ? &*cpu : nullptr, config.cpu, grid.cpu_khz),
          domain("gpu", "Hz", board ? &board->gpu.health : nullptr, config.gpu, grid.gpu_hz),
          domain("emc", "Hz", board ? &board->emc.health : nullptr, config.emc, grid.emc_hz)};
}

std::vector<std::string> degraded_reasons(bool enabled, bool dry_run, size_t models,
                                          const std::vector<DomainInfo>& domains,
                                          const std::string& hardware_fault,
                                          const std::vector<std::string>& held, size_t refused) {
  std::vector<std::string> reasons;
  if (!enabled) reasons.emplace_back("disabled");
  if (!hardware_fault.empty()) reasons.push_back("clock write refused: " + hardware_fault);
  if (dry_run) reasons.emplace_back("dry run");
  if (models == 0)
    reasons.push_back(
        refused ? fmt::format("no models served ({} refused for their board: flamectl models)", refused)
                : "no models loaded");
  bool known = false, controlled = false;
  for (const auto& d : domains) {
    known = known || d.status != "unknown";
    controlled = controlled || d.controlled;
    if (d.status == "active" || d.status == "disabled" || d.status == "unknown") continue;
    reasons.push_back(d.reason.empty() ? fmt::format("{}: {}", d.name, d.status)
                                       : fmt::format("{}: {} ({})", d.name, d.status, d.reason));
  }
  if (known && !controlled) reasons.emplace_back("no clock is controllable: requests change nothing");
  reasons.insert(reasons.end(), held.begin(), held.end());
  return reasons;
}

std::vector<const char*> changed_properties(const BusState& a, const BusState& b) {
  std::vector<const char*> out;
  if (a.domains != b.domains) out.push_back(kPropDomains);
  if (a.clocks != b.clocks) out.push_back(kPropCurrentClocks);
  if (a.active_requests != b.active_requests) out.push_back(kPropActiveRequests);
  if (a.models != b.models) out.push_back(kPropModels);
  if (a.degraded != b.degraded) out.push_back(kPropDegraded);
  if (a.calibration != b.calibration) out.push_back(kPropCalibration);
  if (a.enabled != b.enabled) out.push_back(kPropEnabled);
  return out;
}

BusState snapshot(const Config& config, const flame::policy::Status& status, const flame::board::Board* board,
                  const flame::ClockGrid& grid, const std::vector<std::string>& held) {
  BusState s;
  s.version = flame::kVersion;
  s.board = board ? board_label(board->identity) : "unknown";
  s.domains = domain_infos(board, grid, config);
  s.clocks = clock_map(status.applied);
  s.active_requests = static_cast<uint32_t>(status.active_requests);
  s.models.reserve(status.models.size());
  for (const auto& [name, model] : status.models) s.models.push_back(name);  // std::map: sorted
  s.calibration = calibration_map(status.calibration);
  s.enabled = status.enabled;
  size_t served = 0;
  for (const auto& [name, model] : status.models) served += model.refused.empty();
  s.degraded_reasons = degraded_reasons(s.enabled, config.dry_run, served, s.domains, status.hardware_fault,
                                        held, status.models.size() - served);
  s.degraded = fmt::format("{}", fmt::join(s.degraded_reasons, "; "));
  return s;
}

}  // namespace flamed
