#include "flame/profile/profile_grid.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace flame::profile {
namespace {

std::vector<double> levels(const std::vector<std::uint64_t>& table) {
  std::vector<double> out(table.begin(), table.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The largest table among writable policies: every policy gets the same kHz (rounded to its table).
std::vector<std::uint64_t> cpu_table(const board::Board& b) {
  std::vector<std::uint64_t> t;
  for (const auto& p : b.cpu)
    if (p.health.writable() && p.available_khz.size() > t.size()) t = p.available_khz;
  return t;
}

}  // namespace

ProfileGrid profile_grid(const board::Board& b, const std::optional<board::BoardDescription>& d) {
  ProfileGrid out;
  const Clocks now = b.current();
  auto domain = [&](const char* what, bool writable, std::vector<std::uint64_t> table,
                    const std::vector<std::uint64_t>* described, double current) {
    if (table.empty() && described) table = *described;
    std::string why;
    if (!writable)
      why = "not writable";
    else if (table.empty())
      why = "no frequency table (give --board FILE with one)";
    if (why.empty()) return levels(table);
    if (!(current > 0))
      throw std::runtime_error(fmt::format("{} clock: {} and its current clock cannot be read", what, why));
    out.notes.push_back(fmt::format("{} clock fixed at its current {:.0f}: {}", what, current, why));
    return std::vector<double>{current};
  };
  bool cpu_writable = false;
  for (const auto& p : b.cpu) cpu_writable = cpu_writable || p.health.writable();
  out.grid.cpu_khz =
      domain("CPU", cpu_writable, cpu_table(b), d ? &d->cpu.frequencies_khz : nullptr, now.cpu_khz);
  out.grid.gpu_hz = domain("GPU", b.gpu.health.writable(), b.gpu.available_hz,
                           d ? &d->gpu.frequencies_hz : nullptr, now.gpu_hz);
  out.grid.emc_hz = domain("EMC", b.emc.health.writable(), b.emc.available_hz,
                           d ? &d->emc.frequencies_hz : nullptr, now.emc_hz);
  out.grid.cpu_cores.clear();  // online cores belong to nvpmodel; not a knob here
  return out;
}

}  // namespace flame::profile
