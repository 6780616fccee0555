#include "flame/board/safe_restore.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "flame/board/detail/clamp.hpp"
#include "flame/board/detail/clock_writer.hpp"
#include "flame/io/move_aside.hpp"

namespace flame::board {

namespace {

bool listed(const std::vector<std::string>& governors, const std::string& g) {
  return std::find(governors.begin(), governors.end(), g) != governors.end();
}

// min/max/governor of one range domain (CPU policy or GPU), in the domain's unit.
void set_range(SavedDomain& d, std::uint64_t hw_min, std::uint64_t hw_max,
               const std::vector<std::uint64_t>& table, std::uint64_t current_max,
               const std::optional<std::uint64_t>& cap, bool uncapped,
               const std::vector<std::string>& governors, const std::string& default_governor,
               std::vector<std::string>& notes) {
  const FrequencyBounds hw = make_bounds(hw_min, hw_max, table, {});
  const std::uint64_t lo = hw.table.empty() ? hw.floor : hw.table.front();
  std::uint64_t hi = current_max;
  if (cap || uncapped) {
    if (auto top = highest_frequency(make_bounds(hw_min, hw_max, table, {cap})))
      hi = *top;
    else
      notes.push_back(fmt::format("{}: no frequency lies within the nvpmodel cap {}; max left at {}", d.id,
                                  cap.value_or(0), current_max));
  } else {
    notes.push_back(fmt::format("{}: the nvpmodel cap is not known; max left at {}", d.id, current_max));
  }
  d.attribute("min")->value = std::to_string(lo);
  d.attribute("max")->value = std::to_string(std::max(hi, lo));
  if (listed(governors, default_governor)) {
    d.attribute("governor")->value = default_governor;
  } else {
    std::erase_if(d.attributes, [](const SavedAttribute& a) { return a.role == "governor"; });
    notes.push_back(
        fmt::format("{}: governor {} is not available; governor left as it is", d.id, default_governor));
  }
}

}  // namespace

Baseline safe_baseline(const Board& board, std::vector<std::string>* notes_out) {
  std::vector<std::string> notes;
  Baseline b = new_baseline(board, "safe restore");
  // No mode-switch handling: the targets are computed from the mode in force now.
  b.nvpmodel_status_path.clear();
  b.emc_iso_cap_path.clear();
  for (const auto& p : board.cpu) {
    if (!p.health.writable()) continue;
    SavedDomain d = domain_layout(board, {DomainKind::Cpu, p.name});
    set_range(d, p.cpuinfo_min_khz, p.cpuinfo_max_khz, p.available_khz, p.max_khz, p.nvpmodel_max_khz,
              p.nvpmodel_uncapped, p.available_governors, kDefaultCpuGovernor, notes);
    b.domains.push_back(std::move(d));
  }
  if (const GpuDevice& g = board.gpu; g.health.writable() && !g.available_hz.empty()) {
    SavedDomain d = domain_layout(board, {DomainKind::Gpu, g.name});
    set_range(d, g.available_hz.front(), g.available_hz.back(), g.available_hz, g.max_hz, g.nvpmodel_max_hz,
              g.nvpmodel_uncapped, g.available_governors, kDefaultGpuGovernor, notes);
    b.domains.push_back(std::move(d));
  }
  if (board.emc.health.writable()) {
    SavedDomain d = domain_layout(board, {DomainKind::Emc, "emc"});
    d.attribute("lock")->value = "0";
    // Unlocking needs no rate: the current one is kept until DVFS takes over.
    d.attribute("rate")->value = std::to_string(board.emc.rate_hz);
    b.domains.push_back(std::move(d));
  }
  if (notes_out) *notes_out = std::move(notes);
  return b;
}

RestoreReport recover_unreadable_baseline(const std::string& file, const std::string& why, const Board& board,
                                          FileAccess& io, const RetryPolicy& retry) {
  std::string moved_to;
  std::string move_error;
  try {
    moved_to = flame::io::move_aside(file).string();
  } catch (const std::exception& e) {
    move_error = e.what();
  }
  spdlog::warn(
      "board: the clock baseline cannot be used ({}); {}; restoring the board to a safe state instead", why,
      moved_to.empty() ? "could not move it aside: " + move_error : "moved it to " + moved_to);
  std::vector<std::string> notes;
  const Baseline safe = safe_baseline(board, &notes);
  RestoreReport report = restore_baseline(safe, io, retry);
  report.had_baseline = false;
  report.safe = true;
  report.unreadable = why;
  report.moved_to = moved_to;
  report.baseline_path = file;
  if (!move_error.empty()) notes.insert(notes.begin(), "could not move the baseline aside: " + move_error);
  report.notes.insert(report.notes.begin(), notes.begin(), notes.end());
  if (!report.ok()) spdlog::warn("board: the safe restore was incomplete:\n{}", to_text(report));
  return report;
}

}  // namespace flame::board
