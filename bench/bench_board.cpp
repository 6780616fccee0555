// Board I/O cost per decision on a fake Orin Nano tree in tmpfs (/dev/shm when present): what
// flamed's Controller::set adds to a begin (re-read state, clamp, plan, write, verify) when the clocks
// change and when they do not, plus discovery and a full restore. Real sysfs writes also run the
// kernel's DVFS code, which this does not measure: it is flame's own overhead.
#include <benchmark/benchmark.h>

#include "flame/board/controller.hpp"
#include "flame/board/discovery.hpp"
#include "flame/sim/fake_tree.hpp"
#include "flame/sim/profiles.hpp"

namespace {

namespace fb = flame::board;

struct BoardRig {
  flame::sim::FakeTree tree;
  flame::sim::FakeTree run;
  BoardRig() { flame::sim::build(flame::sim::Profile::OrinNanoJp6, tree); }
  fb::ControllerOptions opts() const {
    fb::ControllerOptions o;
    o.sysfs_root = tree.root();
    o.runtime_dir = run.root();
    o.owner = "bench";
    return o;
  }
};

fb::ClockRequest pin(std::uint64_t cpu, std::uint64_t gpu, std::uint64_t emc) {
  fb::ClockRequest r;
  r.cpu_khz = cpu;
  r.gpu_hz = gpu;
  r.emc_hz = emc;
  return r;
}

// Two operating points alternated: every call moves CPU (2 policies), GPU and EMC.
void BM_BoardSetChanged(benchmark::State& state) {
  BoardRig rig;
  fb::Controller c(rig.opts());
  const fb::ClockRequest a = pin(729600, 408000000, 2133000000), b = pin(1420800, 816000000, 3199000000);
  bool flip = false;
  std::size_t writes = 0;
  for (auto _ : state) {
    auto r = c.set(flip ? a : b);
    writes += r.write_count();
    flip = !flip;
    if (!r.ok()) state.SkipWithError("set failed");
  }
  state.counters["writes/set"] = benchmark::Counter(double(writes) / double(state.iterations()));
  c.restore();
}
BENCHMARK(BM_BoardSetChanged)->Unit(benchmark::kMicrosecond);

// The same point again: state re-read and verified, nothing written.
void BM_BoardSetUnchanged(benchmark::State& state) {
  BoardRig rig;
  fb::Controller c(rig.opts());
  const fb::ClockRequest a = pin(729600, 408000000, 2133000000);
  c.set(a);
  for (auto _ : state) benchmark::DoNotOptimize(c.set(a).write_count());
  c.restore();
}
BENCHMARK(BM_BoardSetUnchanged)->Unit(benchmark::kMicrosecond);

void BM_BoardDiscover(benchmark::State& state) {
  BoardRig rig;
  fb::SysfsRoot root(rig.tree.root());
  fb::SysfsFileAccess io(root);
  for (auto _ : state) benchmark::DoNotOptimize(fb::discover(root, io).cpu.size());
}
BENCHMARK(BM_BoardDiscover)->Unit(benchmark::kMicrosecond);

// Set everything, then restore from the baseline file (what flamed does at idle and at stop).
void BM_BoardSetAndRestore(benchmark::State& state) {
  BoardRig rig;
  fb::Controller c(rig.opts());
  const fb::ClockRequest a = pin(729600, 408000000, 2133000000);
  for (auto _ : state) {
    c.set(a);
    if (!c.restore().ok()) state.SkipWithError("restore failed");
  }
}
BENCHMARK(BM_BoardSetAndRestore)->Unit(benchmark::kMicrosecond);

}  // namespace
