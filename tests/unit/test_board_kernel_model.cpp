// The test kernel model itself (docs/board-io.md, Tests): if it did not enforce the rules, the ordering
// tests built on it would prove nothing.
#include <catch2/catch.hpp>

#include "fake_board.hpp"
#include "kernel_model.hpp"

using flame::test::FakeTree;
using flame::test::KernelModel;
using flame::test::Profile;

namespace {
const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";

std::string val(const FakeTree& t, const std::string& p) {
  auto s = t.read(p);
  return s.substr(0, s.find('\n'));
}
}  // namespace

TEST_CASE("kernel model: 4.9 rejects crossing min/max writes with EINVAL", "[board][model]") {
  FakeTree t;
  flame::test::build(Profile::XavierNxJp4, t);  // policy0: 1190400..1907200
  KernelModel m(t.root(), {KernelModel::Rules::Strict, {}});
  CHECK(m.write(kP0 + "/scaling_max_freq", "806400\n") == EINVAL);  // below min
  CHECK(m.violations().size() == 1);
  CHECK(m.write(kP0 + "/scaling_min_freq", "806400\n") == 0);
  CHECK(m.write(kP0 + "/scaling_max_freq", "806400\n") == 0);
  CHECK(m.write(kP0 + "/scaling_min_freq", "1907200\n") == EINVAL);  // above max
  CHECK(val(t, kP0 + "/scaling_min_freq") == "806400");
  CHECK(m.write(kP0 + "/scaling_min_freq", "abc\n") == EINVAL);
  CHECK(m.write(kP0 + "/scaling_min_freq", "1\n") == 0);  // clamped into the hardware range
  CHECK(val(t, kP0 + "/scaling_min_freq") == "115200");
  // devfreq: same rule, min 0 allowed.
  const std::string gpu = flame::test::facts(Profile::XavierNxJp4).gpu_devfreq_dir;
  CHECK(m.write(gpu + "/max_freq", "100000000\n") == EINVAL);  // below min 114750000
  CHECK(m.write(gpu + "/min_freq", "0\n") == 0);
  CHECK(m.write(gpu + "/max_freq", "510000000\n") == 0);
  CHECK(m.write(gpu + "/min_freq", "599250000\n") == EINVAL);
}

TEST_CASE("kernel model: 5.10+ accepts crossing writes, clamps, keeps the stale request", "[board][model]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t);  // policy0: 115200..1728000
  KernelModel m(t.root(), {KernelModel::Rules::Qos, {}});
  CHECK(m.write(kP0 + "/scaling_max_freq", "806400\n") == 0);
  CHECK(m.write(kP0 + "/scaling_min_freq", "1497600\n") == 0);  // crossing: accepted
  CHECK(m.violations().size() == 1);                            // ...but flagged
  CHECK(val(t, kP0 + "/scaling_min_freq") == "806400");         // effective min clamped to max
  CHECK(val(t, kP0 + "/scaling_max_freq") == "806400");
  CHECK(m.write(kP0 + "/scaling_max_freq", "1728000\n") == 0);  // raising max...
  CHECK(val(t, kP0 + "/scaling_min_freq") == "1497600");        // ...resurrects the stale min
  // devfreq QoS is in kHz: min rounds down, max rounds up, 0 = no limit.
  const std::string gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  CHECK(m.write(gpu + "/max_freq", "0\n") == 0);
  CHECK(val(t, gpu + "/max_freq") == "1020000000");
  CHECK(m.write(gpu + "/min_freq", "612000999\n") == 0);
  CHECK(m.requests(gpu).first == 612000000);
}

TEST_CASE("kernel model: offline policy, faults, EMC lock, iso cap", "[board][model]") {
  FakeTree t;
  flame::test::build(Profile::XavierNxJp5, t, flame::test::offline({2, 3}));
  KernelModel m(t.root(), {KernelModel::Rules::Qos, flame::test::facts(Profile::XavierNxJp5).emc_hz});
  const std::string p2 = "/sys/devices/system/cpu/cpufreq/policy2";
  CHECK(m.write(p2 + "/scaling_min_freq", "115200\n") == EINVAL);
  CHECK(m.read(p2 + "/scaling_min_freq").ok());  // reads still work

  m.fail_next_write(kP0 + "/scaling_min_freq", EBUSY);
  CHECK(m.write(kP0 + "/scaling_min_freq", "115200\n") == EBUSY);
  CHECK(m.write(kP0 + "/scaling_min_freq", "115200\n") == 0);  // one-shot
  m.fail_reads(kEmc + "/rate", EACCES);
  CHECK(m.read(kEmc + "/rate").error == EACCES);
  m.clear_faults();

  CHECK(m.write(kEmc + "/rate", "665600000\n") == 0);  // unlocked: no effect
  CHECK(val(t, kEmc + "/rate") == "1866000000");
  CHECK(m.write(kEmc + "/mrq_rate_locked", "1\n") == 0);
  CHECK(m.write(kEmc + "/rate", "700000000\n") == 0);  // snapped to the nearest supported rate
  CHECK(val(t, kEmc + "/rate") == "665600000");
  m.set_emc_iso_cap(1600000000);
  CHECK(m.write(kEmc + "/rate", "1866000000\n") == 0);  // bounded by emc_iso_cap
  CHECK(val(t, kEmc + "/rate") == "1600000000");
  CHECK(m.write(kEmc + "/mrq_rate_locked", "0\n") == 0);  // back to DVFS
  CHECK(val(t, kEmc + "/rate") == "1866000000");
  CHECK(m.write(kEmc + "/mrq_rate_locked", "2\n") == EINVAL);
  // Unwritable attribute: a directory in the tree.
  t.make_directory(kP0 + "/scaling_governor");
  CHECK(m.write(kP0 + "/scaling_governor", "performance\n") == EISDIR);
  t.remove(kP0 + "/scaling_setspeed");
  CHECK(m.write(kP0 + "/scaling_setspeed", "1\n") == ENOENT);
}
