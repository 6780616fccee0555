// Baseline capture/persist/restore, the controller lock, and the Controller facade.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "board_requests.hpp"
#include "board_rig.hpp"
#include "fake_board.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/detail/text.hpp"
#include "flame/board/discovery.hpp"
#include "kernel_model.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::Profile;

namespace {

const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";

using Rig = flame::test::BoardRig;

}  // namespace

TEST_CASE("board baseline: set then restore returns every file byte for byte", "[board][baseline]") {
  for (auto p : flame::test::all_profiles()) {
    DYNAMIC_SECTION(flame::test::profile_name(p)) {
      Rig r(p);
      const auto before = r.tree.snapshot();
      const auto f = flame::test::facts(p);
      {
        Controller c(r.opts(), r.model);
        CHECK_FALSE(c.has_baseline());
        auto rep = c.set(flame::test::pin(345600, f.gpu_hz[2], f.emc_hz[1]));
        CHECK(rep.ok());
        CHECK(c.has_baseline());
        CHECK(r.tree.snapshot() != before);
        // The baseline on disk holds the values from before the first write.
        auto b = load_baseline(r.baseline_file());
        REQUIRE(b);
        CHECK(b->domains.size() == f.policies.size() - f.offline_policies.size() + 2);
        CHECK(b->find("cpu:policy0")->attribute("min")->value ==
              std::string(flame::board::trim(before.at(kP0 + "/scaling_min_freq"))));
        CHECK(b->find("emc")->attribute("lock")->value == "0");
        // A second set keeps the original baseline.
        CHECK(c.set(flame::test::at_max()).ok());
        CHECK(load_baseline(r.baseline_file())->find("cpu:policy0")->attribute("min")->value ==
              b->find("cpu:policy0")->attribute("min")->value);
        auto res = c.restore();
        CHECK(res.ok());
        CHECK(res.removed);
        CHECK_FALSE(c.has_baseline());
      }
      CHECK(r.tree.snapshot() == before);
      CHECK(r.model->violations().empty());
      CHECK_FALSE(load_baseline(r.baseline_file()));
    }
  }
}

TEST_CASE("board baseline: restore from the file alone, in a new controller, idempotently",
          "[board][baseline]") {
  Rig r(Profile::XavierNxJp4);
  const auto before = r.tree.snapshot();
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(1907200, 306000000, 665600000)).ok());
  }  // the process "exits" keeping the baseline, like `flame board set`
  CHECK(load_baseline(r.baseline_file()));
  auto res = restore_from_file(r.ropts());
  CHECK(res.had_baseline);
  CHECK(res.ok());
  CHECK(res.removed);
  CHECK(r.tree.snapshot() == before);
  // Again: nothing to do, still fine.
  auto again = restore_from_file(r.ropts());
  CHECK_FALSE(again.had_baseline);
  CHECK(again.ok());
  CHECK(to_text(again).find("nothing to restore") != std::string::npos);
}

TEST_CASE("board baseline: a restore interrupted half way can simply be run again", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  const auto before = r.tree.snapshot();
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600, 306000000, 665600000)).ok());
  }
  const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  r.model->fail_writes(gpu + "/max_freq", EIO);
  auto first = restore_from_file(r.ropts());
  CHECK_FALSE(first.ok());
  CHECK_FALSE(first.removed);
  CHECK(load_baseline(r.baseline_file()));  // kept for the next attempt
  r.model->clear_faults();
  auto second = restore_from_file(r.ropts());
  CHECK(second.ok());
  CHECK(second.removed);
  CHECK(r.tree.snapshot() == before);
}

TEST_CASE("board baseline: restore clamps to the current ceilings", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  r.model->seed_emc(true, 3199000000);  // the user had the EMC locked at max
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin({}, {}, 665600000)).ok());
  }
  r.model->set_emc_iso_cap(2133000000);  // a mode switch lowered the cap meanwhile
  auto res = restore_from_file(r.ropts());
  CHECK(res.ok());
  CHECK(r.u(kEmc + "/rate") == 2133000000);
  CHECK(r.u(kEmc + "/mrq_rate_locked") == 1);
  CHECK(res.domains[0].message.find("clamped") != std::string::npos);
}

