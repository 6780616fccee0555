#pragma once
// ControllerLock: one process sets clocks at a time. An advisory flock(2) on
// <runtime_dir>/controller.lock, so the daemon and a profiling run (or two `flame board set`) never
// fight over the same attributes. The kernel drops the lock when the holder exits, kill -9 included,
// so a crashed holder never blocks recovery.
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

class ControllerLock {
 public:
  // Takes the lock without waiting. Throws LockHeld (naming the holder's pid and role) if another
  // process, or another ControllerLock in this one, holds it; std::runtime_error on I/O errors.
  static ControllerLock acquire(const std::string& runtime_dir, const std::string& owner);

  ControllerLock(ControllerLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  ControllerLock& operator=(ControllerLock&& o) noexcept;
  ControllerLock(const ControllerLock&) = delete;
  ControllerLock& operator=(const ControllerLock&) = delete;
  ~ControllerLock();

  const std::string& path() const { return path_; }

 private:
  ControllerLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// mkdir -p with mode 0755; throws std::runtime_error with the path on failure.
void ensure_runtime_dir(const std::string& dir);

}  // namespace flame::board
