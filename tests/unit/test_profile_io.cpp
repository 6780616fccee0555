// The real edges of `flame profile`: the board's clocks through the Controller on a fake tree, and
// the command through fork/exec (exit status, environment, missing binary, stopping a process group).
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>

#include "fake_tree.hpp"
#include "flame/profile/board_clock_control.hpp"
#include "flame/profile/child_process.hpp"
#include "flame/sim/profiles.hpp"

using namespace flame;
using namespace flame::profile;

namespace {
const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kGpu = "/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu";
const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";
}  // namespace

TEST_CASE("profile board clocks: pins through the controller, reads cur_freq, restores byte for byte",
          "[profile]") {
  test::FakeTree tree, run;
  sim::build(*sim::parse_profile("orin-nano-jp6"), tree, {});
  const auto before = tree.snapshot();
  board::ControllerOptions o;
  o.sysfs_root = tree.root();
  o.runtime_dir = run.root();
  o.lock_dir = run.root();
  o.emc_rates = {665600000, 2133000000, 3199000000};
  {
    board::Controller c(o);
    BoardClockControl clocks(c);
    const Clocks pinned = clocks.apply({806400, 0, 612e6, 2133e6});
    CHECK(pinned == Clocks{806400, 0, 612e6, 2133e6});
    CHECK(tree.read(kP0 + "/scaling_max_freq") == "806400\n");
    CHECK(tree.read(kGpu + "/max_freq") == "612000000\n");
    // The fake kernel does not move cur_freq by itself: the read-back still shows the old clocks...
    const Clocks now = clocks.current();
    CHECK(now.cpu_khz != 806400);
    CHECK(now.emc_hz == 2133e6);  // the EMC rate is the read-back itself
    // ...until the "governor" follows (the slowest writable policy counts).
    tree.attr(kP0 + "/scaling_cur_freq", "806400");
    tree.attr("/sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq", "806400");
    tree.attr(kGpu + "/cur_freq", "612000000");
    CHECK(clocks.current() == Clocks{806400, 0, 612e6, 2133e6});
    tree.attr("/sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq", "729600");
    CHECK(clocks.current().cpu_khz == 729600);
    clocks.restore();
  }
  auto after = tree.snapshot();
  for (const auto& f :
       {kP0 + "/scaling_cur_freq", std::string("/sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq"),
        kGpu + "/cur_freq"})
    after[f] = before.at(f);  // what the test itself wrote as the kernel
  CHECK(after == before);
}

TEST_CASE("profile child process: status, environment, missing command, stop", "[profile]") {
  ChildProcessRunner r(0.01, 0.3);
  auto never = [] { return true; };
  CHECK(r.run({"/bin/sh", "-c", "exit 3"}, {}, never, {}).exit_code == 3);
  CHECK(r.run({"/bin/sh", "-c", "exit 3"}, {}, never, {}).ok() == false);
  CHECK(r.run({"/bin/sh", "-c", "test \"$FLAME_X\" = 'a b' && test -n \"$PATH\""}, {{"FLAME_X", "a b"}},
              never, {})
            .ok());
  const auto missing = r.run({"/nonexistent/cmd"}, {}, never, {});
  CHECK_THAT(missing.error, Catch::Contains("cannot run '/nonexistent/cmd'"));
  CHECK_FALSE(missing.ok());

  // Stop after a few ticks: the group gets SIGINT and the command ends.
  int ticks = 0;
  const auto stopped = r.run({"/bin/sh", "-c", "sleep 30"}, {}, [&] { return ++ticks < 3; }, {});
  CHECK(stopped.stopped);
  CHECK_FALSE(stopped.ok());
  // A command that ignores SIGINT is killed after the grace period.
  ticks = 0;
  const auto killed =
      r.run({"/bin/sh", "-c", "trap '' INT; sleep 30 & wait; sleep 30"}, {}, [&] { return ++ticks < 2; }, {});
  CHECK(killed.stopped);
  CHECK(killed.signaled);
  CHECK(killed.signal == SIGKILL);
}

TEST_CASE("profile child process: stdout captured as it arrives, also what is left at exit",
          "[profile][e2e]") {
  ChildProcessRunner r(0.01, 0.3);
  std::string out;
  int chunks_before_exit = 0;
  bool exited = false;
  // The first line is flushed before a pause: it arrives while the command still runs.
  const auto res = r.run(
      {"/bin/sh", "-c", "echo 12.5; sleep 0.3; printf '13\\n14'; echo err >&2; exit 0"}, {},
      [&] {
        if (!out.empty() && !exited) ++chunks_before_exit;
        return true;
      },
      [&](std::string_view c) { out += c; });
  exited = true;
  CHECK(res.ok());
  CHECK(out == "12.5\n13\n14");
  CHECK(chunks_before_exit > 3);
  // A command that never writes: nothing, and the sink is not required.
  std::string none;
  CHECK(r.run(
             {"/bin/sh", "-c", "exit 0"}, {}, [] { return true; }, [&](std::string_view c) { none += c; })
            .ok());
  CHECK(none.empty());
  // A background process keeping the pipe open does not hold the run after the command exits.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(r.run(
             {"/bin/sh", "-c", "sleep 2 & echo 1"}, {}, [] { return true; }, [&](std::string_view) {})
            .ok());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));
}
