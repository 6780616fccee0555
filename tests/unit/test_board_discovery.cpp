// Discovery on generated fake trees (docs/board-io.md, Tests): identity, policies, GPU filtering, EMC,
// rails, thermal, and the decoys/faults that must degrade a domain instead of failing.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fake_board.hpp"
#include "flame/board/discovery.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::FixtureOptions;
using flame::test::Profile;

namespace {
Board discover_tree(const FakeTree& t) {
  return discover(t.root());
}
}  // namespace

TEST_CASE("board discovery: every profile", "[board][discovery]") {
  for (auto p : flame::test::all_profiles()) {
    DYNAMIC_SECTION(flame::test::profile_name(p)) {
      FakeTree t;
      flame::test::build(p, t);
      const auto f = flame::test::facts(p);
      const Board b = discover_tree(t);
      CHECK(b.identity.soc == f.soc);
      CHECK(b.identity.l4t == f.l4t);
      CHECK(b.identity.rules == (f.qos ? KernelRules::Qos : KernelRules::Strict));
      REQUIRE(b.cpu.size() == f.policies.size());
      for (std::size_t i = 0; i < b.cpu.size(); ++i) {
        CHECK(b.cpu[i].name == f.policies[i]);
        CHECK(b.cpu[i].available_khz == f.cpu_khz);
        const bool offline = std::find(f.offline_policies.begin(), f.offline_policies.end(), f.policies[i]) !=
                             f.offline_policies.end();
        CHECK(b.cpu[i].health.status == (offline ? DomainStatus::Offline : DomainStatus::Active));
        CHECK(b.cpu[i].governor == "schedutil");
        CHECK(b.cpu[i].available_governors.back() == "schedutil");  // trailing space tolerated
      }
      CHECK(b.online_cores() == f.online_cores);
      CHECK(b.gpu.name == f.gpu_name);
      CHECK(b.gpu.devfreq_dir == f.gpu_devfreq_dir);
      CHECK(b.gpu.available_hz == f.gpu_hz);
      CHECK(b.gpu.health.status == DomainStatus::Active);
      CHECK(b.gpu.load_permille == 236u);
      CHECK(b.gpu.railgate_enable == 1);
      REQUIRE(b.gpu.ignored_devfreq.size() == 1);  // the VIC decoy
      CHECK(b.gpu.ignored_devfreq[0].find("15340000.vic") != std::string::npos);
      CHECK(b.emc.interface == "bpmp");
      CHECK(b.emc.health.status == DomainStatus::Active);
      CHECK(b.emc.max_hz == f.emc_max_hz);
      CHECK_FALSE(b.emc.locked);
      CHECK(b.nvpmodel.mode_id.has_value());
      CHECK(b.nvpmodel.mode_id == f.nvpmodel_mode);
      CHECK(b.nvpmodel.emc_iso_cap_hz == f.emc_iso_cap);
      REQUIRE(b.rails.size() == f.rails);
      CHECK(b.total_rail == "VDD_IN");
      CHECK(b.total_power_mw().has_value());
      CHECK(b.thermal_zone(f.cpu_zone) != nullptr);
      CHECK(b.thermal_zone("GPU") != nullptr);
      // Serialises and prints without throwing.
      CHECK(to_json(b)["gpu"]["name"] == f.gpu_name);
      CHECK(to_text(b).find(f.gpu_name) != std::string::npos);
    }
  }
}

TEST_CASE("board discovery: Orin Nano JP6 details", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t);
  const Board b = discover_tree(t);
  CHECK(b.identity.model == "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super");
  CHECK(b.identity.compatible.size() == 3);
  CHECK(b.cpu[0].related_cpus == std::vector<int>{0, 1, 2, 3});
  CHECK(b.cpu[1].related_cpus == std::vector<int>{4, 5});
  CHECK(b.cpu[0].cpuinfo_max_khz == 1728000);
  CHECK(b.gpu.of_name == "gpu");
  CHECK(b.gpu.device_dir == "/sys/devices/platform/bus@0/17000000.gpu");
  CHECK(b.gpu.matched_by == "of_node compatible nvidia,ga10b");
  // hwmon: mV x mA.
  CHECK(b.rails[0].kind == "hwmon");
  CHECK(b.rails[0].power_mw == Approx(5048.0 * 1412.0 / 1000.0));
  CHECK(b.total_power_mw() == Approx(5048.0 * 1412.0 / 1000.0));
  // Sensorless CV zones read -256000: no reading, not an error.
  REQUIRE(b.thermal.size() == 9);
  CHECK(b.thermal[2].type == "cv0-thermal");
  CHECK_FALSE(b.thermal[2].temp_c);
  CHECK(b.thermal[2].note == "no sensor");
  CHECK(b.thermal_zone("cv0") == nullptr);
  CHECK(b.thermal_zone("tj")->temp_c == Approx(47.5));
  CHECK(b.current().gpu_hz == Approx(612e6));
  CHECK(b.current().emc_hz == Approx(3199e6));
  CHECK(b.current().cpu_cores == 6);
}

