// Safe restore (a baseline that cannot be used) and the board lock (one controller per board, whatever
// its runtime directory).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "board_requests.hpp"
#include "board_rig.hpp"
#include "fake_board.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/discovery.hpp"
#include "flame/board/safe_restore.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::Profile;
using Rig = flame::test::BoardRig;

namespace {

const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The highest entry of an ascending table not above `cap` (the writer's snapping of caps).
std::uint64_t at_most(const std::vector<std::uint64_t>& table, std::uint64_t cap) {
  auto it = std::upper_bound(table.begin(), table.end(), cap);
  REQUIRE(it != table.begin());
  return *std::prev(it);
}

// Every clock pinned low and the EMC locked, through a controller that leaves its baseline behind
// (as a crashed flamed does), then the baseline replaced by `bytes`.
void pin_then_corrupt(Rig& r, const std::string& bytes) {
  {
    Controller c(r.opts(), r.model);
    const auto f = flame::test::facts(r.profile);
    CHECK(c.set(flame::test::pin(f.cpu_khz[1], f.gpu_hz[1], f.emc_hz[0])).ok());
  }
  std::ofstream(r.baseline_file(), std::ios::binary | std::ios::trunc) << bytes;
}

struct Expected {
  std::string id;
  std::uint64_t min = 0, max = 0;
};

// What the rule says for each active CPU policy and the GPU of the board as it is now.
std::vector<Expected> expected_safe(const Board& b) {
  std::vector<Expected> out;
  for (const auto& p : b.cpu) {
    if (!p.health.writable()) continue;
    std::uint64_t max = p.max_khz;  // cap unknown: left as it is
    if (p.nvpmodel_max_khz) max = at_most(p.available_khz, std::min(*p.nvpmodel_max_khz, p.cpuinfo_max_khz));
    if (p.nvpmodel_uncapped) max = at_most(p.available_khz, p.cpuinfo_max_khz);
    out.push_back({"cpu:" + p.name, p.available_khz.front(), max});
  }
  const auto& g = b.gpu;
  std::uint64_t max = g.max_hz;
  if (g.nvpmodel_max_hz) max = at_most(g.available_hz, *g.nvpmodel_max_hz);
  if (g.nvpmodel_uncapped) max = g.available_hz.back();
  out.push_back({"gpu:" + g.name, g.available_hz.front(), max});
  return out;
}

struct Case {
  Profile profile;
  std::string status;  // nvpmodel status written before the run ("" = the profile's own)
  bool small_conf = false;
  std::string cap;  // what the case is about
};

}  // namespace

TEST_CASE("safe restore: mins to the table minimum, maxes to the nvpmodel cap, never above it",
          "[board][safe-restore]") {
  const std::vector<Case> cases = {
      {Profile::OrinNanoJp6, "", false, "mode MAXN_SUPER leaves every domain uncapped: table top"},
      {Profile::OrinNanoJp6, "pmode:0000 fmode:quiet", false, "mode 15W caps CPU and GPU"},
      {Profile::OrinNanoJp6, "pmode:0000 fmode:quiet", true, "test conf mode 0: off-table caps snap down"},
      {Profile::OrinNanoJp6, "pmode:0009 fmode:quiet", false, "a mode the conf lacks: cap unknown, max kept"},
      {Profile::OrinNanoJp5, "", false, "JetPack 5 mode 15W, uncapped"},
      {Profile::Tx2Jp4Mode3, "", false, "TX2 mode 3: A57 2000000 kHz, GPU 1120000000 Hz"},
      {Profile::Tx2Jp4Maxn, "", false, "TX2 MAXN: uncapped"},
      {Profile::Tx2Jp4, "", false, "no nvpmodel.conf: cap unknown, max kept"},
      {Profile::XavierNxJp4, "", false, "Xavier NX, JetPack 4 (strict write rules)"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(flame::test::profile_name(c.profile) << " " << c.cap) {
      flame::test::FixtureOptions o;
      o.nvpmodel_conf = c.small_conf;
      Rig r(c.profile, o);
      if (!c.status.empty()) r.tree.attr("/var/lib/nvpmodel/status", c.status);
      pin_then_corrupt(r, "{\"format\": \"flame-baseline\", \"version\": 1, \"domains\": [");
      const std::string corrupt = slurp(r.baseline_file());
      const Board pinned = discover(SysfsRoot(r.tree.root()), *r.model);
      const auto want = expected_safe(pinned);

      // The pure part: the safe state as a baseline, from the discovered board alone.
      std::vector<std::string> notes;
      const Baseline safe = safe_baseline(pinned, &notes);
      for (const auto& e : want) {
        const SavedDomain* d = safe.find(e.id);
        REQUIRE(d);
        CHECK(d->attribute("min")->value == std::to_string(e.min));
        CHECK(d->attribute("max")->value == std::to_string(e.max));
      }

      const auto rep = restore_from_file(r.ropts());
      INFO(to_text(rep));
      CHECK(rep.ok());
      CHECK(rep.safe);
      CHECK_FALSE(rep.had_baseline);
      // Moved aside, byte for byte, never deleted.
      CHECK_FALSE(std::filesystem::exists(r.baseline_file()));
      CHECK(rep.moved_to == r.baseline_file() + ".unreadable");
      CHECK(slurp(rep.moved_to) == corrupt);

      const Board now = discover(SysfsRoot(r.tree.root()), *r.model);
      for (const auto& e : want) {
        INFO(e.id);
        if (e.id.rfind("cpu:", 0) == 0) {
          const CpuPolicy* p = now.policy(e.id.substr(4));
          REQUIRE(p);
          CHECK(p->min_khz == e.min);
          CHECK(p->max_khz == e.max);
          CHECK(p->governor == "schedutil");
          // Never above the mode's cap; never raised where the cap is unknown.
          if (p->nvpmodel_max_khz) CHECK(p->max_khz <= *p->nvpmodel_max_khz);
          if (!p->nvpmodel_max_khz && !p->nvpmodel_uncapped)
            CHECK(p->max_khz == pinned.policy(p->name)->max_khz);
        } else {
          CHECK(now.gpu.min_hz == e.min);
          CHECK(now.gpu.max_hz == e.max);
          CHECK(now.gpu.governor == "nvhost_podgov");
          if (now.gpu.nvpmodel_max_hz) CHECK(now.gpu.max_hz <= *now.gpu.nvpmodel_max_hz);
          if (!now.gpu.nvpmodel_max_hz && !now.gpu.nvpmodel_uncapped)
            CHECK(now.gpu.max_hz == pinned.gpu.max_hz);
        }
      }
      CHECK(pinned.emc.locked);
      CHECK_FALSE(now.emc.locked);
      CHECK(r.tree.read(kEmc + "/mrq_rate_locked") == "0\n");
      CHECK(r.model->violations().empty());
      // Idempotent: a second run finds no baseline and changes nothing.
      const auto after = r.tree.snapshot();
      CHECK_FALSE(restore_from_file(r.ropts()).had_baseline);
      CHECK(r.tree.snapshot() == after);
    }
  }
}

TEST_CASE("safe restore: the caps of the cases above are the ones the profiles declare",
          "[board][safe-restore]") {
  // Guards the table above against a profile change that would make its cases vacuous.
  Rig mode3(Profile::Tx2Jp4Mode3);
  const Board b = discover(SysfsRoot(mode3.tree.root()), *mode3.model);
  bool capped_cpu = false;
  for (const auto& p : b.cpu)
    if (p.health.writable() && p.nvpmodel_max_khz == 2000000u) capped_cpu = true;
  CHECK(capped_cpu);
  CHECK(b.gpu.nvpmodel_max_hz == 1120000000u);
  Rig maxn(Profile::Tx2Jp4Maxn);
  const Board m = discover(SysfsRoot(maxn.tree.root()), *maxn.model);
  CHECK(m.gpu.nvpmodel_uncapped);
  CHECK_FALSE(m.gpu.nvpmodel_max_hz);
  Rig none(Profile::Tx2Jp4);
  const Board n = discover(SysfsRoot(none.tree.root()), *none.model);
  CHECK_FALSE(n.gpu.nvpmodel_uncapped);
  CHECK_FALSE(n.gpu.nvpmodel_max_hz);
}

TEST_CASE("safe restore: garbage, empty and truncated baselines are all moved aside",
          "[board][safe-restore]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"garbage bytes", std::string("\x00\xff\xfe garbage \x01", 13)},
      {"empty", ""},
      {"truncated JSON", "{\"format\": \"flame-baseline\", \"vers"},
      {"JSON, not a baseline", "[1, 2, 3]\n"},
      {"unknown version", "{\"format\": \"flame-baseline\", \"version\": 7}\n"},
  };
  for (const auto& [name, bytes] : bad) {
    DYNAMIC_SECTION(name) {
      Rig r(Profile::OrinNanoJp6);
      pin_then_corrupt(r, bytes);
      CHECK_THROWS_AS(load_baseline(r.baseline_file()), BaselineUnreadable);
      // A controller (flamed's start) starts: it moves the file aside and restores safely first.
      Controller c(r.opts(), r.model);
      REQUIRE(c.safe_restore_report());
      CHECK(c.safe_restore_report()->ok());
      CHECK_FALSE(c.has_baseline());
      CHECK(slurp(r.baseline_file() + ".unreadable") == bytes);
      CHECK(r.tree.read(kEmc + "/mrq_rate_locked") == "0\n");
      // The board it discovered is the restored one, and it sets clocks with a fresh baseline.
      CHECK_FALSE(c.board().emc.locked);
      CHECK(c.set(flame::test::pin(729600)).ok());
      CHECK(c.has_baseline());
    }
  }
  SECTION("a second unreadable file does not replace the first copy") {
    Rig r(Profile::OrinNanoJp6);
    pin_then_corrupt(r, "first");
    CHECK(restore_from_file(r.ropts()).safe);
    pin_then_corrupt(r, "second");
    const auto rep = restore_from_file(r.ropts());
    CHECK(rep.moved_to == r.baseline_file() + ".unreadable.1");
    CHECK(slurp(r.baseline_file() + ".unreadable") == "first");
    CHECK(slurp(r.baseline_file() + ".unreadable.1") == "second");
  }
}

TEST_CASE("safe restore: a default governor the domain does not list is left alone",
          "[board][safe-restore]") {
  Rig r(Profile::OrinNanoJp6);
  const std::string p0 = "/sys/devices/system/cpu/cpufreq/policy0";
  r.tree.attr(p0 + "/scaling_available_governors", "performance powersave");
  r.tree.attr(p0 + "/scaling_governor", "performance");
  const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  r.tree.attr(gpu + "/governor", "performance");
  pin_then_corrupt(r, "not json");
  const auto rep = restore_from_file(r.ropts());
  CHECK(rep.ok());
  CHECK(r.tree.read(p0 + "/scaling_governor") == "performance\n");
  CHECK(r.tree.read(gpu + "/governor") == "nvhost_podgov\n");
  CHECK(to_text(rep).find("governor schedutil is not available") != std::string::npos);
}

TEST_CASE("safe restore: a failed write is reported, not hidden", "[board][safe-restore]") {
  Rig r(Profile::OrinNanoJp6);
  pin_then_corrupt(r, "not json");
  r.model->fail_writes(kEmc + "/mrq_rate_locked", EACCES);
  const auto rep = restore_from_file(r.ropts());
  CHECK(rep.safe);
  CHECK_FALSE(rep.ok());
  CHECK(to_text(rep).find("safe restore incomplete") != std::string::npos);
  CHECK(std::filesystem::exists(r.baseline_file() + ".unreadable"));
}

TEST_CASE("board lock: one path per board, whatever the runtime directory", "[board][lock]") {
  FakeTree locks, a, b;
  std::filesystem::create_directory_symlink(a.root(), locks.root() + "/link-to-a");
  const std::string pa = board_lock_path(locks.root(), a.root());
  CHECK(pa.rfind(locks.root() + "/board-", 0) == 0);
  CHECK(pa.size() == locks.root().size() + std::string("/board-0123456789abcdef.lock").size());
  CHECK(board_lock_path(locks.root(), a.root() + "/") == pa);
  CHECK(board_lock_path(locks.root(), a.root() + "/./") == pa);
  CHECK(board_lock_path(locks.root(), locks.root() + "/link-to-a") == pa);
  CHECK(board_lock_path(locks.root(), b.root()) != pa);
  CHECK(board_lock_path(locks.root(), "/") != pa);

  FakeTree run1, run2;
  {
    auto held = ControllerLock::acquire(a.root(), run1.root(), "flamed", locks.root());
    CHECK(held.path() == pa);
    try {
      ControllerLock::acquire(a.root() + "/", run2.root(), "flame board set", locks.root());
      FAIL("a second controller of the same board got the lock");
    } catch (const LockHeld& e) {
      CHECK(e.holder_pid() == static_cast<int>(::getpid()));
      CHECK_THAT(std::string(e.what()), Catch::Contains(fmt::format("pid {} (flamed)", ::getpid())));
      CHECK_THAT(std::string(e.what()), Catch::Contains(pa));
    }
    // Another board, another runtime directory: free.
    CHECK_NOTHROW(ControllerLock::acquire(b.root(), run2.root(), "x", locks.root()));
    // Another board sharing the runtime directory (and so its baseline file): refused.
    CHECK_THROWS_AS(ControllerLock::acquire(b.root(), run1.root(), "x", locks.root()), LockHeld);
  }
  CHECK_NOTHROW(ControllerLock::acquire(a.root(), run2.root(), "x", locks.root()));
}

TEST_CASE("board lock: two controllers with different runtime directories on one board", "[board][lock]") {
  Rig r(Profile::OrinNanoJp6);
  Controller first(r.opts(), r.model);
  FakeTree other_run;
  auto o = r.opts();
  o.runtime_dir = other_run.root();
  CHECK_THROWS_AS(Controller(o, r.model), LockHeld);
  auto ro = r.ropts();
  ro.runtime_dir = other_run.root();
  CHECK_THROWS_AS(restore_from_file(ro), LockHeld);
}

TEST_CASE("board lock: the lock directory defaults to /run/flame, FLAME_LOCK_DIR overrides it",
          "[board][lock]") {
  const char* saved = std::getenv("FLAME_LOCK_DIR");
  const std::string keep = saved ? saved : "";
  ::unsetenv("FLAME_LOCK_DIR");
  CHECK(default_lock_dir() == "/run/flame");
  ::setenv("FLAME_LOCK_DIR", "/tmp/elsewhere", 1);
  CHECK(default_lock_dir() == "/tmp/elsewhere");
  if (saved)
    ::setenv("FLAME_LOCK_DIR", keep.c_str(), 1);
  else
    ::unsetenv("FLAME_LOCK_DIR");
}
