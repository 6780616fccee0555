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
};

}  // namespace

TEST_CASE("board actuator: a vanished GPU leaves the grid and comes back after a restore",
          "[daemon][board]") {
  Rig r;
  const auto orig = r.tree.snapshot();
  auto a = std::make_unique<BoardActuator>(r.config);
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
    BoardActuator a(r.config);
    a.apply(a.grid().max());
  }  // destroyed without restore: the process "crashed" and left its baseline behind
  REQUIRE(std::filesystem::exists(r.run.root() + "/baseline.json"));
  REQUIRE(r.tree.snapshot() != orig);
  BoardActuator again(r.config);
  CHECK(r.tree.snapshot() == orig);
  CHECK_FALSE(std::filesystem::exists(r.run.root() + "/baseline.json"));
}
