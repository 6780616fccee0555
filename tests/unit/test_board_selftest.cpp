// `flame board selftest` against the kernel model: every profile passes when the current clocks
// follow the limits (a governor stands in for the kernel's clock driver), fails with a reason when they
// do not, when a write is refused or when the test itself throws; the board is restored every time.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "board_requests.hpp"
#include "board_rig.hpp"
#include "flame/board/selftest.hpp"

using namespace flame::board;
using flame::test::BoardRig;
using flame::test::Profile;

namespace {

// Virtual time; every sleep lets the "kernel" move the current clocks.
struct Clock {
  double t = 0;
  std::function<void()> on_sleep;
  SelftestClock get() {
    return {[this] { return t; },
            [this](double s) {
              t += s;
              if (on_sleep) on_sleep();
            }};
  }
};

// The part of the kernel the tree lacks: each current clock follows its max, as a busy board's
// governor does (tests/integration/lib/fake_governor.py does the same for the shell tests).
void follow(BoardRig& r) {
  const auto f = flame::sim::facts(r.profile);
  for (const auto& pol : f.policies) {
    const std::string dir = "/sys/devices/system/cpu/cpufreq/" + pol;
    r.tree.raw(dir + "/scaling_cur_freq", r.tree.read(dir + "/scaling_max_freq"));
  }
  if (r.tree.exists(f.gpu_devfreq_dir + "/max_freq"))
    r.tree.raw(f.gpu_devfreq_dir + "/cur_freq", r.tree.read(f.gpu_devfreq_dir + "/max_freq"));
}

// The tree without the current clocks (the governor moves them; restore does not own them).
std::map<std::string, std::string> settings(const BoardRig& r) {
  auto m = r.tree.snapshot();
  for (auto it = m.begin(); it != m.end();) {
    const std::string name = std::filesystem::path(it->first).filename();
    it = (name == "scaling_cur_freq" || name == "cur_freq") ? m.erase(it) : std::next(it);
  }
  return m;
}

SelftestOptions fast() {
  SelftestOptions o;
  o.settle_timeout_s = 0.05;
  o.poll_interval_s = 0.01;
  return o;
}

const SelftestDomain* find(const SelftestReport& r, const std::string& id) {
  for (const auto& d : r.domains)
    if (d.domain.id() == id) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("board selftest: the tested value is the middle of what the domain allows", "[board][selftest]") {
  FrequencyBounds b;
  b.table = {100, 200, 300, 400, 500};
  CHECK(mid_target(b, std::nullopt) == 300u);
  CHECK(mid_target(b, 300) == 200u);  // already pinned there: a neighbour, so something is written
  CHECK(mid_target(b, 500) == 300u);
  b.floor = 250;
  b.ceiling = 450;
  CHECK(mid_target(b, std::nullopt) == 400u);  // of {300, 400}
  b.floor = 410;
  CHECK(mid_target(b, std::nullopt) == std::nullopt);
  FrequencyBounds range;  // EMC without a rate table
  range.floor = 204000000;
  range.ceiling = 3199000000;
  CHECK(mid_target(range, std::nullopt) == 1701500000u);
  CHECK(mid_target(range, 1701500000) == 952750000u);
  FrequencyBounds one;
  one.table = {7};
  CHECK(mid_target(one, 7) == 7u);
}

TEST_CASE("board selftest: passes on every profile and leaves the board as it was", "[board][selftest]") {
  for (auto p : flame::sim::all_profiles()) {
    DYNAMIC_SECTION(flame::sim::profile_name(p)) {
      BoardRig r(p);
      const auto before = settings(r);
      Clock clock;
      clock.on_sleep = [&] { follow(r); };
      Controller c(r.opts(), r.model);
      const auto rep = run_selftest(c, fast(), clock.get());
      INFO(to_text(rep));
      CHECK(rep.passed());
      CHECK(rep.restored);
      const auto f = flame::sim::facts(p);
      REQUIRE(rep.domains.size() == f.policies.size() + 2);
      for (const auto& d : rep.domains) {
        INFO(d.domain.id());
        const auto& off = flame::sim::facts(p).offline_policies;
        if (std::find(off.begin(), off.end(), d.domain.name) != off.end()) {  // e.g. the TX2's Denver cluster
          CHECK(d.verdict == Verdict::Skipped);
          continue;
        }
        CHECK(d.verdict == Verdict::Pass);
        CHECK(d.outcome == "applied");
        CHECK(d.settled);
        CHECK(d.restored);
        CHECK(d.current == d.read_back);
        CHECK(d.settle_s <= 0.05);
      }
      // Mid-table values, not the ends.
      const auto* gpu = find(rep, "gpu:" + f.gpu_name);
      REQUIRE(gpu);
      std::vector<std::uint64_t> gpu_allowed;  // under the nvpmodel mode's cap (tx2-jp4-mode3)
      for (auto v : f.gpu_hz)
        if (!f.nvpmodel_gpu_hz || v <= f.nvpmodel_gpu_hz) gpu_allowed.push_back(v);
      CHECK(gpu->target == gpu_allowed[gpu_allowed.size() / 2]);
      std::vector<std::uint64_t> cpu_allowed;
      for (auto v : f.cpu_khz)
        if (!f.nvpmodel_cpu_khz || v <= f.nvpmodel_cpu_khz) cpu_allowed.push_back(v);
      CHECK(find(rep, "cpu:policy0")->target == cpu_allowed[cpu_allowed.size() / 2]);
      CHECK(r.model->violations().empty());
      CHECK(settings(r) == before);
      CHECK_FALSE(std::filesystem::exists(r.baseline_file()));
      CHECK_FALSE(c.has_baseline());

      const auto j = to_json(rep);
      CHECK(j["passed"] == true);
      CHECK(j["domains"].size() == rep.domains.size());
      CHECK(j["domains"][0]["result"] == "pass");
      CHECK(to_text(rep).find("selftest: PASS") != std::string::npos);
    }
  }
}

TEST_CASE("board selftest: clocks that never follow fail with the reading, and are restored",
          "[board][selftest]") {
  BoardRig r(Profile::OrinNanoJp6);
  const auto before = settings(r);
  Clock clock;  // no governor: scaling_cur_freq and cur_freq never move
  Controller c(r.opts(), r.model);
  const auto rep = run_selftest(c, fast(), clock.get());
  INFO(to_text(rep));
  CHECK_FALSE(rep.passed());
  const auto* gpu = find(rep, "gpu:17000000.gpu");
  REQUIRE(gpu);
  CHECK(gpu->verdict == Verdict::Fail);
  CHECK_FALSE(gpu->settled);
  CHECK(gpu->current == 612000000u);
  CHECK(gpu->settle_s >= 0.05);
  CHECK_THAT(gpu->reason,
             Catch::Contains("did not settle within 0.05 s") && Catch::Contains("cur_freq reads 612000000"));
  CHECK(find(rep, "cpu:policy0")->verdict == Verdict::Fail);
  // The EMC's current clock is its rate: it agrees at once.
  CHECK(find(rep, "emc")->verdict == Verdict::Pass);
  CHECK(rep.restored);
  CHECK(settings(r) == before);
  CHECK(to_text(rep).find("selftest: FAIL (1 passed, 3 failed, 0 skipped; every clock restored)") !=
        std::string::npos);
}

TEST_CASE("board selftest: a refused GPU write fails the GPU only", "[board][selftest]") {
  BoardRig r(Profile::XavierNxJp5);
  const auto f = flame::sim::facts(r.profile);
  r.model->fail_writes(f.gpu_devfreq_dir + "/min_freq", EACCES);
  r.model->fail_writes(f.gpu_devfreq_dir + "/max_freq", EACCES);
  const auto before = settings(r);
  Clock clock;
  clock.on_sleep = [&] { follow(r); };
  Controller c(r.opts(), r.model);
  const auto rep = run_selftest(c, fast(), clock.get());
  INFO(to_text(rep));
  CHECK_FALSE(rep.passed());
  const auto* gpu = find(rep, "gpu:17000000.gv11b");
  REQUIRE(gpu);
  CHECK(gpu->verdict == Verdict::Fail);
  CHECK(gpu->outcome == "failed");
  CHECK_THAT(gpu->reason, Catch::Contains("EACCES"));
  for (const auto* id : {"cpu:policy0", "cpu:policy2", "cpu:policy4", "emc"})
    CHECK(find(rep, id)->verdict == Verdict::Pass);
  CHECK(rep.restored);
  CHECK(settings(r) == before);
}

TEST_CASE("board selftest: an error in the middle still restores the clocks", "[board][selftest]") {
  BoardRig r(Profile::XavierNxJp4);
  const auto before = settings(r);
  Clock clock;
  clock.on_sleep = [] { throw std::runtime_error("interrupted"); };
  Controller c(r.opts(), r.model);
  const auto rep = run_selftest(c, fast(), clock.get());
  INFO(to_text(rep));
  CHECK_FALSE(rep.passed());
  CHECK(rep.restored);
  const auto* p0 = find(rep, "cpu:policy0");
  CHECK(p0->verdict == Verdict::Fail);
  CHECK(p0->reason == "error: interrupted");
  CHECK(p0->restored);
  CHECK(settings(r) == before);
  CHECK_FALSE(std::filesystem::exists(r.baseline_file()));
}

TEST_CASE("board selftest: refuses while an earlier `flame board set` is not restored", "[board][selftest]") {
  BoardRig r(Profile::OrinNanoJp6);
  {
    Controller set(r.opts(), r.model);
    REQUIRE(set.set(flame::test::pin(960000)).ok());
  }
  const auto held = r.tree.snapshot();
  Controller c(r.opts(), r.model);
  Clock clock;
  CHECK_THROWS_AS(run_selftest(c, fast(), clock.get()), SelftestError);
  CHECK_THROWS_WITH(run_selftest(c, fast(), clock.get()), Catch::Contains("flame board restore"));
  CHECK(r.tree.snapshot() == held);
}

TEST_CASE("board selftest: a GPU that never powered up is woken, tested and put back", "[board][selftest]") {
  BoardRig r(Profile::OrinNanoJp6);
  r.model->defer_gpu_devfreq("17000000.gpu");
  Clock clock;
  clock.on_sleep = [&] { follow(r); };
  auto o = r.opts();
  o.sleep = [](std::chrono::milliseconds) {};
  Controller c(o, r.model);
  REQUIRE(c.board().gpu.health.status == DomainStatus::Deferred);
  const auto rep = run_selftest(c, fast(), clock.get());
  INFO(to_text(rep));
  CHECK(rep.passed());
  const auto* gpu = find(rep, "gpu:17000000.gpu");
  REQUIRE(gpu);
  CHECK(gpu->verdict == Verdict::Pass);
  CHECK(r.tree.read("/sys/devices/platform/bus@0/17000000.gpu/railgate_enable") == "1\n");
  CHECK_FALSE(std::filesystem::exists(r.baseline_file()));
}

TEST_CASE("board selftest: a board with nothing to test does not pass", "[board][selftest]") {
  SelftestReport rep;
  CHECK_FALSE(rep.passed());
  SelftestDomain skipped;
  skipped.verdict = Verdict::Skipped;
  rep.domains = {skipped};
  CHECK_FALSE(rep.passed());
  SelftestDomain pass;
  pass.verdict = Verdict::Pass;
  rep.domains.push_back(pass);
  CHECK_FALSE(rep.passed());  // not put back
  rep.domains.back().restored = true;
  CHECK(rep.passed());
  rep.restored = false;
  CHECK_FALSE(rep.passed());
}

TEST_CASE("board selftest: on a tree whose current clocks follow their limits, nothing else is needed",
          "[board][selftest]") {
  for (auto p : flame::sim::all_profiles()) {
    DYNAMIC_SECTION(flame::sim::profile_name(p)) {
      flame::sim::TreeOptions o;
      o.cur_follows_max = true;  // what `flame sim tree` writes
      BoardRig r(p, o);
      const auto before = r.tree.snapshot();
      Clock clock;  // no stand-in: nothing moves the current clocks but the links
      Controller c(r.opts(), r.model);
      const auto rep = run_selftest(c, fast(), clock.get());
      INFO(to_text(rep));
      CHECK(rep.passed());
      CHECK(rep.restored);
      CHECK(r.tree.snapshot() == before);  // links included
    }
  }
}
