#include "flame/board/detail/sysfs_root.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <iterator>

namespace flame::board {

namespace {

// Links followed before resolve() calls it a loop (Linux's own limit, MAXSYMLINKS, is 40).
constexpr int kMaxLinks = 40;

std::deque<std::string> split(std::string_view path) {
  auto parts = path_components(path);
  return {std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end())};
}

std::string join_all(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

}  // namespace

SysfsRoot::SysfsRoot(std::string root) : root_(root.empty() ? std::string(1, '/') : std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string SysfsRoot::host(std::string_view path) const {
  std::string p(path);
  if (p.empty() || p.front() != '/') p = "/" + p;
  if (root_ == "/") return p;
  return root_ + p;
}

std::vector<std::string> path_components(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::optional<std::string> SysfsRoot::resolve(std::string_view path, const ResolveEvents* events) const {
  std::vector<std::string> done;
  std::deque<std::string> pending = split(path);
  int links = 0;
  const auto unreadable = [&](const std::string& at) {
    if (events && events->unreadable && errno != ENOENT && errno != ENOTDIR) events->unreadable(at, errno);
    return std::nullopt;
  };
  while (!pending.empty()) {
    std::string c = std::move(pending.front());
    pending.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(c);
    const std::string at = join_all(done);
    const std::string h = host(at);
    struct stat st {};
    if (::lstat(h.c_str(), &st) != 0) return unreadable(at);
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxLinks) {
      if (events && events->loop) events->loop();
      return std::nullopt;
    }
    std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
    ssize_t n = ::readlink(h.c_str(), target.data(), target.size());
    if (n < 0) return unreadable(at);
    target.resize(static_cast<std::size_t>(n));
    if (events && events->link) events->link(at, target);
    done.pop_back();
    if (!target.empty() && target.front() == '/') done.clear();
    auto parts = split(target);
    pending.insert(pending.begin(), parts.begin(), parts.end());
  }
  return join_all(done);
}

std::vector<std::string> SysfsRoot::list(std::string_view dir) const {
  std::vector<std::string> out;
  DIR* d = ::opendir(host(dir).c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool SysfsRoot::exists(std::string_view path) const {
  auto r = resolve(path);
  return r.has_value();
}

bool SysfsRoot::is_dir(std::string_view path) const {
  auto r = resolve(path);
  if (!r) return false;
  struct stat st {};
  return ::stat(host(*r).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (name.empty()) return out.empty() ? "/" : out;
  if (name.front() != '/') out += '/';
  out += name;
  return out;
}

std::string basename(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace flame::board
