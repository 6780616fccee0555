#include "metrics.hpp"

#include <fmt/format.h>

namespace flamed {

std::string prometheus_text(const flame::policy::Status& g, const TransportCounters& transport,
                            const std::vector<std::string>& degraded) {
  const auto& c = g.counters;
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("flamed_requests_total", "counter", "Requests begun (with clocks applied).", double(c.begins));
  metric("flamed_requests_ended_total", "counter", "Requests ended by their client.", double(c.ends));
  metric("flamed_requests_expired_total", "counter", "Requests released by expiry.", double(c.expired));
  metric("flamed_request_errors_total", "counter", "Requests answered with an error.", double(c.errors));
  metric("flamed_requests_infeasible_total", "counter", "Requests whose deadline no clocks could meet.",
         double(c.infeasible));
  metric("flamed_deadline_met_total", "counter", "Ended requests whose reported latency met the deadline.",
         double(c.deadline_met));
  metric("flamed_deadline_missed_total", "counter",
         "Ended requests whose reported latency missed the deadline.", double(c.deadline_missed));
  metric("flamed_clock_changes_total", "counter", "Clock changes written to the board.",
         double(c.clock_changes));
  metric("flamed_hardware_faults_total", "counter",
         "Clock writes or restores the board refused (flamed logged them and kept serving).",
         double(c.hardware_faults));
  metric("flamed_accept_failures_total", "counter",
         "Connections the socket could not accept (out of descriptors: accepts paused, not spun).",
         double(transport.accept_failures));
  metric("flamed_degraded", "gauge",
         "1 when flamed cannot do its whole job (flamectl status and the log say why), else 0.",
         degraded.empty() ? 0.0 : 1.0);
  const uint64_t measured = c.deadline_met + c.deadline_missed;
  metric("flamed_prediction_abs_error_pct", "gauge",
         "Mean |measured - predicted| / measured over ended requests.",
         measured ? c.abs_error_pct_sum / double(measured) : 0.0);
  const auto& a = g.applied;
  out += "# HELP flamed_clock_hz Clock currently applied (CPU in Hz).\n# TYPE flamed_clock_hz gauge\n";
  out += fmt::format("flamed_clock_hz{{domain=\"cpu\"}} {}\n", a.cpu_khz * 1000);
  out += fmt::format("flamed_clock_hz{{domain=\"gpu\"}} {}\n", a.gpu_hz);
  out += fmt::format("flamed_clock_hz{{domain=\"emc\"}} {}\n", a.emc_hz);
  out +=
      "# HELP flamed_calibration_factor Measured/predicted latency correction per model bucket.\n"
      "# TYPE flamed_calibration_factor gauge\n";
  for (const auto& [key, s] : g.calibration)
    out += fmt::format("flamed_calibration_factor{{bucket=\"{}\"}} {}\n", key, s.factor);
  out +=
      "# HELP flamed_calibration_spread Scatter of measured/predicted latency per model bucket (sets the "
      "noise-aware margin).\n"
      "# TYPE flamed_calibration_spread gauge\n";
  for (const auto& [key, s] : g.calibration)
    out += fmt::format("flamed_calibration_spread{{bucket=\"{}\"}} {}\n", key, s.spread());
  return out;
}

}  // namespace flamed