TEST_CASE("board discovery: Xavier NX JP4 uses iio rails in mW", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::XavierNxJp4, t, flame::test::option(&flame::test::FixtureOptions::nc_rail));
  const Board b = discover_tree(t);
  CHECK(b.cpu[0].driver == "tegra_cpufreq");
  REQUIRE(b.rails.size() == 2);  // the "NC" channel is skipped
  CHECK(b.rails[0].kind == "iio");
  CHECK(b.rails[0].power_mw == Approx(3654));
  CHECK(b.gpu.of_name == "gv11b");
  CHECK(b.thermal_zone("cpu")->type == "CPU-therm");
  CHECK(b.thermal_zone("pmic") != nullptr);
}

TEST_CASE("board discovery: offline CPUs make their policies offline, still readable", "[board][discovery]") {
  FakeTree t;
  // A real JP5 Xavier NX `jetson_clocks --store` output (iloudaros/LoudVA): cpu2-5 offline.
  flame::test::build(Profile::XavierNxJp5, t, flame::test::offline({2, 3, 4, 5}));
  const Board b = discover_tree(t);
  REQUIRE(b.cpu.size() == 3);
  CHECK(b.cpu[0].health.status == DomainStatus::Active);
  CHECK(b.cpu[1].health.status == DomainStatus::Offline);
  CHECK(b.cpu[2].health.status == DomainStatus::Offline);
  CHECK(b.cpu[1].min_khz == 1190400);  // readable although offline
  CHECK(b.online_cores() == 2);
  CHECK(b.rails[0].kind == "hwmon");  // JP5: hwmon, index 1 (not 0)
}

TEST_CASE("board discovery: a partially offline policy stays active", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t, flame::test::offline({2, 3, 5}));
  const Board b = discover_tree(t);
  CHECK(b.cpu[0].online_cpus == std::vector<int>{0, 1});
  CHECK(b.cpu[0].health.status == DomainStatus::Active);
  CHECK(b.cpu[1].online_cpus == std::vector<int>{4});
  CHECK(b.online_cores() == 3);
}

TEST_CASE("board discovery: unreadable or missing debugfs disables only the EMC", "[board][discovery]") {
  SECTION("unreadable rate") {
    FakeTree t;
    flame::test::build(Profile::OrinNanoJp6, t,
                       flame::test::option(&flame::test::FixtureOptions::debugfs_unreadable));
    const Board b = discover_tree(t);
    CHECK(b.emc.health.status == DomainStatus::Unavailable);
    CHECK(b.emc.health.reason.find("EISDIR") != std::string::npos);
    CHECK(b.gpu.health.status == DomainStatus::Active);
    CHECK(b.current().emc_hz == 0);
  }
  SECTION("not mounted") {
    FakeTree t;
    flame::test::build(Profile::XavierNxJp4, t,
                       flame::test::option(&flame::test::FixtureOptions::no_debugfs));
    const Board b = discover_tree(t);
    CHECK(b.emc.health.status == DomainStatus::Unavailable);
    CHECK(b.emc.health.reason.find("debugfs") != std::string::npos);
    CHECK(b.cpu[0].health.status == DomainStatus::Active);
  }
}

TEST_CASE("board discovery: an unreadable attribute disables only its domain", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t);
  t.make_directory("/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq");
  const Board b = discover_tree(t);
  CHECK(b.cpu[0].health.status == DomainStatus::Active);
  CHECK(b.cpu[1].health.status == DomainStatus::Unavailable);  // unreadable as well: a directory
  t.remove("/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq");
  t.attr("/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq", "1728000");
  t.make_directory("/sys/kernel/debug/bpmp/debug/clk/emc/mrq_rate_locked");
  const Board b2 = discover_tree(t);
  CHECK(b2.cpu[1].health.status == DomainStatus::Active);
  CHECK(b2.emc.health.status == DomainStatus::Unavailable);
}

TEST_CASE("board discovery: a GPU without devfreq is deferred, not mistaken for the VIC",
          "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t,
                     flame::test::option(&flame::test::FixtureOptions::gpu_unregistered));
  const Board b = discover_tree(t);
  CHECK(b.gpu.health.status == DomainStatus::Deferred);
  CHECK(b.gpu.device_dir == "/sys/devices/platform/bus@0/17000000.gpu");
  CHECK(b.gpu.devfreq_dir.empty());
  CHECK(b.gpu.ignored_devfreq.size() == 1);
  CHECK(b.current().gpu_hz == 0);
}

TEST_CASE("board discovery: an empty root is a board with nothing usable", "[board][discovery]") {
  FakeTree t;
  const Board b = discover_tree(t);
  CHECK(b.cpu.empty());
  CHECK(b.gpu.health.status == DomainStatus::Unavailable);
  CHECK(b.emc.health.status == DomainStatus::Unavailable);
  CHECK(b.rails.empty());
  CHECK(b.notes.size() >= 4);
  CHECK_NOTHROW(to_text(b));
}

