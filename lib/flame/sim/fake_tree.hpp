#pragma once
// FakeTree: a directory standing in for "/" (as jtop's test tree /fake_sys): the simulated board's sysfs
// tree (`flame sim tree`) and the tests' fixtures. Paths are in-root ("/sys/..."); symlinks are
// created with relative targets so the tree can be moved and resolved like the real one.
#include <map>
#include <string>
#include <string_view>

namespace flame::sim {

// Where temporary trees go: $FLAME_TEST_TMPDIR, else /dev/shm (tmpfs) if writable, else $TMPDIR, else /tmp.
std::string temp_base();

class FakeTree {
 public:
  FakeTree();  // a fresh mkdtemp directory, removed on destruction
  // Use an existing directory; removed on destruction only if `owned`.
  FakeTree(std::string dir, bool owned);
  ~FakeTree();
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  std::string host(std::string_view path) const;

  // Raw bytes, parents created.
  void raw(std::string_view path, std::string_view bytes);
  // A sysfs attribute: value followed by one newline.
  void attr(std::string_view path, std::string_view value) { raw(path, std::string(value) + "\n"); }
  // Replaces an attribute atomically (flame/io/atomic_write.hpp), so that a concurrent reader (flamed,
  // `flame board show`) sees either the old or the new value, never an empty file. For attributes the
  // simulator refreshes while a daemon runs (cur_freq, power readings). A symlinked attribute becomes
  // a plain file (the link is replaced, its target is left alone).
  void replace_attr(std::string_view path, std::string_view value);
  void dir(std::string_view path);
  // A symlink at `path` pointing at in-root `target`, stored as a relative link.
  void link(std::string_view path, std::string_view target);
  void remove(std::string_view path);  // file, link or whole directory
  // Turns an attribute into a directory: open() for writing then fails with EISDIR and read() with
  // EISDIR, even as root (file modes do not stop root).
  void make_directory(std::string_view path);

  std::string read(std::string_view path) const;  // raw bytes; throws if missing
  bool exists(std::string_view path) const;

  // Every regular file's bytes and every symlink's target, keyed by in-root path.
  std::map<std::string, std::string> snapshot() const;

 private:
  std::string root_;
  bool owned_ = true;
};

}  // namespace flame::sim
