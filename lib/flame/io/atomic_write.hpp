#pragma once
// Replacing a whole file so that readers, and the disk after a crash, see either the old content or
// the new content in full, never a mix: write a temporary file in the target's directory, fsync it,
// rename(2) it over the target (atomic within one file system), then fsync the directory so that the
// rename itself is on disk (fsync(2): syncing a file does not sync the directory entry naming it).
#include <sys/types.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flame::io {

// The steps of write_file_atomically, in order.
enum class AtomicWriteStep { CreateTemp, Write, SyncFile, CloseFile, Rename, SyncDirectory };
std::string_view describe(AtomicWriteStep step);

// A failed step. Before the rename the target is untouched and the temporary file is removed. Only
// SyncDirectory comes after the rename: the target then holds the new content in full, but the
// replacement may not survive a crash, which the message says.
class AtomicWriteError : public std::runtime_error {
 public:
  AtomicWriteError(std::filesystem::path target, AtomicWriteStep step, int error_number);
  const std::filesystem::path& target() const { return target_; }
  AtomicWriteStep step() const { return step_; }
  int error_number() const { return errno_; }

 private:
  std::filesystem::path target_;
  AtomicWriteStep step_;
  int errno_;
};

// The system calls the write makes; each returns -1 and sets errno on failure. Production uses
// posix_file_calls(); a test replaces one call to make a step fail that cannot fail on demand
// (fsync on a healthy disk).
struct FileCalls {
  int (*create)(const char* path);  // a new file for writing, mode 0644 whatever the umask
  ssize_t (*write)(int fd, const void* data, size_t size);
  int (*fsync)(int fd);
  int (*close)(int fd);
  int (*rename)(const char* from, const char* to);
  int (*sync_directory)(const char* dir);  // open, fsync and close a directory
};
const FileCalls& posix_file_calls();

// Durable: the replacement survives a crash (the file and the directory are fsync'ed). VisibleOnly:
// readers see the old or the new content in full, but nothing is fsync'ed; for files that do not
// outlive the machine anyway and are rewritten often (a fake sysfs tree that the simulator refreshes
// after every inference, where two fsyncs per attribute cost 0.6 ms on a disk).
enum class Durability { Durable, VisibleOnly };

// Replaces `target` (which may not exist yet) by `content`; the directory must exist. A symbolic
// link is followed: the file it points to is replaced. Throws AtomicWriteError naming the target and
// the failed step.
void write_file_atomically(const std::filesystem::path& target, std::string_view content,
                           Durability durability = Durability::Durable,
                           const FileCalls& calls = posix_file_calls());

}  // namespace flame::io