TEST_CASE("board discovery: thermal zones in another order and an unreadable sensorless zone",
          "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t,
                     flame::test::option(&flame::test::FixtureOptions::sensorless_unreadable));
  // Swap two zones' types: matching is by type, never by index.
  t.attr("/sys/devices/virtual/thermal/thermal_zone0/type", "gpu-thermal");
  t.attr("/sys/devices/virtual/thermal/thermal_zone1/type", "cpu-thermal");
  const Board b = discover_tree(t);
  CHECK(b.thermal_zone("cpu")->zone == "thermal_zone1");
  CHECK(b.thermal[2].note.find("unreadable") != std::string::npos);
  CHECK_FALSE(b.thermal[2].temp_c);
}

TEST_CASE("board discovery: nvpmodel caps from the conf resolve to policies and the GPU",
          "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::XavierNxJp4, t,
                     flame::test::option(&flame::test::FixtureOptions::nvpmodel_conf));
  t.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  const Board b = discover_tree(t);
  CHECK(b.nvpmodel.mode_id == 0);
  CHECK(b.nvpmodel.mode_name == "TEST_LOW");
  CHECK(b.cpu[0].nvpmodel_max_khz == 1200000u);  // CPU_DENVER_0 -> cpu0 -> policy0
  CHECK_FALSE(b.cpu[1].nvpmodel_max_khz);
  CHECK(b.gpu.nvpmodel_max_hz == 520000000u);
  CHECK(b.nvpmodel.emc_max_hz == 1600000000u);
}

TEST_CASE("board discovery: a TX2 in nvpmodel mode 3 shows the mode's caps everywhere",
          "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::Tx2Jp4Mode3, t);
  const Board b = discover_tree(t);
  CHECK(b.nvpmodel.mode_id == 3);
  CHECK(b.nvpmodel.mode_name == "MAXP_CORE_ARM");
  // The conf asks for 2000000 kHz and 1120000000 Hz; the tree shows what the drivers made of it.
  CHECK(b.cpu[0].nvpmodel_max_khz == 2000000u);
  CHECK(b.cpu[0].max_khz == 2035200u);
  CHECK(b.gpu.nvpmodel_max_hz == 1120000000u);
  CHECK(b.gpu.max_hz == 1134750000u);
  CHECK(b.nvpmodel.emc_iso_cap_hz == 1600000000u);
  CHECK(b.nvpmodel.emc_max_hz == 1600000000u);
  CHECK(b.emc.rate_hz == 1600000000u);  // unlocked: BPMP keeps the rate under the cap
  CHECK(b.emc.max_hz == 1866000000u);   // the hardware's top rate is still listed
  CHECK(b.online_cores() == 4);
}

TEST_CASE("board discovery: a TX2 in MAXN runs all six cores uncapped", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::Tx2Jp4Maxn, t);
  const Board b = discover_tree(t);
  CHECK(b.nvpmodel.mode_id == 0);
  CHECK(b.nvpmodel.mode_name == "MAXN");
  CHECK(b.online_cores() == 6);
  for (const auto& p : b.cpu) CHECK(p.health.status == DomainStatus::Active);
  CHECK(b.gpu.max_hz == 1300500000u);
  CHECK(b.gpu.available_hz.size() == 13);
  CHECK(b.nvpmodel.emc_iso_cap_hz == 0u);
}

TEST_CASE("board discovery: the Orin Nano trees carry NVIDIA's modes", "[board][discovery]") {
  FakeTree t;
  flame::test::build(Profile::OrinNanoJp6, t);
  CHECK(discover_tree(t).nvpmodel.mode_name == "MAXN_SUPER");
  // In 15W the caps reach the CPUs and, by the conf's newer-kernel path, the GPU under bus@0.
  t.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  const Board b = discover_tree(t);
  CHECK(b.nvpmodel.mode_name == "15W");
  CHECK(b.cpu[0].nvpmodel_max_khz == 1497600u);
  CHECK(b.cpu[1].nvpmodel_max_khz == 1497600u);
  CHECK(b.gpu.nvpmodel_max_hz == 612000000u);
  CHECK(b.nvpmodel.emc_max_hz == 2133000000u);

  FakeTree jp5;
  flame::test::build(Profile::OrinNanoJp5, jp5);
  jp5.attr("/var/lib/nvpmodel/status", "pmode:0001 fmode:quiet");
  const Board b5 = discover_tree(jp5);
  CHECK(b5.nvpmodel.mode_name == "7W");
  CHECK(b5.cpu[0].nvpmodel_max_khz == 960000u);
  CHECK(b5.gpu.nvpmodel_max_hz == 408000000u);  // 17000000.ga10b, JetPack 5's name
  CHECK(b5.gpu.name == "17000000.ga10b");
}
