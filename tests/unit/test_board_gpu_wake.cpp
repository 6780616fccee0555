// A GPU whose devfreq device is not registered yet (JetPack 5/6 before the first power-up): the
// kernel model takes the devfreq device away until railgate_enable is written 0; the controller powers
// the GPU up once, jetson_clocks style, with railgate_enable in the baseline first.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "board_requests.hpp"
#include "board_rig.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/discovery.hpp"

using namespace flame::board;
using flame::test::Profile;

namespace {

const std::string kGpuDir = "/sys/devices/platform/bus@0/17000000.gpu";
const std::string kRailgate = kGpuDir + "/railgate_enable";

// An Orin Nano (JetPack 6) whose GPU devfreq device registers on the first power-up.
struct Rig : flame::test::BoardRig {
  std::map<std::string, std::string> registered;  // the tree as a powered-up board shows it
  int sleeps = 0;

  explicit Rig(bool registers = true) : BoardRig(Profile::OrinNanoJp6) {
    registered = tree.snapshot();
    model->defer_gpu_devfreq("17000000.gpu", registers);
  }
  ControllerOptions opts() {
    auto o = BoardRig::opts();
    o.sleep = [this](std::chrono::milliseconds) { ++sleeps; };
    return o;
  }
};

}  // namespace

TEST_CASE("kernel model: a deferred GPU devfreq appears when the GPU powers up", "[board][wake]") {
  Rig r;
  SysfsRoot root(r.tree.root());
  CHECK(discover(root, *r.model).gpu.health.status == DomainStatus::Deferred);
  CHECK(r.model->write(kRailgate, "1\n") == 0);
  CHECK(discover(root, *r.model).gpu.health.status == DomainStatus::Deferred);
  CHECK(r.model->write(kRailgate, "0\n") == 0);
  const Board b = discover(root, *r.model);
  CHECK(b.gpu.health.status == DomainStatus::Active);
  CHECK(b.gpu.name == "17000000.gpu");
  CHECK(r.model->gpu_registered());
}

TEST_CASE("board wake: a GPU target on a deferred GPU powers it up once, then pins it", "[board][wake]") {
  Rig r;
  auto c = std::make_unique<Controller>(r.opts(), r.model);
  REQUIRE(c->board().gpu.health.status == DomainStatus::Deferred);
  const auto report = c->set(flame::test::pin({}, 612000000));
  INFO(to_text(report));
  CHECK(report.ok());
  const auto* gpu = report.find("gpu:17000000.gpu");
  REQUIRE(gpu);
  CHECK(gpu->outcome == Outcome::Applied);
  CHECK(c->board().gpu.health.status == DomainStatus::Active);
  REQUIRE_FALSE(report.notes.empty());
  CHECK(report.notes.front().find("GPU powered up once") != std::string::npos);
  // jetson_clocks' dance: 0, then the user's value back; the rail policy is unchanged afterwards.
  CHECK(r.writes_to(kRailgate) == std::vector<std::string>{"0", "1"});
  CHECK(r.tree.read(kRailgate) == "1\n");
  CHECK(r.sleeps == 0);  // registered on the first rescan
  // The railgate value went into the baseline before it was written.
  const auto b = load_baseline(r.baseline_file());
  REQUIRE(b);
  REQUIRE(b->find(kGpuPowerKind));
  CHECK(b->find(kGpuPowerKind)->attribute("railgate")->value == "1");
  CHECK(b->find(kGpuPowerKind)->attribute("railgate")->path == kRailgate);
  // Restore from the file alone: the board reads as a powered-up board with the user's settings.
  c.reset();  // the process exits, keeping the baseline
  auto res = restore_from_file(r.ropts());
  CHECK(res.ok());
  CHECK(r.tree.snapshot() == r.registered);
}

TEST_CASE("board wake: a GPU that stays unregistered is skipped, tried once, rail put back",
          "[board][wake]") {
  Rig r(/*registers=*/false);
  Controller c(r.opts(), r.model);
  const auto report = c.set(flame::test::pin(1190400, 612000000));
  INFO(to_text(report));
  const auto* gpu = report.find("gpu:gpu");
  REQUIRE(gpu);
  CHECK(gpu->outcome == Outcome::Skipped);
  CHECK(report.find("cpu:policy0")->outcome == Outcome::Applied);
  CHECK(report.notes.front().find("still not registered after powering up (20 rescans)") !=
        std::string::npos);
  CHECK(r.sleeps == 19);
  CHECK(r.writes_to(kRailgate) == std::vector<std::string>{"0", "1"});
  CHECK(r.tree.read(kRailgate) == "1\n");
  // Not again on every request: the controller does not stall each decision for 200 ms.
  r.model->clear_log();
  c.set(flame::test::pin(1267200, 612000000));
  CHECK(r.writes_to(kRailgate).empty());
}

TEST_CASE("board wake: a crash while the rail is un-gated is undone by restore", "[board][wake]") {
  Rig r;
  {
    Controller c(r.opts(), r.model);
    CHECK(c.set(flame::test::at_max()).ok());
  }
  // As if the process died between railgate_enable <- 0 and the write back.
  r.tree.replace_attr(kRailgate, "0");
  auto res = restore_from_file(r.ropts());
  INFO(to_text(res));
  CHECK(res.ok());
  CHECK(r.tree.read(kRailgate) == "1\n");
  CHECK(r.tree.snapshot() == r.registered);
}

TEST_CASE("board wake: no write without the baseline, none in a dry run, none for a registered GPU",
          "[board][wake]") {
  SECTION("the baseline cannot be saved") {
    Rig r;
    Controller c(r.opts(), r.model);
    // A directory where the baseline file goes: the atomic rename fails (works as root too).
    std::filesystem::create_directories(r.run.root() + "/baseline.json/x");
    const auto w = c.wake_gpu();
    CHECK_FALSE(w.attempted);
    CHECK(w.message.find("could not be saved") != std::string::npos);
    CHECK(r.writes_to(kRailgate).empty());
    CHECK(c.board().gpu.health.status == DomainStatus::Deferred);
  }
  SECTION("dry run") {
    Rig r;
    Controller c(r.opts(), r.model);
    const auto report = c.plan(flame::test::pin({}, 612000000));
    CHECK(report.find("gpu:gpu")->outcome == Outcome::Skipped);
    CHECK(r.model->log().empty());
    CHECK_FALSE(r.model->gpu_registered());
  }
  SECTION("already registered") {
    Rig r;
    r.model->write(kRailgate, "0\n");
    r.model->write(kRailgate, "1\n");
    r.model->clear_log();
    Controller c(r.opts(), r.model);
    const auto w = c.wake_gpu();
    CHECK_FALSE(w.attempted);
    CHECK(r.model->log().empty());
  }
  SECTION("railgate_enable cannot be written") {
    Rig r;
    r.model->fail_writes(kRailgate, EACCES);
    Controller c(r.opts(), r.model);
    const auto w = c.wake_gpu();
    CHECK(w.attempted);
    CHECK_FALSE(w.registered);
    CHECK(w.message.find("EACCES") != std::string::npos);
    CHECK(c.board().gpu.health.status == DomainStatus::Deferred);
  }
}
