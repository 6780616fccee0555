#include "hardware.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "flame/board/description_match.hpp"
#include "flame/io/data_path.hpp"

namespace flamed {
namespace {

flame::board::WriterOptions writer_options(const BoardActuatorOptions& c) {
  auto limit = [](const DomainLimits& d) {
    flame::board::Limit l;
    if (d.min > 0) l.min = static_cast<uint64_t>(d.min);
    if (d.max > 0) l.max = static_cast<uint64_t>(d.max);
    return l;
  };
  flame::board::WriterOptions w;
  w.limits = {limit(c.cpu), limit(c.gpu), limit(c.emc)};
  return w;
}

flame::board::ControllerOptions controller_options(const BoardActuatorOptions& c) {
  flame::board::ControllerOptions o;
  o.sysfs_root = c.sysfs_root.string();
  o.runtime_dir = c.runtime_dir.string();
  o.lock_dir = c.lock_dir.string();
  o.owner = "flamed";
  o.writer = writer_options(c);
  return o;
}

bool same_limits(const DomainLimits& a, const DomainLimits& b) {
  return a.enabled == b.enabled && a.min == b.min && a.max == b.max;
}

// A domain's selectable frequencies: the table narrowed to [min, max]; a disabled or table-less
// domain offers only its current value (the search then leaves it alone), 0 when that is unknown
// (the policy then refuses to plan rather than predict for 0 Hz).
std::vector<double> selectable(const std::vector<uint64_t>& table, const DomainLimits& limits,
                               uint64_t current) {
  std::vector<double> out;
  if (limits.enabled)
    for (uint64_t f : table)
      if ((limits.min <= 0 || f >= limits.min) && (limits.max <= 0 || f <= limits.max))
        out.push_back(double(f));
  if (out.empty()) out.push_back(double(current));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The table entries a domain may be set to now; the whole table when its bounds are unknown.
std::vector<uint64_t> within_bounds(std::vector<uint64_t> table,
                                    const std::optional<flame::board::FrequencyBounds>& b) {
  if (!b) return table;
  std::erase_if(table, [&](uint64_t f) { return f < b->floor || f > b->ceiling; });
  return table;
}

// A domain whose clock cannot be read now (it failed a write) runs at what it ran last.
flame::Clocks known(flame::Clocks read, const flame::Clocks& last) {
  if (!(read.cpu_khz > 0)) read.cpu_khz = last.cpu_khz;
  if (!(read.gpu_hz > 0)) read.gpu_hz = last.gpu_hz;
  if (!(read.emc_hz > 0)) read.emc_hz = last.emc_hz;
  return read;
}

}  // namespace

BoardActuatorOptions BoardActuatorOptions::from(const Config& c) {
  return {c.sysfs_root, c.runtime_dir, c.board_file, {}, c.cpu, c.gpu, c.emc, c.dry_run};
}

BoardActuator::BoardActuator(const BoardActuatorOptions& config)
    : o_(config), controller_(controller_options(config)) {
  choose_description();
  if (const auto& safe = controller_.safe_restore_report())
    spdlog::warn("started after a safe restore of the clocks:\n{}", flame::board::to_text(*safe));
  if (controller_.has_baseline()) {
    spdlog::warn("a clock baseline from a previous run was found in {}: restoring it first",
                 controller_.baseline_file());
    const auto r = controller_.restore();
    if (!r.ok()) spdlog::error("restoring the stale baseline was incomplete:\n{}", flame::board::to_text(r));
  }
  // Right after boot a JetPack 5/6 GPU has no devfreq device until it first powers up; without it the
  // grid would have no GPU axis for the whole life of the daemon.
  if (config.gpu.enabled && !config.dry_run &&
      controller_.board().gpu.health.status == flame::board::DomainStatus::Deferred)
    controller_.wake_gpu();
  build_grid();
  read_back();
  for (const auto& note : controller_.board().notes) spdlog::info("board: {}", note);
}

void BoardActuator::choose_description() {
  std::vector<std::string> problems;
  auto match = flame::board::choose_description(controller_.board(), o_.board_file,
                                                flame::io::find_data("config/boards"), &problems);
  for (const auto& p : problems) spdlog::warn("board description skipped: {}", p);
  if (match.description)
    spdlog::info("board description: {}", match.reason);
  else
    spdlog::warn("board description: {}; set board_file to name the board", match.reason);
  description_ = std::move(match.description);
}

void BoardActuator::build_grid() {
  const flame::ClockGrid before = grid_;
  const auto& b = controller_.board();
  const flame::Clocks now = known(b.current(), last_);
  std::vector<uint64_t> cpu, gpu = b.gpu.available_hz, emc = b.emc.available_hz;
  // Every writable policy gets the same kHz (rounded up to its own table); offer the largest table.
  const flame::board::CpuPolicy* main = nullptr;
  for (const auto& p : b.cpu)
    if (p.health.writable() && p.available_khz.size() > cpu.size()) {
      cpu = p.available_khz;
      main = &p;
    }
  if (description_) {
    if (cpu.empty()) cpu = description_->cpu.frequencies_khz;
    if (gpu.empty()) gpu = description_->gpu.frequencies_hz;
    if (emc.empty()) emc = description_->emc.frequencies_hz;
  }
  const bool gpu_ok = b.gpu.health.writable(), emc_ok = b.emc.health.writable();
  held_.clear();
  if (emc_ok && o_.emc.enabled && emc.empty())
    held_.push_back(
        description_ ? fmt::format("emc: held at its current rate: sysfs does not list its rates, nor does "
                                   "the board description {}",
                                   description_->name)
                     : std::string("emc: held at its current rate: sysfs does not list its rates and no "
                                   "board description matches this board (board_file)"));
  if (!gpu_ok) gpu.clear();
  if (!emc_ok) emc.clear();
  // Only what the writer would really set: above an nvpmodel cap, emc_iso_cap or the max the user had,
  // it clamps, and a plan for a faster clock than the board runs misses its deadline.
  using flame::board::DomainKind;
  if (main) cpu = within_bounds(std::move(cpu), controller_.bounds({DomainKind::Cpu, main->name}));
  if (gpu_ok) gpu = within_bounds(std::move(gpu), controller_.bounds({DomainKind::Gpu, b.gpu.name}));
  if (emc_ok) emc = within_bounds(std::move(emc), controller_.bounds({DomainKind::Emc, "emc"}));
  grid_.cpu_khz = selectable(cpu, o_.cpu, static_cast<uint64_t>(now.cpu_khz));
  grid_.gpu_hz = selectable(gpu, o_.gpu, static_cast<uint64_t>(now.gpu_hz));
  grid_.emc_hz = selectable(emc, o_.emc, static_cast<uint64_t>(now.emc_hz));
  grid_.cpu_cores.clear();  // online cores belong to nvpmodel; not actuated
  if (grid_ == before) return;
  spdlog::info("clock grid: {} CPU x {} GPU x {} EMC points", grid_.cpu_khz.size(), grid_.gpu_hz.size(),
               grid_.emc_hz.size());
}

flame::Clocks BoardActuator::apply(const flame::Clocks& target) {
  flame::Clocks t = target;
  // Disabled domains are never written.
  if (!o_.cpu.enabled) t.cpu_khz = 0;
  if (!o_.gpu.enabled || grid_.gpu_hz.size() < 2) t.gpu_hz = 0;
  if (!o_.emc.enabled || grid_.emc_hz.size() < 2) t.emc_hz = 0;
  const auto req = flame::board::ClockRequest::from(t);
  const unsigned mode_switches = controller_.nvpmodel_changes();
  const auto report = o_.dry_run ? controller_.plan(req) : controller_.set(req);
  // nvpmodel switched modes underneath: later requests plan within the new ceilings.
  if (controller_.nvpmodel_changes() != mode_switches) build_grid();
  spdlog::debug("apply {}: {} write(s)", flame::to_string(target), report.write_count());
  flame::Clocks applied = last_;
  double cpu = 0;  // policies may round differently: report the highest
  for (const auto& d : report.domains) {
    if (d.outcome == flame::board::Outcome::Failed || d.outcome == flame::board::Outcome::Mismatch) {
      // A domain that vanished or became observe-only leaves the grid, so the planner stops using it.
      build_grid();
      throw std::runtime_error(
          fmt::format("{}: {} ({})", d.domain.id(), flame::board::to_string(d.outcome), d.message));
    }
    if (d.outcome == flame::board::Outcome::Skipped || d.outcome == flame::board::Outcome::Dropped) continue;
    const double v = double(d.actual ? d.actual : d.target);
    switch (d.domain.kind) {
      case flame::board::DomainKind::Cpu:
        cpu = std::max(cpu, v);
        break;
      case flame::board::DomainKind::Gpu:
        applied.gpu_hz = v;
        break;
      case flame::board::DomainKind::Emc:
        applied.emc_hz = v;
        break;
    }
  }
  if (cpu > 0) applied.cpu_khz = cpu;
  last_ = applied;
  return applied;
}

void BoardActuator::restore() {
  const auto r = controller_.restore();
  // Read the board afresh: the restored values are what runs now.
  controller_.rediscover();
  build_grid();  // a domain that vanished may be back, one that failed may be gone
  read_back();
  if (!r.ok()) throw std::runtime_error("restore incomplete:\n" + flame::board::to_text(r));
}

void BoardActuator::read_back() {
  last_ = known(controller_.board().current(), last_);
  last_.cpu_cores = 0;
}

flame::Clocks BoardActuator::current() const {
  return last_;
}

bool BoardActuator::set_domains(const BoardActuatorOptions& next) {
  if (same_limits(o_.cpu, next.cpu) && same_limits(o_.gpu, next.gpu) && same_limits(o_.emc, next.emc) &&
      o_.dry_run == next.dry_run)
    return false;
  o_.cpu = next.cpu;
  o_.gpu = next.gpu;
  o_.emc = next.emc;
  o_.dry_run = next.dry_run;
  controller_.set_limits(writer_options(o_));
  build_grid();
  return true;
}

bool restore_baseline(const Config& config) {
  try {
    flame::board::RestoreOptions o;
    o.runtime_dir = config.runtime_dir.string();
    o.sysfs_root = config.sysfs_root.string();
    o.owner = "flamed --restore";
    const auto r = flame::board::restore_from_file(o);
    if (r.safe) {
      spdlog::warn("restore:\n{}", flame::board::to_text(r));
      return r.ok();
    }
    if (!r.had_baseline) {
      spdlog::info("no clock baseline in {}: nothing to restore", config.runtime_dir.string());
      return true;
    }
    spdlog::info("restore:\n{}", flame::board::to_text(r));
    return r.ok();
  } catch (const std::exception& e) {
    spdlog::error("restore failed: {}", e.what());
    return false;
  }
}

}  // namespace flamed
