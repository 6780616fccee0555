#pragma once
// What `flame profile --e2e` reads from its command's standard output: per-inference latencies,
// one a line (docs/profiling.md, "End-to-end profiling: the latency lines"). A line is
//   - a number, the latency in milliseconds ("12.3", "1.2e1"; spaces around it are allowed);
//   - a JSON object with a numeric "latency_ms" member ({"latency_ms": 12.3, ...}; other members
//     are ignored);
//   - blank, a comment (first non-space character '#'), or a JSON object without "latency_ms":
//     ignored.
// Anything else is an error naming the line, and so is a latency that is not a finite number above
// 0 (NaN, inf, 0, negative): a runtime that prints garbage must not become a model.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flame::profile {

struct LatencyLineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The latency on one line (ms), nullopt for a line that is ignored. Throws LatencyLineError saying
// what is wrong with the line (without its number; latency_lines() adds it).
std::optional<double> parse_latency_line(std::string_view line);

struct LatencyLine {
  double ms = 0;
  std::size_t line = 0;  // 1-based line number in the output
};

// Every latency of an output, in order. Throws LatencyLineError "line N 'text': ..." quoting the line.
std::vector<LatencyLine> parse_latency_lines(std::string_view text);

// The recorded latencies: what is left after dropping the first `warmup` (ms empty when nothing is),
// and their median, the statistic the fit uses per combination.
struct RecordedLatencies {
  std::vector<double> ms;   // after the warm-up
  std::size_t dropped = 0;  // warm-up lines dropped
  double median_ms = 0;
};
RecordedLatencies recorded_latencies(const std::vector<double>& all, std::size_t warmup);

}  // namespace flame::profile
