#include "flame/profile/board_clock_control.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace flame::profile {
namespace {

namespace fb = flame::board;

std::optional<double> read_number(fb::FileAccess& io, const std::string& path) {
  if (path.empty()) return std::nullopt;
  const auto r = io.read(path);
  if (!r.ok()) return std::nullopt;
  const char* p = r.text.data();
  const char* end = p + r.text.size();
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || ptr == p) return std::nullopt;
  return v;
}

}  // namespace

BoardClockControl::BoardClockControl(fb::Controller& controller)
    : controller_(controller), io_(controller.root()) {}

Clocks BoardClockControl::apply(const Clocks& target) {
  const auto report = controller_.set(fb::ClockRequest::from(target));
  Clocks pinned;  // 0 where nothing was pinned (domain not writable): settle() does not wait for it
  for (const auto& d : report.domains) {
    if (d.outcome == fb::Outcome::Failed || d.outcome == fb::Outcome::Mismatch ||
        d.outcome == fb::Outcome::Dropped)
      throw std::runtime_error(
          fmt::format("setting {} failed: {} ({})", d.domain.id(), fb::to_string(d.outcome), d.message));
    if (d.outcome != fb::Outcome::Applied && d.outcome != fb::Outcome::Unchanged) continue;
    const double v = static_cast<double>(d.actual ? d.actual : d.target);
    switch (d.domain.kind) {
      case fb::DomainKind::Cpu:
        pinned.cpu_khz = std::max(pinned.cpu_khz, v);
        break;
      case fb::DomainKind::Gpu:
        pinned.gpu_hz = v;
        break;
      case fb::DomainKind::Emc:
        pinned.emc_hz = v;
        break;
    }
  }
  return pinned;
}

Clocks BoardClockControl::current() {
  const auto& b = controller_.board();
  Clocks c;
  bool first = true;
  for (const auto& p : b.cpu) {
    if (!p.health.writable()) continue;
    const double v = read_number(io_, fb::join(p.dir, "scaling_cur_freq")).value_or(0);
    c.cpu_khz = first ? v : std::min(c.cpu_khz, v);
    first = false;
  }
  if (!b.gpu.devfreq_dir.empty())
    c.gpu_hz = read_number(io_, fb::join(b.gpu.devfreq_dir, "cur_freq")).value_or(0);
  c.emc_hz = read_number(io_, b.emc.rate_path).value_or(0);
  return c;
}

void BoardClockControl::restore() {
  const auto r = controller_.restore();
  if (!r.ok()) throw std::runtime_error("restoring the clocks was incomplete:\n" + fb::to_text(r));
}

std::optional<double> read_board_power_mw(const fb::Board& b, fb::FileAccess& io) {
  std::optional<double> sum;
  for (const auto& r : b.rails) {
    std::optional<double> mw;
    if (r.kind == "iio") {
      mw = read_number(io, r.power_path);
    } else {
      const auto mv = read_number(io, r.voltage_path), ma = read_number(io, r.current_path);
      if (mv && ma) mw = *mv * *ma / 1000.0;
    }
    if (!mw) continue;
    if (!b.total_rail.empty() && r.name == b.total_rail) return mw;
    sum = sum.value_or(0.0) + *mw;
  }
  return sum;
}

}  // namespace flame::profile
