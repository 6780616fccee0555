// flamed's BoardActuator on real files in a fake Orin Nano tree: the grid follows the board's
// health (a GPU that vanishes leaves it, one that comes back returns after a restore) and a stale
// baseline is put back at construction.
#include <catch2/catch.hpp>
#include <filesystem>

#include "fake_board.hpp"
#include "hardware.hpp"

using namespace flamed;
using flame::test::FakeTree;
using flame::test::Profile;

namespace {

const std::string kGpu = "/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu";

struct Rig {
  FakeTree tree;
  FakeTree run;
  Config config;
  Rig() {
    flame::test::build(Profile::OrinNanoJp6, tree);
    config.sysfs_root = tree.root();
    config.runtime_dir = run.root();
  }
  // The board lock in the runtime directory: no /run needed.
  BoardActuatorOptions options() const {
    auto o = BoardActuatorOptions::from(config);
    o.lock_dir = run.root();
    return o;
  }
};

}  // namespace

TEST_CASE("board actuator: a vanished GPU leaves the grid and comes back after a restore",
          "[daemon][board]") {
  Rig r;
  const auto orig = r.tree.snapshot();
  auto a = std::make_unique<BoardActuator>(r.options());
  REQUIRE(a->grid().gpu_hz.size() > 1);
  const flame::Clocks top = a->grid().max();
  CHECK(a->apply(top).gpu_hz == top.gpu_hz);
  CHECK(r.tree.read(kGpu + "/min_freq") == "1020000000\n");

  // The GPU driver goes away (unbind, module unload): the write fails, the grid drops the GPU.
  namespace fs = std::filesystem;
  fs::rename(r.tree.root() + kGpu, r.run.root() + "/gpu-away");
  flame::Clocks lower = top;
  lower.gpu_hz = a->grid().gpu_hz.front();
  CHECK_THROWS_WITH(a->apply(lower), Catch::Contains("gpu:17000000.gpu: failed"));
  CHECK(a->grid().gpu_hz.size() == 1);
  // Later requests plan without it and still set the CPU.
  flame::Clocks cpu_only = a->grid().max();
  cpu_only.cpu_khz = a->grid().cpu_khz.front();
  const auto applied = a->apply(cpu_only);
  CHECK(applied.cpu_khz == a->grid().cpu_khz.front());

  // It comes back; the idle restore re-probes the board and the GPU is in the grid again.
  fs::rename(r.run.root() + "/gpu-away", r.tree.root() + kGpu);
  a->restore();
  CHECK(a->grid().gpu_hz.size() > 1);
  a.reset();
  CHECK(r.tree.snapshot() == orig);
}

TEST_CASE("board actuator: a stale baseline from a crashed flamed is restored first", "[daemon][board]") {
  Rig r;
  const auto orig = r.tree.snapshot();
  {
    BoardActuator a(r.options());
    a.apply(a.grid().max());
  }  // destroyed without restore: the process "crashed" and left its baseline behind
  REQUIRE(std::filesystem::exists(r.run.root() + "/baseline.json"));
  REQUIRE(r.tree.snapshot() != orig);
  BoardActuator again(r.options());
  CHECK(r.tree.snapshot() == orig);
  CHECK_FALSE(std::filesystem::exists(r.run.root() + "/baseline.json"));
}

TEST_CASE("board actuator: the grid stays within the nvpmodel caps and the user's limits",
          "[daemon][board]") {
  Rig r;
  r.config.board_file = std::string(FLAME_SOURCE_DIR) + "/config/boards/orin-nano-8gb-super.yaml";
  // The operator (or a 15 W nvpmodel mode) lowered the GPU max; nvpmodel caps the EMC.
  r.tree.replace_attr(kGpu + "/max_freq", "612000000");
  r.tree.replace_attr("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", "2133000000");
  BoardActuator a(r.options());
  CHECK(a.grid().gpu_hz == std::vector<double>{306e6, 408e6, 510e6, 612e6});
  CHECK(a.grid().emc_hz == std::vector<double>{665.6e6, 2133e6});
  // So the fastest plan is one the board really runs: nothing is clamped below it.
  const auto applied = a.apply(a.grid().max());
  CHECK(applied.gpu_hz == 612e6);
  CHECK(applied.emc_hz == 2133e6);
  a.restore();
  CHECK(r.tree.read(kGpu + "/max_freq") == "612000000\n");
}

TEST_CASE("board actuator: an nvpmodel mode switch while running moves the grid's ceilings",
          "[daemon][board]") {
  Rig r;
  BoardActuator a(r.options());
  const auto cpu_top = a.grid().cpu_khz.back();
  REQUIRE(cpu_top == 1728000);
  a.apply(a.grid().max());
  // `nvpmodel -m 0` (15 W): new status, CPU and GPU max rewritten.
  r.tree.replace_attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  const std::string p0 = "/sys/devices/system/cpu/cpufreq/policy0";
  r.tree.replace_attr(p0 + "/scaling_min_freq", "729600");
  r.tree.replace_attr(p0 + "/scaling_max_freq", "1497600");
  flame::Clocks lower = a.grid().max();
  lower.cpu_khz = 1113600;
  a.apply(lower);  // the writer notices the switch; the grid follows
  CHECK(a.grid().cpu_khz.back() == 1497600);
  CHECK(r.tree.read(p0 + "/scaling_max_freq") == "1113600\n");
  a.restore();
  // The restore keeps nvpmodel's new limits (restoring the old mode's would fight nvpmodel).
  CHECK(r.tree.read(p0 + "/scaling_max_freq") == "1497600\n");
}
