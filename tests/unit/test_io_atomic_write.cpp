// The atomic-write helper: each step's failure names the path and the step, leaves the target as it
// was and removes the temporary file. Failures are produced for real where this machine can (a
// missing directory, no free file descriptor, a file-size limit, a directory as the target); fsync
// and close cannot fail on demand on a healthy disk, so those calls are replaced.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flame/io/atomic_write.hpp"
#include "flame/sim/fake_tree.hpp"

namespace fs = std::filesystem;
using flame::io::AtomicWriteError;
using flame::io::AtomicWriteStep;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Everything in the directory but the target: a temporary file left behind would show here.
std::vector<std::string> leftovers(const fs::path& dir, const fs::path& target) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path() != target) out.push_back(e.path().filename().string());
  return out;
}

// Runs the write, expects the step's error naming the target, and returns it.
AtomicWriteError failure(const fs::path& target, const std::string& content, AtomicWriteStep step,
                         const flame::io::FileCalls& calls = flame::io::posix_file_calls()) {
  try {
    flame::io::write_file_atomically(target, content, flame::io::Durability::Durable, calls);
  } catch (const AtomicWriteError& e) {
    CHECK(e.step() == step);
    CHECK(e.target() == target);
    CHECK_THAT(e.what(), Catch::Contains(target.string()) && Catch::Contains(std::string(describe(step))));
    return e;
  }
  FAIL("no error for step " << describe(step));
  throw std::logic_error("unreachable");
}

// A directory holding `state.json` with the content "old\n": what a failed write must leave alone.
struct OldFile {
  flame::sim::FakeTree dir;
  fs::path target = fs::path(dir.root()) / "state.json";
  OldFile() { std::ofstream(target) << "old\n"; }
  // The old content is in place and no temporary file is left beside it.
  void unchanged() const {
    CHECK(slurp(target) == "old\n");
    CHECK(leftovers(dir.root(), target).empty());
  }
};

// Sets a resource limit for the scope of the object.
class Limit {
 public:
  Limit(int resource, rlim_t soft) : resource_(resource) {
    REQUIRE(::getrlimit(resource_, &saved_) == 0);
    rlimit l = saved_;
    l.rlim_cur = soft;
    REQUIRE(::setrlimit(resource_, &l) == 0);
  }
  ~Limit() { ::setrlimit(resource_, &saved_); }
  Limit(const Limit&) = delete;
  Limit& operator=(const Limit&) = delete;

 private:
  int resource_;
  rlimit saved_{};
};

int fail_eio(int) {
  errno = EIO;
  return -1;
}
int fail_eio_dir(const char*) {
  errno = EIO;
  return -1;
}
int close_then_fail(int fd) {
  ::close(fd);
  errno = EIO;
  return -1;
}

}  // namespace

TEST_CASE("atomic write: creates and replaces a file, mode 0644, no temporary file left", "[io][atomic]") {
  flame::sim::FakeTree dir;
  const fs::path target = fs::path(dir.root()) / "state.json";
  const mode_t old_mask = ::umask(077);  // flamed's UMask: the file is still readable by others
  flame::io::write_file_atomically(target, "first\n");
  ::umask(old_mask);
  CHECK(slurp(target) == "first\n");
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
  flame::io::write_file_atomically(target, std::string(100000, 'x'));
  CHECK(slurp(target) == std::string(100000, 'x'));
  flame::io::write_file_atomically(target, "");
  CHECK(slurp(target).empty());
  CHECK(leftovers(dir.root(), target).empty());
}

TEST_CASE("atomic write: a relative target is written in the working directory", "[io][atomic]") {
  flame::sim::FakeTree dir;
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.root());
  flame::io::write_file_atomically("plain.txt", "here\n");
  fs::current_path(cwd);
  CHECK(slurp(fs::path(dir.root()) / "plain.txt") == "here\n");
}

