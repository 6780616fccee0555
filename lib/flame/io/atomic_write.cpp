#include "flame/io/atomic_write.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace flame::io {

namespace {

// Mode 0644 whatever the umask (flamed runs with UMask=0077): other users read these files, e.g.
// node_exporter the metrics text file.
int create_file(const char* path) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0 && ::fchmod(fd, 0644) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(path);
    errno = err;
    return -1;
  }
  return fd;
}

int sync_directory(const char* dir) {
  const int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  errno = err;
  return rc;
}

std::string message(const std::filesystem::path& target, AtomicWriteStep step, int err) {
  const std::string m = fmt::format("{}: cannot replace the file: {} failed: {}", target.string(),
                                    describe(step), std::strerror(err));
  if (step == AtomicWriteStep::SyncDirectory)
    return m + " (the new content is in place but may not survive a crash)";
  return m + " (the file is unchanged)";
}

// Unique among the threads of this process (the counter) and among processes (the pid); a name left
// by a crashed process with the same pid is skipped.
std::atomic<unsigned> temp_counter{0};

}  // namespace

std::string_view describe(AtomicWriteStep step) {
  switch (step) {
    case AtomicWriteStep::CreateTemp:
      return "creating the temporary file";
    case AtomicWriteStep::Write:
      return "writing the temporary file";
    case AtomicWriteStep::SyncFile:
      return "fsync of the temporary file";
    case AtomicWriteStep::CloseFile:
      return "closing the temporary file";
    case AtomicWriteStep::Rename:
      return "renaming the temporary file over the target";
    case AtomicWriteStep::SyncDirectory:
      return "fsync of the directory";
  }
  return "?";
}

AtomicWriteError::AtomicWriteError(std::filesystem::path target, AtomicWriteStep step, int error_number)
    : std::runtime_error(message(target, step, error_number)),
      target_(std::move(target)),
      step_(step),
      errno_(error_number) {}

const FileCalls& posix_file_calls() {
  static const FileCalls calls{create_file, ::write, ::fsync, ::close, ::rename, sync_directory};
  return calls;
}

void write_file_atomically(const std::filesystem::path& target, std::string_view content,
                           Durability durability, const FileCalls& calls) {
  const bool durable = durability == Durability::Durable;
  // Through a symbolic link the file it points to is replaced, not the link (a model file linked
  // into a versioned folder stays linked).
  std::error_code ec;  // a target that does not exist yet is no error here
  std::filesystem::path real = target;
  if (std::filesystem::symlink_status(target, ec).type() == std::filesystem::file_type::symlink) {
    real = std::filesystem::weakly_canonical(target, ec);
    if (ec) throw AtomicWriteError(target, AtomicWriteStep::CreateTemp, ec.value());
  }
  const std::filesystem::path dir = real.has_parent_path() ? real.parent_path() : ".";
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = fmt::format("{}.tmp.{}.{}", real.string(), ::getpid(), temp_counter++);
    fd = calls.create(tmp.c_str());
    if (fd < 0 && (errno != EEXIST || attempt == 100))
      throw AtomicWriteError(target, AtomicWriteStep::CreateTemp, errno);
  }
  // Closes (when still open) and removes the temporary file, then throws: the target is untouched.
  auto fail = [&](AtomicWriteStep step, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw AtomicWriteError(target, step, err);
  };
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = calls.write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(AtomicWriteStep::Write, n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  if (durable && calls.fsync(fd) != 0) fail(AtomicWriteStep::SyncFile, errno);
  const int closed = calls.close(fd);
  fd = -1;  // closed even when close reports an error (close(2))
  if (closed != 0) fail(AtomicWriteStep::CloseFile, errno);
  if (calls.rename(tmp.c_str(), real.c_str()) != 0) fail(AtomicWriteStep::Rename, errno);
  if (durable && calls.sync_directory(dir.c_str()) != 0)
    throw AtomicWriteError(target, AtomicWriteStep::SyncDirectory, errno);
}

}  // namespace flame::io