TEST_CASE("board baseline: after an nvpmodel mode switch the limits nvpmodel set are kept",
          "[board][baseline]") {
  Rig r(Profile::XavierNxJp5, flame::test::option(&flame::test::FixtureOptions::nvpmodel_conf));
  const auto gpu = flame::test::facts(Profile::XavierNxJp5).gpu_devfreq_dir;
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600, 306000000, 665600000)).ok());
  }
  // nvpmodel -m 0: rewrites min/max and its status.
  r.tree.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  r.model->seed(kP0, 115200, 1190400);
  r.model->seed(gpu, 114750000, 510000000);
  auto res = restore_from_file(r.ropts());
  CHECK(res.ok());
  REQUIRE(res.notes.size() == 1);
  CHECK(res.notes[0].find("nvpmodel") != std::string::npos);
  CHECK(r.u(kP0 + "/scaling_min_freq") == 115200);  // nvpmodel's, not the old mode's 1190400
  CHECK(r.u(kP0 + "/scaling_max_freq") == 1190400);
  CHECK(r.u(gpu + "/max_freq") == 510000000);
  CHECK(r.u(kEmc + "/mrq_rate_locked") == 0);  // the EMC lock is still ours to undo
}

TEST_CASE("board baseline: a controller started after a mode switch adopts nvpmodel's limits",
          "[board][baseline]") {
  Rig r(Profile::XavierNxJp5, flame::test::option(&flame::test::FixtureOptions::nvpmodel_conf));
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600)).ok());
  }
  r.tree.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  r.model->seed(kP0, 115200, 1190400);
  Controller c(r.opts(), r.model);
  auto b = c.baseline();
  REQUIRE(b);
  CHECK(b->nvpmodel_status == "pmode:0000 fmode:quiet");
  CHECK(b->find("cpu:policy0")->attribute("max")->value == "1190400");
  // The new ceiling applies to --max.
  CHECK(c.set(flame::test::at_max()).find("cpu:policy0")->target == 1190400);
  CHECK(c.restore().ok());
  CHECK(r.u(kP0 + "/scaling_min_freq") == 115200);
  CHECK(r.u(kP0 + "/scaling_max_freq") == 1190400);
}

TEST_CASE("board baseline: restore overwrites a stale QoS request (forced second pass)",
          "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  r.model->seed(kP0, 806400, 1728000);  // the user's range
  const auto before = r.tree.snapshot();
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(806400)).ok());  // collapses to 806400..806400
  }
  // Another tool leaves a stale min request behind the collapsed effective values.
  r.model->seed(kP0, 1497600, 806400);
  auto res = restore_from_file(r.ropts());
  CHECK(res.ok());
  CHECK(r.tree.snapshot() == before);
  CHECK(r.model->requests(kP0) == std::pair<std::uint64_t, std::uint64_t>{806400, 1728000});
}

TEST_CASE("board baseline: restore skips a vanished domain and finishes the rest", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600, {}, 665600000)).ok());
  }
  r.tree.remove("/sys/devices/system/cpu/cpufreq/policy4");  // hot-unplugged meanwhile
  auto res = restore_from_file(r.ropts());
  CHECK(res.ok());
  CHECK(res.removed);
  bool saw_gone = false;
  for (const auto& d : res.domains)
    if (d.domain == "cpu:policy4") {
      CHECK(d.outcome == Outcome::Skipped);
      saw_gone = true;
    }
  CHECK(saw_gone);
  CHECK(r.u(kP0 + "/scaling_min_freq") == 115200);
}

TEST_CASE("board baseline: EACCES on restore keeps the file and fails", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600)).ok());
  }
  r.model->fail_writes(kP0 + "/scaling_min_freq", EACCES);
  auto res = restore_from_file(r.ropts());
  CHECK_FALSE(res.ok());
  CHECK(load_baseline(r.baseline_file()));
  CHECK(to_text(res).find("incomplete") != std::string::npos);
}

TEST_CASE("board baseline: JSON round trip and malformed files", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  SysfsRoot root(r.tree.root());
  Board b = discover(root, *r.model);
  Baseline base = new_baseline(b, "test");
  base.domains.push_back(capture_domain(b, {DomainKind::Cpu, "policy0"}, *r.model));
  base.domains.push_back(capture_domain(b, {DomainKind::Gpu, b.gpu.name}, *r.model));
  base.domains.push_back(capture_domain(b, {DomainKind::Emc, "emc"}, *r.model));
  const auto j = to_json(base);
  const auto back = baseline_from_json(j);
  CHECK(to_json(back) == j);
  CHECK(back.domains[1].attribute("governor")->value == "nvhost_podgov");
  save_baseline(base, r.baseline_file());
  CHECK(to_json(*load_baseline(r.baseline_file())) == j);
  // No temp file left behind.
  CHECK(std::filesystem::directory_iterator(r.run.root())->path().filename() == "baseline.json");

  auto bad = j;
  bad["version"] = 99;
  CHECK_THROWS_WITH(baseline_from_json(bad), Catch::Contains("version 99"));
  bad = j;
  bad.erase("domains");
  CHECK_THROWS_WITH(baseline_from_json(bad), Catch::Contains("malformed baseline"));
  bad = j;
  bad["domains"][0]["attributes"][0]["path"] = "relative/path";
  CHECK_THROWS_WITH(baseline_from_json(bad), Catch::Contains("absolute"));
  { std::ofstream(r.baseline_file()) << "{ not json"; }
  CHECK_THROWS_WITH(load_baseline(r.baseline_file()), Catch::Contains("not valid JSON"));
  // Not a failure of the restore: the file is moved aside and the board restored safely
  // (test_board_safe_restore.cpp).
  const auto rep = restore_from_file(r.ropts());
  CHECK(rep.safe);
  CHECK_THAT(rep.unreadable, Catch::Contains("not valid JSON"));
}