TEST_CASE("atomic write: creating the temporary file fails", "[io][atomic]") {
  const OldFile old;
  SECTION("the directory does not exist") {
    const fs::path target = fs::path(old.dir.root()) / "missing" / "state.json";
    CHECK(failure(target, "new\n", AtomicWriteStep::CreateTemp).error_number() == ENOENT);
    CHECK_FALSE(fs::exists(target.parent_path()));
  }
  SECTION("no file descriptor is free (the target exists)") {
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    {
      Limit no_more_files(RLIMIT_NOFILE, static_cast<rlim_t>(lowest_free));
      CHECK(failure(old.target, "new\n", AtomicWriteStep::CreateTemp).error_number() == EMFILE);
    }
    old.unchanged();
  }
}

TEST_CASE("atomic write: writing fails (file size limit)", "[io][atomic]") {
  const OldFile old;
  const fs::path& target = old.target;
  // Past RLIMIT_FSIZE write(2) fails with EFBIG once SIGXFSZ is ignored (setrlimit(2)).
  auto* const previous = std::signal(SIGXFSZ, SIG_IGN);
  {
    Limit small_files(RLIMIT_FSIZE, 16);
    CHECK(failure(target, std::string(4096, 'n'), AtomicWriteStep::Write).error_number() == EFBIG);
  }
  std::signal(SIGXFSZ, previous);
  old.unchanged();
}

TEST_CASE("atomic write: fsync or close of the file fails", "[io][atomic]") {
  const OldFile old;
  flame::io::FileCalls calls = flame::io::posix_file_calls();
  AtomicWriteStep step{};
  SECTION("fsync") {
    calls.fsync = fail_eio;
    step = AtomicWriteStep::SyncFile;
  }
  SECTION("close") {
    calls.close = close_then_fail;
    step = AtomicWriteStep::CloseFile;
  }
  CHECK(failure(old.target, "new\n", step, calls).error_number() == EIO);
  old.unchanged();
}

TEST_CASE("atomic write: the rename fails (the target is a directory)", "[io][atomic]") {
  flame::sim::FakeTree dir;
  const fs::path target = fs::path(dir.root()) / "state.json";
  fs::create_directories(target / "inside");
  CHECK(failure(target, "new\n", AtomicWriteStep::Rename).error_number() == EISDIR);
  CHECK(fs::is_directory(target / "inside"));
  CHECK(leftovers(dir.root(), target).empty());
}

TEST_CASE("atomic write: fsync of the directory fails after the rename", "[io][atomic]") {
  const OldFile old;
  const fs::path& target = old.target;
  flame::io::FileCalls calls = flame::io::posix_file_calls();
  calls.sync_directory = fail_eio_dir;
  const AtomicWriteError e = failure(target, "new\n", AtomicWriteStep::SyncDirectory, calls);
  CHECK_THAT(e.what(), Catch::Contains("may not survive a crash"));
  // The rename has happened: the target holds the new content in full, never part of it.
  CHECK(slurp(target) == "new\n");
  CHECK(leftovers(old.dir.root(), target).empty());
}

TEST_CASE("atomic write: through a symbolic link the linked file is replaced", "[io][atomic]") {
  flame::sim::FakeTree dir;
  const fs::path real = fs::path(dir.root()) / "v2" / "model.yaml";
  fs::create_directories(real.parent_path());
  std::ofstream(real) << "old\n";
  const fs::path link = fs::path(dir.root()) / "model.yaml";
  fs::create_symlink("v2/model.yaml", link);
  flame::io::write_file_atomically(link, "new\n");
  CHECK(fs::is_symlink(link));
  CHECK(slurp(real) == "new\n");
  CHECK(leftovers(real.parent_path(), real).empty());
}

TEST_CASE("atomic write: visible-only replaces the file without any fsync", "[io][atomic]") {
  const OldFile old;
  flame::io::FileCalls calls = flame::io::posix_file_calls();
  calls.fsync = fail_eio;  // either fsync would now fail the write
  calls.sync_directory = fail_eio_dir;
  flame::io::write_file_atomically(old.target, "new\n", flame::io::Durability::VisibleOnly, calls);
  CHECK(slurp(old.target) == "new\n");
  CHECK(leftovers(old.dir.root(), old.target).empty());
  failure(old.target, "newer\n", AtomicWriteStep::SyncFile, calls);  // Durable does fsync
  CHECK(slurp(old.target) == "new\n");
}
