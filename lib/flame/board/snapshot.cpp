#include "flame/board/snapshot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/identifying.hpp"
#include "flame/board/detail/nvpmodel.hpp"
#include "flame/board/detail/paths.hpp"

namespace fs = std::filesystem;

namespace flame::board {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

class Collector {
 public:
  Collector(const SysfsRoot& root, const SnapshotOptions& opts, Snapshot& s) : root_(root), o_(opts), s_(s) {}

  // Resolves `path` as discovery does, recording every symlink met on the way, so the copy resolves
  // the same. The resolved in-root path, or nullopt.
  std::optional<std::string> reach(std::string_view path) {
    ResolveEvents events;
    events.link = [&](const std::string& at, const std::string& target) {
      if (!s_.links.count(at)) s_.links[at] = relative_link_target(at, target);
    };
    events.unreadable = [&](const std::string& at, int error) {
      skip(at, "unreadable: " + errno_name(error));
    };
    events.loop = [&] { skip(std::string(path), "symlink loop (links kept, not followed)"); };
    return root_.resolve(path, &events);
  }

  // A file (or an attribute that is a directory), reached through its links.
  void copy_path(std::string_view path) {
    auto r = reach(path);
    if (!r) return;
    struct stat st {};
    if (::lstat(root_.host(*r).c_str(), &st) != 0) return;
    if (S_ISREG(st.st_mode))
      copy_file(*r, st);
    else if (S_ISDIR(st.st_mode))
      s_.dirs.insert(*r);
  }

  // A directory's files and links (never followed); subdirectories `depth` levels down, deeper ones
  // only as empty directories.
  void copy_dir(std::string_view path, int depth) {
    auto r = reach(path);
    if (!r) return;
    copy_real_dir(*r, depth);
  }

  // The bytes of a file already collected, if any.
  const std::string* bytes(const std::string& resolved) const {
    auto it = s_.files.find(resolved);
    return it == s_.files.end() ? nullptr : &it->second;
  }

  void skip(std::string path, std::string reason) {
    if (skipped_.insert(path + '\n' + reason).second)
      s_.skipped.push_back({std::move(path), std::move(reason)});
  }