TEST_CASE("board baseline: a domain whose state cannot be read is neither written nor saved",
          "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  Controller c(r.opts(), r.model);
  r.model->fail_reads(gpu + "/min_freq", EACCES);
  auto rep = c.set(flame::test::pin(345600, 408000000));
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);
  CHECK(rep.find("gpu:17000000.gpu")->outcome == Outcome::Failed);
  CHECK(rep.find("gpu:17000000.gpu")->writes.empty());
  CHECK(r.u(gpu + "/max_freq") == 1020000000);
  auto b = load_baseline(r.baseline_file());
  REQUIRE(b);
  CHECK(b->contains("cpu:policy0"));
  CHECK_FALSE(b->contains("gpu:17000000.gpu"));
}

TEST_CASE("board baseline: an unwritable runtime directory refuses every write", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  const auto before = r.tree.snapshot();
  Controller c(r.opts(), r.model);
  // Make the baseline path a directory: the atomic rename onto it fails.
  std::filesystem::create_directory(r.baseline_file());
  auto rep = c.set(flame::test::pin(345600));
  CHECK_FALSE(rep.ok());
  CHECK(rep.find("cpu:policy0")->message.find("baseline") != std::string::npos);
  CHECK(r.tree.snapshot() == before);
}

TEST_CASE("board baseline: a baseline from another sysfs root is refused", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(345600)).ok());
  }
  FakeTree other;
  auto o = r.opts();
  o.sysfs_root = other.root();
  CHECK_THROWS_WITH(Controller(o, r.model), Catch::Contains("was taken under sysfs root"));
  auto ro = r.ropts();
  ro.sysfs_root = other.root();
  CHECK_THROWS_WITH(restore_from_file(ro), Catch::Contains("was taken under sysfs root"));
  ro.sysfs_root = r.tree.root() + "/";  // same root, spelled differently
  CHECK(restore_from_file(ro).ok());
}

TEST_CASE("board lock: one controller at a time, released on exit", "[board][lock]") {
  Rig r(Profile::OrinNanoJp6);
  {
    Controller c(r.opts(), r.model);
    try {
      Controller second(r.opts(), r.model);
      FAIL("second controller acquired the lock");
    } catch (const LockHeld& e) {
      CHECK(e.holder_pid() == static_cast<int>(::getpid()));
      CHECK(std::string(e.what()).find("pid") != std::string::npos);
      CHECK(std::string(e.what()).find("(test)") != std::string::npos);
    }
    CHECK_THROWS_AS(restore_from_file(r.ropts()), LockHeld);
  }
  CHECK_NOTHROW(Controller(r.opts(), r.model));
  // Creates the directories.
  CHECK_NOTHROW(
      ControllerLock::acquire(r.tree.root(), r.run.root() + "/nested/dir", "x", r.locks.root() + "/a/b"));
}

TEST_CASE("board baseline: governors changed behind our back are put back", "[board][baseline]") {
  Rig r(Profile::OrinNanoJp6);
  const auto before = r.tree.snapshot();
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::pin(806400, 408000000)).ok());
  }
  const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  CHECK(r.model->write(kP0 + "/scaling_governor", "performance\n") == 0);
  CHECK(r.model->write(gpu + "/governor", "userspace\n") == 0);
  CHECK(restore_from_file(r.ropts()).ok());
  CHECK(r.tree.snapshot() == before);
}

TEST_CASE("board baseline: a torn write (empty clock file) is written over from the baseline",
          "[board][baseline]") {
  for (const std::string& torn :
       {kEmc + "/rate", kEmc + "/mrq_rate_locked", kP0 + "/scaling_max_freq", kP0 + "/scaling_min_freq"}) {
    DYNAMIC_SECTION(torn) {
      Rig r(Profile::OrinNanoJp6);
      const auto before = r.tree.snapshot();
      {
        Controller c(r.opts(), r.model);
        CHECK(c.set(flame::test::pin(345600, 306000000, 665600000)).ok());
      }
      // A process killed between open(O_TRUNC) and write() leaves an empty attribute behind.
      r.tree.raw(torn, "");
      auto res = restore_from_file(r.ropts());
      CHECK(res.ok());
      CHECK(res.removed);
      CHECK(r.tree.snapshot() == before);
    }
  }
}
