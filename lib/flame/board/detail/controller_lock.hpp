#pragma once
// ControllerLock: one process sets a board's clocks at a time. Two advisory flock(2) locks:
//   - the board lock, <lock_dir>/board-<hash of the canonical sysfs root>.lock: one path per board
//     whatever runtime directory a process uses, so two daemons (or a daemon and `flame board set`)
//     configured with different runtime_dir can never drive the same clocks;
//   - the runtime lock, <runtime_dir>/controller.lock: one process per baseline file, so two
//     controllers of different boards never share a runtime directory's baseline.
// The board lock is taken first. The kernel drops both when the holder exits, kill -9 included, so a
// crashed holder never blocks recovery. docs/board-io.md ("Controller lock") explains the choice.
#include <stdexcept>
#include <string>

namespace flame::board {

class LockHeld : public std::runtime_error {
 public:
  LockHeld(const std::string& msg, int holder_pid) : std::runtime_error(msg), holder_pid_(holder_pid) {}
  int holder_pid() const { return holder_pid_; }  // 0 if unknown

 private:
  int holder_pid_;
};

// Where board locks live: $FLAME_LOCK_DIR when set (tests, which have no /run of their own), else
// /run/flame, the directory flamed.service's RuntimeDirectory= makes writable under ProtectSystem=strict.
std::string default_lock_dir();
// The board lock's file for a sysfs root: the root is made canonical first (symlinks, "..", trailing
// slashes), so every spelling of one tree names one lock. Pure apart from reading the file system's links.
std::string board_lock_path(const std::string& lock_dir, const std::string& sysfs_root);

class ControllerLock {
 public:
  // Takes the board lock of `sysfs_root` (in `lock_dir`, default_lock_dir() when empty), then the
  // runtime lock, without waiting. Throws LockHeld (naming the holder's pid and role) if another
  // process, or another ControllerLock in this one, holds either; std::runtime_error on I/O errors.
  static ControllerLock acquire(const std::string& sysfs_root, const std::string& runtime_dir,
                                const std::string& owner, const std::string& lock_dir = "");

  ControllerLock(ControllerLock&& o) noexcept
      : board_fd_(o.board_fd_), runtime_fd_(o.runtime_fd_), path_(std::move(o.path_)) {
    o.board_fd_ = o.runtime_fd_ = -1;
  }
  ControllerLock& operator=(ControllerLock&& o) noexcept;
  ControllerLock(const ControllerLock&) = delete;
  ControllerLock& operator=(const ControllerLock&) = delete;
  ~ControllerLock();

  const std::string& path() const { return path_; }  // the board lock

 private:
  ControllerLock(int board_fd, int runtime_fd, std::string path)
      : board_fd_(board_fd), runtime_fd_(runtime_fd), path_(std::move(path)) {}
  void release();
  int board_fd_ = -1;
  int runtime_fd_ = -1;
  std::string path_;
};

// mkdir -p with mode 0755; throws std::runtime_error with the path on failure.
void ensure_runtime_dir(const std::string& dir);

}  // namespace flame::board