 private:
  void copy_real_dir(const std::string& dir, int depth) {
    struct stat st {};
    if (::lstat(root_.host(dir).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (S_ISREG(st.st_mode)) copy_file(dir, st);
      return;
    }
    if (!visited_.insert({dir, depth}).second) return;
    s_.dirs.insert(dir);
    for (const auto& name : root_.list(dir)) {
      const std::string p = join(dir, name);
      struct stat e {};
      if (::lstat(root_.host(p).c_str(), &e) != 0) continue;
      if (S_ISLNK(e.st_mode))
        read_link(p);
      else if (S_ISREG(e.st_mode))
        copy_file(p, e);
      else if (S_ISDIR(e.st_mode) && depth > 0)
        copy_real_dir(p, depth - 1);
      else if (S_ISDIR(e.st_mode))
        s_.dirs.insert(p);
      else
        skip(p, "not a regular file");
    }
  }

  std::optional<std::string> read_link(const std::string& at) {
    std::string target(4096, '\0');
    const ssize_t n = ::readlink(root_.host(at).c_str(), target.data(), target.size());
    if (n < 0) {
      skip(at, "unreadable symlink: " + errno_name(errno));
      return std::nullopt;
    }
    target.resize(static_cast<std::size_t>(n));
    if (!s_.links.count(at)) s_.links[at] = relative_link_target(at, target);
    return target;
  }

  void copy_file(const std::string& path, const struct stat& st) {
    if (!seen_.insert(path).second) return;
    if (const auto why = identifying_name(path); !why.empty()) {
      s_.left_out.push_back({path, why});
      return;
    }
    if ((st.st_mode & (S_IRUSR | S_IRGRP | S_IROTH)) == 0) {
      skip(path, "write-only");
      return;
    }
    if (s_.files.size() >= o_.max_files) {
      stop(fmt::format("stopped at {} files (the limit)", o_.max_files));
      return;
    }
    std::string data;
    if (const int err = read_bounded(path, data); err != 0) {
      skip(path, "unreadable: " + errno_name(err));
      return;
    }
    if (data.size() > o_.max_file_bytes) {
      skip(path, fmt::format("larger than {} bytes", o_.max_file_bytes));
      return;
    }
    if (const auto why = identifying_content(data); !why.empty()) {
      s_.left_out.push_back({path, why});
      return;
    }
    if (total_ + data.size() > o_.max_total_bytes) {
      stop(fmt::format("stopped at {} bytes (the limit)", o_.max_total_bytes));
      return;
    }
    total_ += data.size();
    s_.files[path] = std::move(data);
  }

  // Reads at most max_file_bytes + 1 bytes (enough to tell a file is too large); 0 or the errno.
  // Non-blocking: a debugfs file that would wait for events must not hang the snapshot.
  int read_bounded(const std::string& path, std::string& out) const {
    const int fd = ::open(root_.host(path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return errno;
    const std::size_t cap = o_.max_file_bytes + 1;
    out.assign(cap, '\0');
    std::size_t got = 0;
    int err = 0;
    while (got < cap) {
      const ssize_t n = ::read(fd, out.data() + got, cap - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return err;
  }

  void stop(const std::string& why) {
    if (s_.complete) s_.notes.push_back("incomplete: " + why);
    s_.complete = false;
  }

  const SysfsRoot& root_;
  const SnapshotOptions& o_;
  Snapshot& s_;
  std::set<std::pair<std::string, int>> visited_;
  std::set<std::string> seen_;
  std::set<std::string> skipped_;
  std::size_t total_ = 0;
};

bool numbered(std::string_view name, std::string_view prefix) {
  if (!starts_with(name, prefix) || name.size() == prefix.size()) return false;
  for (char c : name.substr(prefix.size()))
    if (c < '0' || c > '9') return false;
  return true;
}

void identity(Collector& c) {
  c.copy_dir(paths::kDeviceTree, 0);  // root properties only (compatible, model, board ids)
  for (const char* f : {"compatible", "model"}) c.copy_path(join(paths::kDeviceTreeBase, f));
  for (const char* f : {paths::kTegraRelease, paths::kTegraChipId, paths::kOsRelease}) c.copy_path(f);
}

void cpus(Collector& c, const SysfsRoot& root) {
  c.copy_dir(paths::kCpuDir, 0);  // online, offline, possible, present
  for (const auto& name : root.list(paths::kCpuDir)) {
    if (!numbered(name, "cpu")) continue;
    const std::string dir = join(paths::kCpuDir, name);
    c.copy_path(join(dir, "online"));
    c.reach(join(dir, "cpufreq"));
  }
  for (const auto& name : root.list(paths::kCpufreqDir))
    if (numbered(name, "policy")) c.copy_dir(join(paths::kCpufreqDir, name), 1);
}

// Of a devfreq device's (or gpu.0's) device directory only these: some nvgpu attributes act when read
// (counters_reset clears the load counters; nvgpu os/linux/sysfs.c), and discovery needs no others.
constexpr std::array<const char*, 5> kGpuDeviceAttributes = {"load", "railgate_enable", "railgate_delay",
                                                             "is_railgated", "gpu_powered_on"};

void device(Collector& c, const std::string& dev) {
  for (const char* a : kGpuDeviceAttributes) c.copy_path(join(dev, a));
  c.copy_dir(join(dev, "of_node"), 0);  // device-tree properties: name, compatible
}

void gpu(Collector& c, const SysfsRoot& root) {
  for (const char* link : paths::kGpuLinks) device(c, link);
  for (const auto& name : root.list(paths::kDevfreqClass)) {
    auto dir = c.reach(join(paths::kDevfreqClass, name));
    if (!dir) continue;
    c.copy_dir(*dir, 1);
    device(c, join(*dir, "device"));
  }
}

void emc(Collector& c) {
  c.copy_dir(paths::kBpmpEmcDir, 0);
  c.copy_dir(paths::kT210EmcDir, 0);
  for (const char* f : {"emc_min_rate", "emc_max_rate"}) c.copy_path(join(paths::kT210BwmgrDir, f));
}

void nvpmodel(Collector& c, Snapshot& s) {
  for (const char* f : {kNvpmodelStatusPath, kEmcIsoCapPath, kNvpmodelConfPath}) c.copy_path(f);
  auto conf_path = c.reach(kNvpmodelConfPath);
  const std::string* text = conf_path ? c.bytes(*conf_path) : nullptr;
  if (!text) return;
  try {
    // The attributes the conf names: discovery resolves its MAX_FREQ paths to the domains they cap.
    const auto conf = parse_nvpmodel_conf(*text);
    for (const auto& p : conf.params)
      for (const auto& [arg, path] : p.args)
        if (!path.empty() && path.front() == '/') c.copy_path(path);
  } catch (const std::exception& e) {
    s.notes.push_back(fmt::format("{} does not parse ({}); the files it names were not copied",
                                  kNvpmodelConfPath, e.what()));
  }
}

void rails(Collector& c, const SysfsRoot& root) {
  for (const auto& name : root.list(paths::kI2cDevices)) {
    auto dev = c.reach(join(paths::kI2cDevices, name));
    if (!dev) continue;
    c.copy_path(join(*dev, "name"));
    const std::string* chip = c.bytes(join(*dev, "name"));
    // INA3221: its hwmon/hwmonN or iio:deviceN attributes, two levels down.
    if (chip && chip->find("ina3221") != std::string::npos) c.copy_dir(*dev, 2);
  }
}

void thermal(Collector& c, const SysfsRoot& root) {
  for (const char* base : {paths::kThermalClass, paths::kThermalVirtual})
    for (const auto& name : root.list(base))
      if (numbered(name, "thermal_zone")) c.copy_dir(join(base, name), 0);
}

}  // namespace

std::size_t Snapshot::bytes() const {
  std::size_t n = 0;
  for (const auto& [path, data] : files) n += data.size();
  return n;
}

std::string relative_link_target(std::string_view link_path, std::string_view target) {
  auto dir = path_components(link_path);
  if (!dir.empty()) dir.pop_back();
  const bool absolute = !target.empty() && target.front() == '/';
  std::vector<std::string> to = absolute ? std::vector<std::string>{} : dir;
  bool climbed_out = false;
  // Lexically, as resolve() does for the link's own (physical) directory.
  for (auto& p : path_components(target)) {
    if (p == ".") continue;
    if (p != "..")
      to.push_back(std::move(p));
    else if (to.empty())
      climbed_out = true;  // resolve() stays at the root; a relative link on disk would leave it
    else
      to.pop_back();
  }
  if (!absolute && !climbed_out) return std::string(target);
  std::size_t common = 0;
  while (common < dir.size() && common < to.size() && dir[common] == to[common]) ++common;
  std::string rel;
  for (std::size_t i = common; i < dir.size(); ++i) rel += "../";
  for (std::size_t i = common; i < to.size(); ++i) rel += to[i] + (i + 1 < to.size() ? "/" : "");
  if (rel.empty()) return ".";
  if (rel.back() == '/') rel.pop_back();
  return rel;
}

Snapshot collect_snapshot(const SysfsRoot& root, const SnapshotOptions& opts) {
  Snapshot s;
  s.source_root = root.root();
  Collector c(root, opts, s);
  identity(c);
  cpus(c, root);
  gpu(c, root);
  emc(c);
  nvpmodel(c, s);
  rails(c, root);
  thermal(c, root);
  return s;
}

nlohmann::json snapshot_manifest(const Snapshot& s, const SnapshotOptions& opts) {
  auto items = [](const std::vector<SnapshotItem>& v) {
    auto a = nlohmann::json::array();
    for (const auto& i : v) a.push_back({{"path", i.path}, {"reason", i.reason}});
    return a;
  };
  auto files = nlohmann::json::array();
  for (const auto& [path, data] : s.files) files.push_back(path);
  return {
      {"format", "flame-board-snapshot"},
      {"version", kSnapshotVersion},
      {"flame_version", opts.flame_version},
      {"date", opts.date},
      {"source_root", s.source_root},
      {"complete", s.complete},
      {"limits",
       {{"max_file_bytes", opts.max_file_bytes},
        {"max_files", opts.max_files},
        {"max_total_bytes", opts.max_total_bytes}}},
      {"copied", {{"files", s.files.size()}, {"links", s.links.size()}, {"bytes", s.bytes()}}},
      {"files", files},
      {"links", s.links},
      {"left_out", items(s.left_out)},
      {"skipped", items(s.skipped)},
      {"notes", s.notes},
  };
}

void write_snapshot(const Snapshot& s, const SnapshotOptions& opts, const std::string& out_dir) {
  std::string trimmed = out_dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const fs::path out = fs::absolute(trimmed).lexically_normal();
  std::error_code ec;
  const auto st = fs::symlink_status(out, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw SnapshotError(fmt::format("{} exists and is not a directory", out_dir));
    if (!fs::is_empty(out, ec) || ec)
      throw SnapshotError(fmt::format("{} exists and is not empty; give a new directory", out_dir));
  }
  const fs::path parent = out.parent_path();
  fs::create_directories(parent, ec);
  if (ec) throw SnapshotError(fmt::format("cannot create {}: {}", parent.string(), ec.message()));
  std::string stage = (parent / ("." + out.filename().string() + ".partial-XXXXXX")).string();
  if (!::mkdtemp(stage.data()))
    throw SnapshotError(fmt::format("cannot create a directory beside {}: {}", out_dir, errno_name(errno)));
  try {
    auto host = [&](const std::string& in_root) { return fs::path(stage + in_root); };
    for (const auto& d : s.dirs) fs::create_directories(host(d));
    for (const auto& [path, data] : s.files) {
      fs::create_directories(host(path).parent_path());
      std::ofstream f(host(path), std::ios::binary | std::ios::trunc);
      f.write(data.data(), static_cast<std::streamsize>(data.size()));
      if (!f.flush()) throw SnapshotError("cannot write " + host(path).string());
    }
    for (const auto& [path, target] : s.links) {
      fs::create_directories(host(path).parent_path());
      fs::create_symlink(target, host(path));
    }
    std::ofstream m(stage + "/" + kSnapshotManifest);
    m << snapshot_manifest(s, opts).dump(2) << "\n";
    if (!m.flush()) throw SnapshotError(fmt::format("cannot write {}", kSnapshotManifest));
    m.close();
    fs::permissions(stage, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    // Replaces an empty directory too (rename(2)); a directory that filled up meanwhile makes it fail.
    if (::rename(stage.c_str(), out.c_str()) != 0)
      throw SnapshotError(fmt::format("cannot move the snapshot into {}: {}", out_dir, errno_name(errno)));
  } catch (const std::exception& e) {
    fs::remove_all(stage, ec);
    if (dynamic_cast<const SnapshotError*>(&e)) throw;
    throw SnapshotError(fmt::format("writing the snapshot to {} failed: {}", out_dir, e.what()));
  }
}

std::string to_text(const Snapshot& s) {
  std::string out = fmt::format("{} files ({} bytes) and {} symlinks from {}{}\n", s.files.size(), s.bytes(),
                                s.links.size(), s.source_root, s.complete ? "" : " (incomplete)");
  for (const auto& i : s.left_out) out += fmt::format("left out ({}): {}\n", i.reason, i.path);
  for (const auto& i : s.skipped) out += fmt::format("skipped ({}): {}\n", i.reason, i.path);
  for (const auto& n : s.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace flame::board
