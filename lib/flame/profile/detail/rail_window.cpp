#include "flame/profile/detail/rail_window.hpp"

#include <algorithm>
#include <limits>

namespace flame::profile {

std::string_view to_string(PowerWindow w) {
  return w == PowerWindow::Iterations ? "iterations" : "command";
}

std::optional<PowerWindow> power_window_from(std::string_view s) {
  if (s == "iterations") return PowerWindow::Iterations;
  if (s == "command") return PowerWindow::Command;
  return std::nullopt;
}

namespace {

RailPower mean_of(const std::vector<double>& mw, PowerWindow w) {
  RailPower p;
  p.window = w;
  p.samples = static_cast<int>(mw.size());
  if (mw.empty()) return p;
  double sum = 0;
  for (double v : mw) sum += v;
  p.mw = sum / static_cast<double>(mw.size());
  return p;
}

// How far t lies outside [w.begin, w.end] (0 inside).
std::int64_t distance(const trace::WallWindow& w, std::int64_t t) {
  if (t < w.begin_ns) return w.begin_ns - t;
  if (t > w.end_ns) return t - w.end_ns;
  return 0;
}

}  // namespace

RailPower rail_power(const std::vector<RailSample>& samples,
                     const std::vector<std::optional<trace::WallWindow>>& windows,
                     std::int64_t tolerance_ns) {
  const bool anchored = !windows.empty() && std::all_of(windows.begin(), windows.end(),
                                                        [](const auto& w) { return w.has_value(); });
  std::vector<double> used;
  if (!anchored) {
    for (const auto& s : samples) used.push_back(s.mw);
    return mean_of(used, PowerWindow::Command);
  }
  const RailSample* nearest = nullptr;
  std::int64_t nearest_d = std::numeric_limits<std::int64_t>::max();
  for (const auto& s : samples) {
    std::int64_t d = std::numeric_limits<std::int64_t>::max();
    for (const auto& w : windows) d = std::min(d, distance(*w, s.unix_ns));
    if (d == 0) used.push_back(s.mw);
    if (d < nearest_d) nearest_d = d, nearest = &s;
  }
  if (used.empty() && nearest && nearest_d <= tolerance_ns) used.push_back(nearest->mw);
  return mean_of(used, PowerWindow::Iterations);
}

}  // namespace flame::profile
