// flamed --reload PID (daemon/state/reload_record.hpp) against a real process that answers SIGHUP the way
// flamed does: by writing the next generation of its reload record.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "state/reload_record.hpp"

using namespace flamed;
namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_hup = 0;

// A child that writes generation 0, then on SIGHUP generation 1 with `ok`, and exits. With
// `announce`, generation 1 is first written as running (with ok = true, as flamed writes it when a
// round starts), and finished 50 ms later.
pid_t fake_daemon(const fs::path& dir, bool ok, bool announce = false) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  std::signal(SIGHUP, [](int) { g_hup = 1; });
  write_reload_record(dir, {static_cast<long>(::getpid()), 0, true, "", {}});
  for (int i = 0; i < 500 && !g_hup; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (announce) write_reload_record(dir, {static_cast<long>(::getpid()), 1, true, "", {}, /*running=*/true});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the waiter must really wait
  write_reload_record(dir, {static_cast<long>(::getpid()), 1, ok, ok ? "" : "limits.rate_per_s: bad", {}});
  ::_exit(0);
}

fs::path scratch(const char* name) {
  const fs::path d =
      fs::temp_directory_path() / (std::string("flame-reload-") + name + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void wait_for_record(const fs::path& dir, pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (auto r = read_reload_record(dir); r && r->pid == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the fake daemon wrote no record");
}

}  // namespace

TEST_CASE("reload record: written and read back; absent or garbage reads as nothing", "[daemon]") {
  const fs::path d = scratch("io");
  CHECK_FALSE(read_reload_record(d));
  write_reload_record(d, {42, 3, false, "why", {"sysfs_root"}});
  const auto r = read_reload_record(d);
  REQUIRE(r);
  CHECK(r->pid == 42);
  CHECK(r->generation == 3);
  CHECK_FALSE(r->ok);
  CHECK(r->error == "why");
  CHECK(r->restart_needed == std::vector<std::string>{"sysfs_root"});
  CHECK_FALSE(r->running);
  write_reload_record(d, {42, 4, true, "", {}, /*running=*/true});
  CHECK(read_reload_record(d)->running);
  std::ofstream(reload_record_path(d)) << "{not json";
  CHECK_FALSE(read_reload_record(d));
  fs::remove_all(d);
}

TEST_CASE("reload record: the waiter returns 0 after a successful reload, 1 after a refused one",
          "[daemon]") {
  for (const bool ok : {true, false}) {
    const fs::path d = scratch(ok ? "ok" : "refused");
    const pid_t child = fake_daemon(d, ok);
    wait_for_record(d, child);
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = request_reload(child, d, std::chrono::seconds(5));
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));  // waited for it
    CHECK(rc == (ok ? 0 : 1));
    CHECK(read_reload_record(d)->generation == 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    fs::remove_all(d);
  }
}

TEST_CASE("reload record: the waiter takes the finished round, not the announcement of a running one",
          "[daemon]") {
  const fs::path d = scratch("running");
  const pid_t child = fake_daemon(d, /*ok=*/false, /*announce=*/true);
  wait_for_record(d, child);
  CHECK(request_reload(child, d, std::chrono::seconds(5)) == 1);  // the failure, not the running ok
  const auto r = read_reload_record(d);
  REQUIRE(r);
  CHECK_FALSE(r->running);
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::remove_all(d);
}

TEST_CASE("reload record: no record of that pid, or no answer in time, is a failure", "[daemon]") {
  const fs::path d = scratch("none");
  CHECK(request_reload(::getpid(), d, std::chrono::milliseconds(100)) == 1);  // no record at all
  // A record of this process, which ignores SIGHUP: the waiter gives up after the timeout.
  write_reload_record(d, {static_cast<long>(::getpid()), 0, true, "", {}});
  auto previous = std::signal(SIGHUP, SIG_IGN);
  CHECK(request_reload(::getpid(), d, std::chrono::milliseconds(200)) == 1);
  std::signal(SIGHUP, previous);
  fs::remove_all(d);
}
