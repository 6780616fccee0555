#include "flame/board/detail/controller_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

ControllerLock ControllerLock::acquire(const std::string& runtime_dir, const std::string& owner) {
  ensure_runtime_dir(runtime_dir);
  const std::string path = join(runtime_dir, "controller.lock");
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
  return ControllerLock(fd, path);
}

ControllerLock& ControllerLock::operator=(ControllerLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

ControllerLock::~ControllerLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace flame::board
