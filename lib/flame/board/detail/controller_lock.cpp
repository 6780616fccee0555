#include "flame/board/detail/controller_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "flame/board/detail/sysfs_root.hpp"
#include "flame/board/detail/text.hpp"

namespace flame::board {

void ensure_runtime_dir(const std::string& dir) {
  std::string path;
  std::size_t i = 0;
  while (i <= dir.size()) {
    std::size_t j = dir.find('/', i);
    if (j == std::string::npos) j = dir.size();
    path = dir.substr(0, j);
    if (!path.empty() && ::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      throw std::runtime_error(
          fmt::format("cannot create runtime directory {}: {}", path, std::strerror(errno)));
    i = j + 1;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error(fmt::format("runtime directory {} is not a directory", dir));
}

std::string default_lock_dir() {
  const char* env = std::getenv("FLAME_LOCK_DIR");
  return env && *env ? env : "/run/flame";
}

std::string board_lock_path(const std::string& lock_dir, const std::string& sysfs_root) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(sysfs_root.empty() ? "/" : sysfs_root, ec).string();
  if (ec) canonical = sysfs_root;
  while (canonical.size() > 1 && canonical.back() == '/') canonical.pop_back();
  // FNV-1a (64 bit): stable across builds and libraries, unlike std::hash, so every flame binary of
  // any version names the same file for the same board.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return join(lock_dir, fmt::format("board-{:016x}.lock", h));
}

namespace {

// Opens and flocks `path`, then writes "pid owner" into it for whoever finds it taken.
int lock_file(const std::string& path, const std::string& owner) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    // The holder writes "pid owner" after locking; read it to say who is in control.
    char buf[256] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK)
      throw std::runtime_error(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    const std::string holder =
        n > 0 ? std::string(trim(std::string_view(buf, static_cast<std::size_t>(n)))) : "";
    int pid = 0;
    std::string who = "another process";
    if (!holder.empty()) {
      const auto sp = holder.find(' ');
      if (auto v = parse_u64(holder.substr(0, sp))) pid = static_cast<int>(*v);
      who = fmt::format("pid {} ({})", pid, sp == std::string::npos ? "?" : holder.substr(sp + 1));
    }
    throw LockHeld(
        fmt::format("clocks are already controlled by {}: lock {} is held; stop it (or wait for it) "
                    "before setting or restoring clocks",
                    who, path),
        pid);
  }
  const std::string me = fmt::format("{} {}\n", ::getpid(), owner);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock itself is what matters; the holder note is only for error messages.
  }
  return fd;
}

}  // namespace

ControllerLock ControllerLock::acquire(const std::string& sysfs_root, const std::string& runtime_dir,
                                       const std::string& owner, const std::string& lock_dir) {
  const std::string dir = lock_dir.empty() ? default_lock_dir() : lock_dir;
  ensure_runtime_dir(dir);
  const std::string board_path = board_lock_path(dir, sysfs_root);
  const int board_fd = lock_file(board_path, owner);
  try {
    ensure_runtime_dir(runtime_dir);
    const int runtime_fd = lock_file(join(runtime_dir, "controller.lock"), owner);
    return ControllerLock(board_fd, runtime_fd, board_path);
  } catch (...) {
    ::close(board_fd);
    throw;
  }
}

void ControllerLock::release() {
  // Closing the last descriptor releases the flock; the runtime lock goes first, the reverse order.
  if (runtime_fd_ >= 0) ::close(runtime_fd_);
  if (board_fd_ >= 0) ::close(board_fd_);
  runtime_fd_ = board_fd_ = -1;
}

ControllerLock& ControllerLock::operator=(ControllerLock&& o) noexcept {
  if (this != &o) {
    release();
    board_fd_ = o.board_fd_;
    runtime_fd_ = o.runtime_fd_;
    path_ = std::move(o.path_);
    o.board_fd_ = o.runtime_fd_ = -1;
  }
  return *this;
}

ControllerLock::~ControllerLock() {
  release();
}

}  // namespace flame::board
