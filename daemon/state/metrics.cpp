#include "state/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "flame/version.hpp"

namespace flamed {
namespace {

// The text exposition format escapes backslash, double quote and newline in label values.
std::string label(std::string_view v) {
  std::string out;
  for (const char ch : v) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '"')
      out += "\\\"";
    else if (ch == '\n')
      out += "\\n";
    else
      out += ch;
  }
  return out;
}

// Infinities and NaN as the format spells them (fmt writes "inf").
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void histogram(std::string& out, const char* name, const std::string& labels,
               const flame::policy::Histogram& h) {
  const auto& bounds = h.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i)
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels,
                       i < bounds.size() ? number(bounds[i]) : "+Inf", h.cumulative(i));
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, number(h.sum()));
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, h.count());
}

}  // namespace

std::string prometheus_text(const flame::policy::Status& g, const TransportCounters& transport,
                            const std::vector<std::string>& degraded) {
  const auto& c = g.counters;
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    family(out, name, type, help);
    out += fmt::format("{} {}\n", name, number(value));
  };
  family(out, "flamed_build_info", "gauge", "Always 1; the version of the running flamed.");
  out += fmt::format("flamed_build_info{{version=\"{}\"}} 1\n", label(flame::kVersion));
  metric("flamed_requests_total", "counter", "Requests begun (with clocks applied).", double(c.begins));
  metric("flamed_requests_ended_total", "counter", "Requests ended by their client.", double(c.ends));
  metric("flamed_requests_expired_total", "counter", "Requests released by expiry.", double(c.expired));
  metric("flamed_request_errors_total", "counter", "Requests answered with an error.", double(c.errors));
  metric("flamed_requests_infeasible_total", "counter", "Requests whose deadline no clocks could meet.",
         double(c.infeasible));
  metric("flamed_active_requests", "gauge", "Requests begun and not yet ended, expired or disconnected.",
         double(g.active_requests));
  metric("flamed_clock_changes_total", "counter", "Clock changes written to the board.",
         double(c.clock_changes));
  metric("flamed_hardware_faults_total", "counter",
         "Clock writes or restores the board refused (flamed logged them and kept serving).",
         double(c.hardware_faults));
  metric("flamed_accept_failures_total", "counter",
         "Connections the socket could not accept (out of descriptors: accepts paused, not spun).",
         double(transport.accept_failures));
  family(out, "flamed_connections_refused_total", "counter",
         "Connections answered with an error and closed at once, by the limit they hit.");
  out += fmt::format("flamed_connections_refused_total{{reason=\"max_connections\"}} {}\n",
                     transport.refused_max_connections);
  out += fmt::format("flamed_connections_refused_total{{reason=\"max_connections_per_uid\"}} {}\n",
                     transport.refused_per_uid);
  family(out, "flamed_connections_timed_out_total", "counter",
         "Connections closed by a timeout: idle (no request) or line (a request line or reply not through).");
  out += fmt::format("flamed_connections_timed_out_total{{reason=\"idle\"}} {}\n", transport.closed_idle);
  out += fmt::format("flamed_connections_timed_out_total{{reason=\"line\"}} {}\n",
                     transport.closed_line_timeout);
  metric("flamed_degraded", "gauge",
         "1 when flamed cannot do its whole job (flamectl status and the log say why), else 0.",
         degraded.empty() ? 0.0 : 1.0);

  // Per model label (at most kMaxModelLabels names, the rest under "other"), over ends that
  // reported a latency.
  family(out, "flamed_deadlines_total", "counter",
         "Ended requests with a reported latency, by whether it met the deadline.");
  for (const auto& [model, o] : g.outcomes) {
    out += fmt::format("flamed_deadlines_total{{model=\"{}\",result=\"met\"}} {}\n", label(model), o.met);
    out +=
        fmt::format("flamed_deadlines_total{{model=\"{}\",result=\"missed\"}} {}\n", label(model), o.missed);
  }
  family(out, "flamed_latency_deadline_ratio", "histogram",
         "Reported latency over the request's deadline (above 1: missed).");
  for (const auto& [model, o] : g.outcomes)
    histogram(out, "flamed_latency_deadline_ratio", fmt::format("model=\"{}\"", label(model)),
              o.latency_deadline);
  family(out, "flamed_prediction_error_ratio", "histogram",
         "|reported - predicted latency| / reported latency.");
  for (const auto& [model, o] : g.outcomes)
    histogram(out, "flamed_prediction_error_ratio", fmt::format("model=\"{}\"", label(model)),
              o.prediction_error);

  const auto& a = g.applied;
  family(out, "flamed_clock_hz", "gauge", "Clock currently applied (CPU in Hz).");
  out += fmt::format("flamed_clock_hz{{domain=\"cpu\"}} {}\n", number(a.cpu_khz * 1000));
  out += fmt::format("flamed_clock_hz{{domain=\"gpu\"}} {}\n", number(a.gpu_hz));
  out += fmt::format("flamed_clock_hz{{domain=\"emc\"}} {}\n", number(a.emc_hz));
  family(out, "flamed_calibration_factor", "gauge",
         "Measured/predicted latency correction per model bucket.");
  for (const auto& [key, s] : g.calibration)
    out += fmt::format("flamed_calibration_factor{{bucket=\"{}\"}} {}\n", label(key), number(s.factor));
  family(out, "flamed_calibration_spread", "gauge",
         "Scatter of measured/predicted latency per model bucket (sets the noise-aware margin).");
  for (const auto& [key, s] : g.calibration)
    out += fmt::format("flamed_calibration_spread{{bucket=\"{}\"}} {}\n", label(key), number(s.spread()));
  return out;
}

}  // namespace flamed
