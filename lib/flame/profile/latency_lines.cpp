#include "flame/profile/latency_lines.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "flame/fit/median.hpp"

namespace flame::profile {
namespace {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

double checked(double v, std::string_view what) {
  if (std::isnan(v)) throw LatencyLineError(fmt::format("{} is NaN, not a latency", what));
  if (std::isinf(v)) throw LatencyLineError(fmt::format("{} is infinite, not a latency", what));
  if (!(v > 0)) throw LatencyLineError(fmt::format("{} is {}: a latency must be above 0 ms", what, v));
  return v;
}

// Shown in messages: long lines are cut, so that a binary blob does not flood the terminal.
std::string quoted(std::string_view line) {
  constexpr std::size_t kMax = 80;
  std::string s(line.substr(0, kMax));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return fmt::format("'{}'{}", s, line.size() > kMax ? "..." : "");
}

}  // namespace

std::optional<double> parse_latency_line(std::string_view raw) {
  const std::string_view line = trim(raw);
  if (line.empty() || line.front() == '#') return std::nullopt;
  if (line.front() == '{') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw LatencyLineError("starts with '{' but is not a JSON object");
    }
    if (!j.is_object()) throw LatencyLineError("is not a JSON object");
    if (!j.contains("latency_ms")) return std::nullopt;
    const auto& v = j.at("latency_ms");
    if (!v.is_number()) throw LatencyLineError("\"latency_ms\" is not a number");
    return checked(v.get<double>(), "\"latency_ms\"");
  }
  double v = 0;
  const char* end = line.data() + line.size();
  // from_chars takes no leading '+', and accepts "nan"/"inf": both are refused below.
  const auto [ptr, ec] = std::from_chars(line.data(), end, v);
  if (ec == std::errc::result_out_of_range) throw LatencyLineError("the number is out of range");
  if (ec != std::errc() || ptr != end)
    throw LatencyLineError(
        "is not a latency: print one number (milliseconds) or one JSON object with \"latency_ms\" per line");
  return checked(v, "the latency");
}

std::vector<LatencyLine> parse_latency_lines(std::string_view text) {
  std::vector<LatencyLine> out;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    try {
      if (const auto v = parse_latency_line(line)) out.push_back({*v, number});
    } catch (const LatencyLineError& e) {
      throw LatencyLineError(fmt::format("line {} {}: {}", number, quoted(trim(line)), e.what()));
    }
  }
  return out;
}

RecordedLatencies recorded_latencies(const std::vector<double>& all, std::size_t warmup) {
  RecordedLatencies r;
  r.dropped = std::min(warmup, all.size());
  r.ms.assign(all.begin() + static_cast<std::ptrdiff_t>(r.dropped), all.end());
  r.median_ms = fit::median(r.ms);
  return r;
}

}  // namespace flame::profile
