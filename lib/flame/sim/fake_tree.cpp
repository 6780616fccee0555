#include "flame/sim/fake_tree.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "flame/io/atomic_write.hpp"

namespace fs = std::filesystem;

namespace flame::sim {

namespace {

std::vector<std::string> parts(std::string_view p) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : p) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

// Trees (and runtime dirs) go to tmpfs when possible: production keeps its baseline in /run (tmpfs),
// and the baseline's fsyncs on a disk-backed /tmp would make every test wait on the disk.
std::string temp_base() {
  if (const char* d = std::getenv("FLAME_TEST_TMPDIR"); d && *d) return d;
  if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  if (const char* d = std::getenv("TMPDIR"); d && *d) return d;
  return "/tmp";
}

FakeTree::FakeTree() {
  std::string templ = temp_base() + "/flame-sysfs-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  root_ = templ;
}

FakeTree::FakeTree(std::string dir, bool owned) : root_(std::move(dir)), owned_(owned) {
  fs::create_directories(root_);
}

FakeTree::~FakeTree() {
  if (!owned_) return;
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string FakeTree::host(std::string_view path) const {
  std::string p(path);
  if (p.empty() || p.front() != '/') p = "/" + p;
  return root_ + p;
}

void FakeTree::raw(std::string_view path, std::string_view bytes) {
  const fs::path h = host(path);
  fs::create_directories(h.parent_path());
  std::ofstream f(h, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + h.string());
}

void FakeTree::replace_attr(std::string_view path, std::string_view value) {
  const fs::path h = host(path);
  fs::create_directories(h.parent_path());
  if (fs::is_symlink(h)) {
    // A current clock linked to its limit (TreeOptions::cur_follows_max): the writer takes it over.
    // Writing through the link would overwrite the limit, so the link itself is replaced.
    const fs::path staged = h.string() + ".sim";
    write_file_atomically(staged, std::string(value) + "\n", io::Durability::VisibleOnly);
    fs::rename(staged, h);
    return;
  }
  write_file_atomically(h, std::string(value) + "\n",
                        io::Durability::VisibleOnly);  // like sysfs, not on disk
}

void FakeTree::dir(std::string_view path) {
  fs::create_directories(host(path));
}

void FakeTree::link(std::string_view path, std::string_view target) {
  auto from = parts(path);
  auto to = parts(target);
  from.pop_back();  // the link's directory
  std::size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string rel;
  for (std::size_t i = common; i < from.size(); ++i) rel += "../";
  for (std::size_t i = common; i < to.size(); ++i) rel += to[i] + (i + 1 < to.size() ? "/" : "");
  if (rel.empty()) rel = ".";
  const fs::path h = host(path);
  fs::create_directories(h.parent_path());
  std::error_code ec;
  fs::remove(h, ec);
  fs::create_symlink(rel, h);
}

void FakeTree::remove(std::string_view path) {
  std::error_code ec;
  fs::remove_all(host(path), ec);
}

void FakeTree::make_directory(std::string_view path) {
  remove(path);
  fs::create_directories(host(path));
}

std::string FakeTree::read(std::string_view path) const {
  std::ifstream f(host(path), std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + host(path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool FakeTree::exists(std::string_view path) const {
  std::error_code ec;
  return fs::exists(fs::symlink_status(host(path), ec));
}

std::map<std::string, std::string> FakeTree::snapshot() const {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = it->path().string().substr(root_.size());
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      out[rel] = read(rel);
    }
  }
  return out;
}

}  // namespace flame::sim
