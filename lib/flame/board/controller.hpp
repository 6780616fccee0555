#pragma once
// Controller: what a process that sets clocks holds. It ties together the controller lock, the
// discovered board, the clock writer and the baseline, so that no write can happen without the lock
// and without the domain's original values saved first. Used by `flame board set` and by flamed.
//
// Daemon life cycle:
//   Controller c({.sysfs_root = ..., .runtime_dir = ..., .owner = "flamed"});  // throws LockHeld
//   c.restore();               // a baseline left by a crashed predecessor is put back first
//   c.set(ClockRequest::from(clocks));   // per decision; writes nothing when nothing changes
//   c.restore();               // on stop / disable / idle
// and `flamed --restore` (ExecStopPost=) calls restore_from_file(), which needs no discovery.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flame/board/baseline.hpp"
#include "flame/board/board.hpp"
#include "flame/board/detail/clock_writer.hpp"
#include "flame/board/detail/controller_lock.hpp"
#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/gpu_wake.hpp"
#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

struct ControllerOptions {
  std::string sysfs_root = "/";
  std::string runtime_dir = kDefaultRuntimeDir;
  std::string lock_dir;         // where the board lock lives; empty: default_lock_dir() (controller_lock.hpp)
  std::string owner = "flame";  // shown to anyone who finds the lock taken
  WriterOptions writer;
  // Supported EMC rates, if known (debugfs does not list them; a board description may). With them, EMC
  // targets snap to a supported rate before writing; without, BPMP rounds and the read-back is accepted.
  std::vector<std::uint64_t> emc_rates;
  // Powering up a GPU whose devfreq device is not registered yet (see wake_gpu()).
  GpuWakeOptions gpu_wake;
  std::function<void(std::chrono::milliseconds)> sleep;  // default: std::this_thread::sleep_for
};

class Controller {
 public:
  // Takes the controller lock (throws LockHeld), discovers the board and loads an existing baseline
  // (throws if it belongs to another sysfs root). A baseline that cannot be used is moved aside and
  // the board gets a safe restore (safe_restore.hpp), reported by safe_restore_report().
  explicit Controller(ControllerOptions opts);
  // Same, with all attribute I/O through `io` (tests put a kernel model here).
  Controller(ControllerOptions opts, std::shared_ptr<FileAccess> io);

  const Board& board() const { return board_; }
  const SysfsRoot& root() const { return root_; }
  // The attribute I/O every write goes through, for readers that must see what the writer sees.
  FileAccess& io() { return *io_; }

  // Clamp, order, write and verify; every domain is added to the baseline before its first write.
  // A request with a GPU target on a deferred GPU first tries wake_gpu() (once per controller).
  ApplyReport set(const ClockRequest& req);
  // The same computation without writing anything (and without touching the baseline).
  ApplyReport plan(const ClockRequest& req);
  // Put back everything in the baseline and delete it; a no-op report when there is none.
  RestoreReport restore();

  bool has_baseline() const { return baseline_.has_value(); }
  const std::optional<Baseline>& baseline() const { return baseline_; }
  const std::string& baseline_file() const { return baseline_file_; }
  // The safe restore made at construction because the baseline could not be used, if any.
  const std::optional<RestoreReport>& safe_restore_report() const { return safe_restore_; }

  // What a domain's target is clamped to right now: table, hardware range, nvpmodel caps, the max the
  // user had before our first write, configured limits. nullopt for an unknown domain.
  std::optional<FrequencyBounds> bounds(const DomainRef& d) { return writer_->bounds(d); }
  // Counts the nvpmodel mode switches seen by set() (they move the ceilings).
  unsigned nvpmodel_changes() const { return nvpmodel_changes_; }

  // New configured limits (a daemon reload): later writes clamp to them.
  void set_limits(const WriterOptions& writer) {
    opts_.writer = writer;
    make_writer();
  }

  // Re-probe the board, e.g. after a domain vanished or a deferred GPU devfreq appeared.
  void rediscover();

  // If the GPU is deferred (no devfreq device yet), power it up once as jetson_clocks does, with
  // railgate_enable saved to the baseline first, and rediscover. Does nothing (attempted = false) for a
  // GPU that is registered or missing; plan() (a dry run) never calls it.
  GpuWakeResult wake_gpu();

 private:
  void make_writer();
  bool ensure_saved(const DomainRef& d);
  bool save_domain(const std::string& id, const std::function<SavedDomain()>& capture);

  ControllerOptions opts_;
  ControllerLock lock_;
  SysfsRoot root_;
  std::shared_ptr<FileAccess> io_;
  Board board_;
  std::unique_ptr<ClockWriter> writer_;
  std::string baseline_file_;
  std::optional<Baseline> baseline_;
  std::optional<RestoreReport> safe_restore_;
  bool gpu_wake_tried_ = false;
  unsigned nvpmodel_changes_ = 0;
};

struct RestoreOptions {
  std::string runtime_dir = kDefaultRuntimeDir;
  std::string lock_dir;  // empty: default_lock_dir()
  // If given, must be the root the baseline was taken under. Without it the baseline names the root
  // (whose board lock is taken); a baseline that cannot be used then falls back to "/".
  std::optional<std::string> sysfs_root;
  std::string owner = "flame board restore";
  std::shared_ptr<FileAccess> io;  // tests; default: real I/O under the baseline's root
  RetryPolicy retry;
};

// Restores from <runtime_dir>/baseline.json alone, under the controller lock of the board (throws
// LockHeld if a live controller holds it). Idempotent: with no baseline it reports had_baseline = false;
// the file is deleted only after a complete restore, so an interrupted restore can simply be run again.
// A baseline that cannot be used is moved aside and the board discovered and given a safe restore
// (safe_restore.hpp; the report has safe = true).
RestoreReport restore_from_file(const RestoreOptions& opts);

}  // namespace flame::board
