#include "flame/board/board.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "flame/board/detail/text.hpp"

namespace flame::board {

const char* to_string(DomainStatus s) {
  switch (s) {
    case DomainStatus::Active:
      return "active";
    case DomainStatus::ObserveOnly:
      return "observe-only";
    case DomainStatus::Offline:
      return "offline";
    case DomainStatus::Deferred:
      return "deferred";
    case DomainStatus::Unavailable:
      return "unavailable";
  }
  return "?";
}

const char* to_string(KernelRules k) {
  switch (k) {
    case KernelRules::Unknown:
      return "unknown";
    case KernelRules::Strict:
      return "strict (4.9: crossing min/max writes fail with EINVAL)";
    case KernelRules::Qos:
      return "qos (5.10+: crossing writes are clamped, stale requests persist)";
  }
  return "?";
}

const CpuPolicy* Board::policy(const std::string& name) const {
  for (const auto& p : cpu)
    if (p.name == name) return &p;
  return nullptr;
}

int Board::online_cores() const {
  int n = 0;
  for (const auto& p : cpu) n += static_cast<int>(p.online_cpus.size());
  return n;
}

Clocks Board::current() const {
  Clocks c;
  for (const auto& p : cpu)
    if (!p.online_cpus.empty()) c.cpu_khz = std::max(c.cpu_khz, static_cast<double>(p.cur_khz));
  c.cpu_cores = online_cores();
  if (gpu.health.status != DomainStatus::Unavailable && !gpu.devfreq_dir.empty())
    c.gpu_hz = static_cast<double>(gpu.cur_hz);
  if (emc.health.status != DomainStatus::Unavailable) c.emc_hz = static_cast<double>(emc.rate_hz);
  return c;
}

std::optional<double> Board::total_power_mw() const {
  std::optional<double> sum;
  for (const auto& r : rails) {
    if (!r.power_mw) continue;
    if (!total_rail.empty() && r.name == total_rail) return r.power_mw;
    sum = sum.value_or(0.0) + *r.power_mw;
  }
  return total_rail.empty() ? sum : std::nullopt;
}

const ThermalZone* Board::thermal_zone(std::string_view kind) const {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  const std::string want = lower(kind);
  for (const auto& z : thermal) {
    if (!z.temp_c) continue;
    std::string prefix = lower(z.type.substr(0, z.type.find_first_of("-_")));
    if (prefix == want) return &z;
  }
  return nullptr;
}

namespace {

nlohmann::json health_json(const DomainHealth& h) {
  nlohmann::json j{{"status", to_string(h.status)}};
  if (!h.reason.empty()) j["reason"] = h.reason;
  return j;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string mhz(std::uint64_t hz) {
  return fmt::format("{:g}", static_cast<double>(hz) / 1e6);
}

std::string list_mhz(const std::vector<std::uint64_t>& v, double scale) {
  std::string out;
  for (auto f : v) out += fmt::format("{}{:g}", out.empty() ? "" : " ", static_cast<double>(f) / scale);
  return out;
}

}  // namespace

nlohmann::json to_json(const Board& b) {
  nlohmann::json j;
  j["sysfs_root"] = b.sysfs_root;
  const auto& id = b.identity;
  j["identity"] = {{"compatible", id.compatible},
                   {"model", id.model},
                   {"soc", id.soc},
                   {"l4t", id.l4t},
                   {"chip_id", opt(id.chip_id)},
                   {"kernel_rules", to_string(id.rules)}};
  j["cpu"] = nlohmann::json::array();
  for (const auto& p : b.cpu) {
    j["cpu"].push_back({{"policy", p.name},
                        {"dir", p.dir},
                        {"related_cpus", p.related_cpus},
                        {"online_cpus", p.online_cpus},
                        {"available_khz", p.available_khz},
                        {"available_governors", p.available_governors},
                        {"governor", p.governor},
                        {"driver", p.driver},
                        {"cpuinfo_min_khz", p.cpuinfo_min_khz},
                        {"cpuinfo_max_khz", p.cpuinfo_max_khz},
                        {"min_khz", p.min_khz},
                        {"max_khz", p.max_khz},
                        {"cur_khz", p.cur_khz},
                        {"nvpmodel_max_khz", opt(p.nvpmodel_max_khz)},
                        {"health", health_json(p.health)}});
  }
  const auto& g = b.gpu;
  j["gpu"] = {{"name", g.name},
              {"devfreq_dir", g.devfreq_dir},
              {"device_dir", g.device_dir},
              {"of_name", g.of_name},
              {"of_compatible", g.of_compatible},
              {"matched_by", g.matched_by},
              {"available_hz", g.available_hz},
              {"available_governors", g.available_governors},
              {"governor", g.governor},
              {"min_hz", g.min_hz},
              {"max_hz", g.max_hz},
              {"cur_hz", g.cur_hz},
              {"load_permille", opt(g.load_permille)},
              {"railgate_enable", opt(g.railgate_enable)},
              {"nvpmodel_max_hz", opt(g.nvpmodel_max_hz)},
              {"ignored_devfreq", g.ignored_devfreq},
              {"health", health_json(g.health)}};
  const auto& e = b.emc;
  j["emc"] = {{"interface", e.interface},
              {"dir", e.dir},
              {"rate_hz", e.rate_hz},
              {"min_hz", e.min_hz},
              {"max_hz", e.max_hz},
              {"locked", e.locked},
              {"health", health_json(e.health)}};
  const auto& n = b.nvpmodel;
  j["nvpmodel"] = {{"status", n.status},
                   {"mode_id", opt(n.mode_id)},
                   {"mode_name", n.mode_name},
                   {"conf_path", n.conf_path},
                   {"emc_iso_cap_hz", opt(n.emc_iso_cap_hz)},
                   {"emc_max_hz", opt(n.emc_max_hz)}};
  j["rails"] = nlohmann::json::array();
  for (const auto& r : b.rails)
    j["rails"].push_back(
        {{"name", r.name}, {"device", r.device}, {"kind", r.kind}, {"power_mw", opt(r.power_mw)}});
  j["total_rail"] = b.total_rail;
  j["total_power_mw"] = opt(b.total_power_mw());
  j["thermal"] = nlohmann::json::array();
  for (const auto& t : b.thermal) {
    nlohmann::json z{{"zone", t.zone}, {"type", t.type}, {"temp_c", opt(t.temp_c)}};
    if (!t.note.empty()) z["note"] = t.note;
    j["thermal"].push_back(z);
  }
  j["current"] = {{"cpu_khz", b.current().cpu_khz},
                  {"cpu_cores", b.current().cpu_cores},
                  {"gpu_hz", b.current().gpu_hz},
                  {"emc_hz", b.current().emc_hz}};
  j["notes"] = b.notes;
  return j;
}

std::string to_text(const Board& b) {
  std::string o;
  const auto& id = b.identity;
  o += fmt::format("Board     {}\n", id.model.empty() ? "(unknown model)" : id.model);
  o += fmt::format("SoC       {}   L4T {}   rules: {}\n", id.soc.empty() ? "unknown" : id.soc,
                   id.l4t.empty() ? "unknown" : id.l4t, to_string(id.rules));
  if (b.sysfs_root != "/") o += fmt::format("Root      {}\n", b.sysfs_root);
  const auto& n = b.nvpmodel;
  o += fmt::format("nvpmodel  {}{}{}\n", n.status.empty() ? "(no status)" : n.status,
                   n.mode_name.empty() ? "" : " = " + n.mode_name,
                   !n.emc_iso_cap_hz        ? ""
                   : *n.emc_iso_cap_hz == 0 ? "   emc_iso_cap none"
                                            : fmt::format("   emc_iso_cap {} MHz", mhz(*n.emc_iso_cap_hz)));
  o += "\nCPU\n";
  for (const auto& p : b.cpu) {
    o += fmt::format("  {:<8} cpus {:<5} online {:<5} {}{}\n", p.name, format_cpu_list(p.related_cpus),
                     p.online_cpus.empty() ? "-" : format_cpu_list(p.online_cpus), to_string(p.health.status),
                     p.health.reason.empty() ? "" : ": " + p.health.reason);
    o += fmt::format("           min {} max {} cur {} kHz (hw {}..{}{}), governor {}\n", p.min_khz, p.max_khz,
                     p.cur_khz, p.cpuinfo_min_khz, p.cpuinfo_max_khz,
                     p.nvpmodel_max_khz ? fmt::format(", nvpmodel cap {}", *p.nvpmodel_max_khz) : "",
                     p.governor);
    o += fmt::format("           table ({}) MHz: {}\n", p.available_khz.size(),
                     list_mhz(p.available_khz, 1e3));
  }
  const auto& g = b.gpu;
  o += fmt::format("\nGPU       {} {}{}\n", g.name.empty() ? "-" : g.name, to_string(g.health.status),
                   g.health.reason.empty() ? "" : ": " + g.health.reason);
  if (!g.devfreq_dir.empty()) {
    o += fmt::format("  devfreq {} (matched by {})\n", g.devfreq_dir, g.matched_by);
    o += fmt::format(
        "  min {} max {} cur {} MHz, governor {}, load {}\n", mhz(g.min_hz), mhz(g.max_hz), mhz(g.cur_hz),
        g.governor,
        g.load_permille ? fmt::format("{:.1f}%", static_cast<double>(*g.load_permille) / 10.0) : "?");
    o += fmt::format("  table ({}) MHz: {}\n", g.available_hz.size(), list_mhz(g.available_hz, 1e6));
  }
  for (const auto& ign : g.ignored_devfreq) o += fmt::format("  ignored devfreq: {}\n", ign);
  const auto& e = b.emc;
  o += fmt::format("\nEMC       {} {}{}\n", e.interface.empty() ? "-" : e.interface,
                   to_string(e.health.status), e.health.reason.empty() ? "" : ": " + e.health.reason);
  if (e.health.status != DomainStatus::Unavailable)
    o += fmt::format("  rate {} MHz (range {}..{}), locked {}\n", mhz(e.rate_hz), mhz(e.min_hz),
                     mhz(e.max_hz), e.locked ? "yes" : "no");
  o += "\nPower rails\n";
  for (const auto& r : b.rails)
    o += fmt::format("  {:<16} {:<7} {:<5} {}\n", r.name, r.device, r.kind,
                     r.power_mw ? fmt::format("{:.0f} mW", *r.power_mw) : "unreadable");
  if (auto tot = b.total_power_mw())
    o += fmt::format("  total {:.0f} mW ({})\n", *tot, b.total_rail.empty() ? "sum of rails" : b.total_rail);
  o += "\nThermal\n";
  for (const auto& t : b.thermal)
    o += fmt::format("  {:<14} {:<16} {}\n", t.zone, t.type,
                     t.temp_c ? fmt::format("{:.1f} C", *t.temp_c) : t.note);
  if (!b.notes.empty()) {
    o += "\nNotes\n";
    for (const auto& note : b.notes) o += "  - " + note + "\n";
  }
  return o;
}

}  // namespace flame::board
