#include "format.hpp"

#include <fmt/format.h>

#include <cmath>

namespace flamectl {
namespace {

double num(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string mhz(double hz) {
  if (hz <= 0) return "-";
  return fmt::format("{:g} MHz", std::round(hz / 1e5) / 10);  // 0.1 MHz resolution
}

std::string ms(double v) {
  return fmt::format("{:.1f} ms", v);
}

}  // namespace

std::string format_clocks(const nlohmann::json& c) {
  if (!c.is_object()) return "-";
  std::string cpu = mhz(num(c, "cpu_khz") * 1e3);
  if (num(c, "cpu_cores") > 0) cpu += fmt::format(" x{:g}", num(c, "cpu_cores"));
  return fmt::format("CPU {}, GPU {}, EMC {}", cpu, mhz(num(c, "gpu_hz")), mhz(num(c, "emc_hz")));
}

std::string format_applied(const nlohmann::json& s) {
  std::string out = fmt::format("applied: {}\n", format_clocks(s.value("applied", nlohmann::json::object())));
  out += s.value("holding", false) ? "flamed is holding these clocks for its requests\n"
                                   : "flamed is not holding clocks (the board runs its own settings)\n";
  return out;
}

std::string format_models(const nlohmann::json& s) {
  const auto models = s.value("models", nlohmann::json::object());
  if (models.empty()) return "no models loaded\n";
  std::string out = fmt::format("{:<28} {:<12} {:<16} {}\n", "MODEL", "KIND", "NEEDS ctx/phase", "BOARD");
  for (const auto& [name, m] : models.items()) {
    if (!m.value("served", true)) {
      out += fmt::format("{:<28} REFUSED: {}\n", name, m.value("refused", std::string("?")));
      continue;
    }
    out += fmt::format("{:<28} {:<12} {:<16} {}\n", name, m.value("kind", std::string("?")),
                       m.value("needs_workload", false) ? "yes" : "no", m.value("board", std::string("-")));
  }
  return out;
}

std::string format_status(const nlohmann::json& s) {
  size_t served = 0;
  const auto models = s.value("models", nlohmann::json::object());
  for (const auto& [name, m] : models.items()) served += m.value("served", true) ? 1 : 0;
  std::string out = fmt::format("flamed: {} connection(s), {} model(s)\n", s.value("connections", 0), served);
  if (s.value("degraded", false)) {
    out += "DEGRADED:\n";
    for (const auto& r : s.value("degraded_reasons", nlohmann::json::array()))
      out += fmt::format("  {}\n", r.is_string() ? r.get<std::string>() : r.dump());
  }
  out += format_applied(s);
  if (const auto fault = s.value("hardware_fault", std::string()); !fault.empty())
    out += fmt::format("hardware fault: the board refused the last clock write ({})\n", fault);
  const auto active = s.value("active_requests", 0);
  if (s.value("requests_scope", std::string("all")) == "own")
    out += fmt::format("active requests: {} ({} of your user)\n", active, s.value("own_requests", 0));
  else
    out += fmt::format("active requests: {}\n", active);
  const auto cal = s.value("calibration", nlohmann::json::object());
  if (cal.is_object() && !cal.empty()) {
    out += "calibration:\n";
    for (const auto& [k, b] : cal.items())
      out += fmt::format("  {:<28} factor {:.3f} ({} samples, {} rejected)\n", k, num(b, "factor"),
                         b.value("samples", 0), b.value("rejected", 0));
  }
  const auto c = s.value("counters", nlohmann::json::object());
  if (!c.empty())
    out += fmt::format(
        "counters: {} begins, {} ends, {} errors, {} expired, {} infeasible; deadlines met {}, missed {}; "
        "{} clock changes, {} refused by the board\n",
        c.value("begins", 0), c.value("ends", 0), c.value("errors", 0), c.value("expired", 0),
        c.value("infeasible", 0), c.value("deadline_met", 0), c.value("deadline_missed", 0),
        c.value("clock_changes", 0), c.value("hardware_faults", 0));
  return out;
}

std::string format_requests(const nlohmann::json& requests, size_t total) {
  std::string out;
  if (requests.size() < total)
    out += fmt::format("requests (first {} of {}):\n", requests.size(), total);
  else
    out += fmt::format("requests ({}):\n", total);
  if (requests.empty()) return out;
  out += fmt::format("  {:>6} {:>6} {:<20} {:>10} {:>10} {:<8} {:>9}  {}\n", "CLIENT", "ID", "MODEL",
                     "DEADLINE", "PREDICTED", "FEASIBLE", "EXPIRES", "CLOCKS");
  for (const auto& a : requests)
    out += fmt::format("  {:>6} {:>6} {:<20} {:>10} {:>10} {:<8} {:>8.1f}s  {}\n", a.value("client", 0),
                       a.value("id", 0), a.value("model", std::string("?")), ms(num(a, "deadline_ms")),
                       ms(num(a, "predicted_ms")), a.value("feasible", false) ? "yes" : "NO",
                       num(a, "expires_in_ms") / 1000,
                       format_clocks(a.value("clocks", nlohmann::json::object())));
  return out;
}

std::string format_begin(const nlohmann::json& r) {
  std::string out =
      fmt::format("request {}: {}, predicted {}{}\n", r.value("id", 0),
                  format_clocks(r.value("clocks", nlohmann::json::object())), ms(num(r, "predicted_ms")),
                  r.value("feasible", true) ? "" : " (deadline NOT feasible: holding maximum clocks)");
  out += fmt::format("applied: {}\n", format_clocks(r.value("applied", nlohmann::json::object())));
  return out;
}

std::string format_end(const nlohmann::json& r) {
  std::string out = fmt::format("request {} ended; applied: {}\n", r.value("id", 0),
                                format_clocks(r.value("applied", nlohmann::json::object())));
  if (r.contains("calibration") && r["calibration"].is_object())
    out += fmt::format("calibration factor {:.3f}{}\n", num(r["calibration"], "factor"),
                       r["calibration"].value("updated", false) ? " (updated)" : "");
  return out;
}

}  // namespace flamectl
