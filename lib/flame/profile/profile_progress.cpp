#include "flame/profile/profile_progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace flame::profile {

std::string duration_text(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
  return fmt::format("{} d {} h", s / 86400, (s % 86400) / 3600);
}

std::string progress_line(const ProfileProgress& p, std::size_t exhaustive_steps, int bar_width) {
  const double frac = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0;
  const int filled = std::clamp(static_cast<int>(std::lround(frac * bar_width)), 0, bar_width);
  return fmt::format("[{}{}] {}/{} {:3.0f}%  {}/combination  ETA {}  (exhaustive: {} combinations, ~{})",
                     std::string(static_cast<size_t>(filled), '#'),
                     std::string(static_cast<size_t>(bar_width - filled), '.'), p.done, p.total, 100 * frac,
                     duration_text(p.mean_step_s), duration_text(p.eta_s), exhaustive_steps,
                     duration_text(p.exhaustive_s));
}

}  // namespace flame::profile
