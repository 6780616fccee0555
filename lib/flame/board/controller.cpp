#include "flame/board/controller.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "flame/board/detail/text.hpp"
#include "flame/board/discovery.hpp"
#include "flame/board/safe_restore.hpp"

namespace flame::board {

namespace {

std::string canonical_root(const std::string& root) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(root.empty() ? "/" : root, ec);
  return ec ? root : p.string();
}

void check_root(const Baseline& b, const std::string& root, const std::string& file) {
  if (canonical_root(b.sysfs_root) != canonical_root(root))
    throw std::runtime_error(
        fmt::format("{} was taken under sysfs root '{}', not '{}'; restore it under that root first", file,
                    b.sysfs_root, root));
}

RestoreReport restore_locked(const std::string& file, const Baseline& b, FileAccess& io,
                             const RetryPolicy& retry) {
  RestoreReport report = restore_baseline(b, io, retry);
  report.baseline_path = file;
  if (report.ok()) {
    remove_baseline(file);
    report.removed = true;
  } else {
    spdlog::warn("board: restore incomplete, keeping {} for another attempt", file);
  }
  return report;
}

}  // namespace

Controller::Controller(ControllerOptions opts) : Controller(std::move(opts), nullptr) {}

Controller::Controller(ControllerOptions opts, std::shared_ptr<FileAccess> io)
    : opts_(std::move(opts)),
      lock_(ControllerLock::acquire(opts_.sysfs_root, opts_.runtime_dir, opts_.owner, opts_.lock_dir)),
      root_(opts_.sysfs_root),
      io_(io ? std::move(io) : std::make_shared<SysfsFileAccess>(root_)),
      baseline_file_(baseline_path(opts_.runtime_dir)) {
  board_ = discover(root_, *io_);
  board_.emc.available_hz = opts_.emc_rates;
  try {
    baseline_ = load_baseline(baseline_file_);
  } catch (const BaselineUnreadable& e) {
    safe_restore_ = recover_unreadable_baseline(baseline_file_, e.what(), board_, *io_, opts_.writer.retry);
    board_ = discover(root_, *io_);  // the safe restore changed what discovery read
    board_.emc.available_hz = opts_.emc_rates;
  }
  if (baseline_) {
    check_root(*baseline_, root_.root(), baseline_file_);
    if (baseline_->nvpmodel_status != board_.nvpmodel.status) {
      spdlog::info("board: nvpmodel status changed since the baseline ('{}' -> '{}'); adopting its limits",
                   baseline_->nvpmodel_status, board_.nvpmodel.status);
      adopt_nvpmodel_change(*baseline_, *io_, board_.nvpmodel.status);
      save_baseline(*baseline_, baseline_file_);
    }
  }
  make_writer();
}

void Controller::make_writer() {
  writer_ = std::make_unique<ClockWriter>(board_, root_, *io_, opts_.writer);
  writer_->on_before_write([this](const DomainRef& d) { return ensure_saved(d); });
  writer_->on_nvpmodel_change([this](const std::string&, const std::string& now) {
    ++nvpmodel_changes_;
    if (!baseline_) return;
    adopt_nvpmodel_change(*baseline_, *io_, now);
    try {
      save_baseline(*baseline_, baseline_file_);
    } catch (const std::exception& e) {
      spdlog::error("board: {}", e.what());
    }
  });
  // Our own earlier writes are in place now; the ceilings are the values saved before them.
  if (baseline_)
    for (const auto& d : baseline_->domains)
      if (const auto* mx = d.attribute("max"))
        if (auto v = parse_u64(mx->value)) writer_->set_reference_max(d.id, *v);
}

bool Controller::ensure_saved(const DomainRef& d) {
  return save_domain(d.id(), [&] { return capture_domain(board_, d, *io_); });
}

