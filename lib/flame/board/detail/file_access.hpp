#pragma once
// FileAccess: the one seam through which the board layer reads and writes attributes. The real
// implementation does raw syscalls under a SysfsRoot; tests put a "kernel model" in front of it that
// enforces each kernel's write rules (EINVAL ordering on 4.9, QoS clamping on 5.10+, EMC lock, ...).
#include <string>
#include <string_view>

#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

struct ReadResult {
  std::string text;  // raw bytes, unparsed
  int error = 0;     // errno, 0 on success
  bool ok() const { return error == 0; }
};

class FileAccess {
 public:
  virtual ~FileAccess() = default;
  // Paths are absolute inside the root ("/sys/...").
  virtual ReadResult read(const std::string& path) = 0;
  // Writes `text` in a single write(2); returns 0 or the errno the kernel gave.
  virtual int write(const std::string& path, std::string_view text) = 0;
};

// Real I/O: open(O_CLOEXEC|O_NOFOLLOW), one read or write, checked close. O_TRUNC on writes is harmless
// on sysfs and needed for plain files in fake trees.
class SysfsFileAccess final : public FileAccess {
 public:
  explicit SysfsFileAccess(SysfsRoot root) : root_(std::move(root)) {}
  ReadResult read(const std::string& path) override;
  int write(const std::string& path, std::string_view text) override;
  const SysfsRoot& root() const { return root_; }

 private:
  SysfsRoot root_;
};

// How the board layer reacts to an errno from a write (docs/board-io.md, "Error classes").
enum class ErrorClass {
  None,
  DomainGone,    // ENOENT, ENODEV, ENXIO: the domain vanished (hotplug, driver unbound): disable it
  NotPermitted,  // EACCES, EPERM, EROFS, EISDIR, ELOOP: not ours to write: observe only
  Invalid,       // EINVAL, ERANGE: bad value or offline policy: drop the target, log
  Busy,          // EBUSY, EAGAIN, EINTR: transient (hotplug race, inactive QoS request): bounded retry
  Other,         // anything else (EIO, ...): treat as a failed write of this target
};

ErrorClass classify(int err);
const char* to_string(ErrorClass c);
// "EINVAL (Invalid argument)"
std::string errno_name(int err);

}  // namespace flame::board
