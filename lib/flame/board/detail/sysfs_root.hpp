#pragma once
// SysfsRoot: the directory that stands in for "/" (real hardware: "/", tests: a fake tree). Every path the
// board layer uses is absolute *inside* the root ("/sys/devices/..."); only this class turns it into a
// host path. Symlinks are resolved component by component with absolute targets re-rooted, so a fake tree
// behaves like a chroot and a real one like the real filesystem.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flame::board {

// What resolve() meets on the way, for a caller that must see the links (the snapshot copies them).
struct ResolveEvents {
  std::function<void(const std::string& link, const std::string& target)> link;  // each link followed
  std::function<void(const std::string& at, int error)> unreadable;  // lstat/readlink failed, not ENOENT
  std::function<void()> loop;                                        // more links than resolve follows
};

class SysfsRoot {
 public:
  explicit SysfsRoot(std::string root = "/");

  const std::string& root() const { return root_; }
  // The host filesystem path for an in-root path.
  std::string host(std::string_view path) const;
  // The in-root path with every symlink resolved, or nullopt if some component does not exist (or the
  // links loop). Like realpath(3), but never escapes the root. `events`, if given, hears of each
  // link followed and of why a resolve stopped.
  std::optional<std::string> resolve(std::string_view path, const ResolveEvents* events = nullptr) const;
  // Names of the entries of a directory, sorted; empty if it is missing or unreadable.
  std::vector<std::string> list(std::string_view dir) const;
  bool exists(std::string_view path) const;  // follows symlinks
  bool is_dir(std::string_view path) const;  // follows symlinks

 private:
  std::string root_;  // no trailing slash, except "/" itself
};

// Joins in-root paths: join("/sys/class", "devfreq") == "/sys/class/devfreq".
std::string join(std::string_view dir, std::string_view name);
// The non-empty components of a path: "/sys//class/" -> {"sys", "class"}.
std::vector<std::string> path_components(std::string_view path);
// The last component of a path.
std::string basename(std::string_view path);

}  // namespace flame::board