bool Controller::save_domain(const std::string& id, const std::function<SavedDomain()>& capture) {
  if (baseline_ && baseline_->contains(id)) return true;
  const bool created = !baseline_;
  if (created) baseline_ = new_baseline(board_, opts_.owner);
  try {
    baseline_->domains.push_back(capture());
    save_baseline(*baseline_, baseline_file_);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("board: cannot save the baseline for {}: {}", id, e.what());
    if (created)
      baseline_.reset();
    else if (!baseline_->domains.empty() && baseline_->domains.back().id == id)
      baseline_->domains.pop_back();
    return false;
  }
}

GpuWakeResult Controller::wake_gpu() {
  gpu_wake_tried_ = true;
  if (board_.gpu.health.status != DomainStatus::Deferred || board_.gpu.device_dir.empty()) return {};
  const std::string device = board_.gpu.device_dir;
  GpuWakeSteps steps;
  steps.save = [&] { return save_domain(kGpuPowerKind, [&] { return capture_gpu_power(device, *io_); }); };
  steps.rescan = [&] {
    rediscover();
    return board_.gpu.health.status != DomainStatus::Deferred;
  };
  steps.sleep = opts_.sleep;
  if (!steps.sleep) steps.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  auto r = flame::board::wake_gpu(*io_, join(device, "railgate_enable"), steps, opts_.gpu_wake);
  if (r.registered)
    spdlog::info("board: {}", r.message);
  else
    spdlog::warn("board: {}", r.message);
  return r;
}

ApplyReport Controller::set(const ClockRequest& req) {
  GpuWakeResult wake;
  if ((req.gpu_hz || req.max) && !gpu_wake_tried_ && board_.gpu.health.status == DomainStatus::Deferred)
    wake = wake_gpu();
  ApplyReport report = writer_->apply(req, /*dry_run=*/false);
  if (wake.attempted) report.notes.insert(report.notes.begin(), "gpu: " + wake.message);
  return report;
}

ApplyReport Controller::plan(const ClockRequest& req) {
  return writer_->apply(req, /*dry_run=*/true);
}

RestoreReport Controller::restore() {
  if (!baseline_) {
    RestoreReport r;
    r.baseline_path = baseline_file_;
    return r;
  }
  auto report = restore_locked(baseline_file_, *baseline_, *io_, opts_.writer.retry);
  if (report.removed) {
    baseline_.reset();
    writer_->clear_reference_max();
  }
  return report;
}

void Controller::rediscover() {
  board_ = discover(root_, *io_);
  board_.emc.available_hz = opts_.emc_rates;
  make_writer();
}

RestoreReport restore_from_file(const RestoreOptions& opts) {
  const std::string file = baseline_path(opts.runtime_dir);
  // The lock guards a board: its root comes first, from the caller or else the baseline itself (read
  // again under the lock below).
  std::string root = opts.sysfs_root.value_or("");
  if (root.empty()) {
    try {
      if (auto peek = load_baseline(file)) root = peek->sysfs_root;
    } catch (const BaselineUnreadable&) {
    }
  }
  if (root.empty()) root = "/";
  auto lock = ControllerLock::acquire(root, opts.runtime_dir, opts.owner, opts.lock_dir);
  std::optional<Baseline> b;
  try {
    b = load_baseline(file);
  } catch (const BaselineUnreadable& e) {
    const SysfsRoot sysfs(root);
    std::shared_ptr<FileAccess> io = opts.io ? opts.io : std::make_shared<SysfsFileAccess>(sysfs);
    return recover_unreadable_baseline(file, e.what(), discover(sysfs, *io), *io, opts.retry);
  }
  if (!b) {
    RestoreReport r;
    r.baseline_path = file;
    return r;
  }
  check_root(*b, root, file);  // the board whose lock is held
  std::shared_ptr<FileAccess> io =
      opts.io ? opts.io : std::make_shared<SysfsFileAccess>(SysfsRoot(b->sysfs_root));
  return restore_locked(file, *b, *io, opts.retry);
}

}  // namespace flame::board
