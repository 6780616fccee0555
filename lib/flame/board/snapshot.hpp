#pragma once
// Board snapshot (`flame board snapshot`, docs/board-io.md, "Bring-up kit"): a copy of every file and
// symlink that discovery, nvpmodel and the simulator read, laid out as a fake tree that
// `--sysfs-root DIR` loads like the board itself. Symlinks are kept (as relative links inside DIR) and
// never followed in a loop; identifying data (serial numbers, MAC addresses) is left out and listed;
// unreadable or write-only attributes are skipped with a note; sizes are bounded.
//
// Collecting reads only; writing needs a new or empty directory. Time and the root are parameters.
#include <cstddef>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

inline constexpr const char* kSnapshotManifest = "SNAPSHOT.json";
inline constexpr int kSnapshotVersion = 1;

struct SnapshotOptions {
  std::string date;           // when it was taken (the caller's clock), for the manifest
  std::string flame_version;  // for the manifest
  std::size_t max_file_bytes = 64 * 1024;
  std::size_t max_files = 20000;
  std::size_t max_total_bytes = 32 * 1024 * 1024;
};

struct SnapshotItem {
  std::string path;  // in-root
  std::string reason;
};

struct Snapshot {
  std::string source_root;
  std::map<std::string, std::string> files;  // in-root path -> bytes
  std::map<std::string, std::string> links;  // in-root path -> target, relative, inside the root
  std::set<std::string> dirs;          // directories, also empty ones (an attribute that is a directory)
  std::vector<SnapshotItem> left_out;  // identifying data
  std::vector<SnapshotItem> skipped;   // unreadable, write-only, too large, symlink loops
  std::vector<std::string> notes;
  bool complete = true;  // false when max_files or max_total_bytes stopped the copy
  std::size_t bytes() const;
};

class SnapshotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads what discovery reads under `root` (docs/board-io.md, Discovery) and the files the nvpmodel
// configuration names. Never fails: what cannot be read is in `skipped`.
Snapshot collect_snapshot(const SysfsRoot& root, const SnapshotOptions& opts);

// The manifest written as DIR/SNAPSHOT.json: format, version, flame version, date, source root, what
// was copied, left out and skipped.
nlohmann::json snapshot_manifest(const Snapshot& s, const SnapshotOptions& opts);

// Writes the snapshot and its manifest to `out_dir`, which must not exist or be an empty directory
// (SnapshotError otherwise, with nothing changed). Built in a temporary sibling and renamed into place,
// so a failure leaves nothing behind.
void write_snapshot(const Snapshot& s, const SnapshotOptions& opts, const std::string& out_dir);

// A few lines for the terminal: counts, what was left out and skipped.
std::string to_text(const Snapshot& s);

// The target of a symlink at in-root `link_path` whose raw target is `target`, as a relative link that
// resolves inside the root as SysfsRoot::resolve() resolves the original: absolute targets are made
// relative, relative ones kept unless they climb above the root. Pure.
std::string relative_link_target(std::string_view link_path, std::string_view target);

}  // namespace flame::board
