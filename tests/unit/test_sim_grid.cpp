// The simulator's ground truth: parsing the FlexiBO grids, exact lookup, snapping, the TX2 profile
// whose tables are the grid's, and the TX2 tree as the board layer discovers it.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "flame/board/description.hpp"
#include "flame/board/discovery.hpp"
#include "flame/sim/grid_table.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/sim/table_sim.hpp"

using namespace flame::sim;

namespace {

const std::string kHeader =
    ",model_name,sample,size,system_name,config_name,core0_status,core1_status,core2_status,core3_status,"
    "core_freq,gpu_status,gpu_freq,emc_status,emc_freq,inference_time,power_consumption\n";

// A small full factorial: cores {1, 2} x CPU {100, 200, 400} x GPU {10, 20} x EMC {5, 7}; latency and power
// encode the configuration so lookups can be checked exactly.
std::string small_csv(bool drop_last = false, bool duplicate = false) {
  std::string out = kHeader;
  int row = 0;
  for (int cores : {1, 2})
    for (int cpu : {100, 200, 400})
      for (int gpu : {10, 20})
        for (int emc : {5, 7}) {
          if (drop_last && cores == 2 && cpu == 400 && gpu == 20 && emc == 7) continue;
          const double lat = 1.0 / cpu + 1.0 / gpu + 1.0 / emc + 0.01 * cores;
          const double pow = cpu + gpu + emc + cores;
          out += fmt::format("{},m,img,32x32,TX2,Config{},1,{},0,0,{},1,{},1,{},{},{}\n", row, row,
                             cores == 2 ? 1 : 0, cpu, gpu, emc, lat, pow);
          ++row;
        }
  if (duplicate) out += fmt::format("{},m,img,32x32,TX2,ConfigX,1,0,0,0,100,1,10,1,5,1.0,1.0\n", row);
  return out;
}

std::string tx2_csv(const std::string& name) {
  return std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2/" + name;
}

}  // namespace

TEST_CASE("sim grid: parse, exact lookup, snapping", "[sim][grid]") {
  const GridTable g = GridTable::parse_csv(small_csv(), "small.csv");
  CHECK(g.name() == "m-32");
  CHECK(g.size() == 24);
  CHECK(g.cores() == std::vector<int>{1, 2});
  CHECK(g.cpu_khz() == std::vector<std::uint64_t>{100, 200, 400});
  CHECK(g.gpu_hz() == std::vector<std::uint64_t>{10, 20});
  CHECK(g.emc_hz() == std::vector<std::uint64_t>{5, 7});
  const auto i = g.find({2, 200, 10, 7});
  REQUIRE(i);
  CHECK(g.at(*i).latency_s == Approx(1.0 / 200 + 1.0 / 10 + 1.0 / 7 + 0.02));
  CHECK(g.at(*i).power_mw == Approx(200 + 10 + 7 + 2));
  CHECK(g.clocks(*i) == SimClocks{2, 200, 10, 7});
  CHECK_FALSE(g.find({2, 300, 10, 7}));
  // Snap: the highest level not above the value, the lowest when below every level.
  CHECK(g.clocks(g.snap({2, 300, 15, 100})) == SimClocks{2, 200, 10, 7});
  CHECK(g.clocks(g.snap({9, 50, 1, 1})) == SimClocks{2, 100, 10, 5});
  CHECK(g.clocks(g.snap({0, 400, 20, 7})) == SimClocks{1, 400, 20, 7});
  CHECK(g.clocks(g.fastest()) == SimClocks{1, 400, 20, 7});
  CHECK(g.clocks(g.fastest(2)) == SimClocks{2, 400, 20, 7});
  CHECK(snap_down({10, 20, 30}, 5) == 0);
  CHECK(snap_down({10, 20, 30}, 20) == 1);
  CHECK(snap_down({10, 20, 30}, 29) == 1);
  CHECK(snap_down({10, 20, 30}, 99) == 2);
}

TEST_CASE("sim grid: malformed files are refused with a location", "[sim][grid]") {
  CHECK_THROWS_WITH(GridTable::parse_csv(small_csv(true), "holes.csv"),
                    Catch::Contains("holes.csv: 23 rows") && Catch::Contains("not a full factorial"));
  CHECK_THROWS_WITH(GridTable::parse_csv(small_csv(true, true), "dup.csv"), Catch::Contains("appears twice"));
  CHECK_THROWS_WITH(GridTable::parse_csv(",model_name,size\n0,m,1x1\n", "cols.csv"),
                    Catch::Contains("cols.csv:1: missing column 'core0_status'"));
  std::string bad = small_csv();
  bad.replace(bad.find("0.2"), 3, "abc");
  CHECK_THROWS_WITH(GridTable::parse_csv(bad, "bad.csv"),
                    Catch::Contains("bad.csv:") && Catch::Contains("inference_time"));
  CHECK_THROWS_WITH(GridTable::load_csv("/nonexistent/g.csv"), Catch::Contains("cannot open"));
}

TEST_CASE("sim grid: the FlexiBO TX2 files are the TX2 profile's tables", "[sim][grid]") {
  const GridTable g = GridTable::load_csv(tx2_csv("tx2_sampled_output_inceptionv3_200x200.csv"));
  CHECK(g.name() == "inceptionv3-200");
  CHECK(g.size() == 768);
  const auto f = facts(Profile::Tx2Jp4);
  CHECK(g.cpu_khz() == f.cpu_khz);
  CHECK(g.gpu_hz() == f.gpu_hz);
  CHECK(g.emc_hz() == f.emc_hz);
  CHECK(g.cores() == std::vector<int>{1, 2, 3, 4});
  // Row 0 of the file: Config0, cores 1000, 1113600 kHz, 1300500000 Hz, 1062400000 Hz.
  const auto i = g.find({1, 1113600, 1300500000, 1062400000});
  REQUIRE(i);
  CHECK(g.at(*i).latency_s == 0.22558922237820095);
  CHECK(g.at(*i).power_mw == Approx(1955.5555555555557));
  // And the shipped board description lists the same clocks.
  const auto d =
      flame::board::load_board_description(std::string(FLAME_SOURCE_DIR) + "/config/boards/tx2-flexibo.yaml");
  CHECK(d.cpu.frequencies_khz == f.cpu_khz);
  CHECK(d.gpu.frequencies_hz == f.gpu_hz);
  CHECK(d.emc.frequencies_hz == f.emc_hz);
  // All four grids load and share the levels.
  const auto all = load_tx2_tables(std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2");
  REQUIRE(all.size() == 4);
  CHECK(all[0].name() == "inceptionv3-200");
  CHECK(all[1].name() == "inceptionv3-600");
  CHECK(all[2].name() == "xception-200");
  CHECK(all[3].name() == "xception-600");
  for (const auto& t : all) CHECK(t.cpu_khz() == g.cpu_khz());
}

TEST_CASE("sim tree: the TX2 JetPack 4 tree as the board layer sees it", "[sim][tree]") {
  FakeTree t;
  build(Profile::Tx2Jp4, t);
  const auto b = flame::board::discover(t.root());
  const auto f = facts(Profile::Tx2Jp4);
  CHECK(b.identity.soc == "tegra186");
  CHECK(b.identity.l4t == "R32.7.4");
  CHECK(b.identity.rules == flame::board::KernelRules::Strict);
  REQUIRE(b.cpu.size() == 2);
  CHECK(b.cpu[0].name == "policy0");
  CHECK(b.cpu[0].related_cpus == std::vector<int>{0, 3, 4, 5});  // A57
  CHECK(b.cpu[0].online_cpus == std::vector<int>{0, 3, 4, 5});
  CHECK(b.cpu[0].available_khz == f.cpu_khz);
  CHECK(b.cpu[0].health.status == flame::board::DomainStatus::Active);
  CHECK(b.cpu[1].related_cpus == std::vector<int>{1, 2});  // Denver, offline (nvpmodel mode 3)
  CHECK(b.cpu[1].health.status == flame::board::DomainStatus::Offline);
  CHECK(b.online_cores() == 4);
  CHECK(b.gpu.name == "17000000.gp10b");
  CHECK(b.gpu.devfreq_dir == f.gpu_devfreq_dir);
  CHECK(b.gpu.of_name == "gp10b");
  CHECK(b.gpu.available_hz == f.gpu_hz);
  CHECK(b.gpu.health.status == flame::board::DomainStatus::Active);
  REQUIRE(b.gpu.ignored_devfreq.size() == 1);
  CHECK(b.emc.interface == "bpmp");
  CHECK(b.emc.min_hz == f.emc_hz.front());
  CHECK(b.emc.max_hz == f.emc_hz.back());
  CHECK(b.emc.rate_hz == f.emc_hz.back());
  CHECK(b.nvpmodel.mode_id == 0);  // MAXN: the grid's ceilings; Denver hotplugged off
  REQUIRE(b.rails.size() == 6);
  CHECK(b.total_rail == "VDD_IN");
  CHECK(b.total_power_mw() == Approx(1984));
  CHECK(b.thermal_zone("GPU") != nullptr);
  CHECK(b.thermal_zone("BCPU") != nullptr);
  // With the Denver cluster online both policies are active.
  FakeTree t6;
  TreeOptions o;
  o.tx2_denver_online = true;
  build(Profile::Tx2Jp4, t6, o);
  const auto b6 = flame::board::discover(t6.root());
  CHECK(b6.online_cores() == 6);
  CHECK(b6.cpu[1].health.status == flame::board::DomainStatus::Active);
  // Every profile name parses back.
  for (auto p : all_profiles()) CHECK(parse_profile(profile_name(p)) == p);
  CHECK_FALSE(parse_profile("tx1"));
}

TEST_CASE("sim tree: current clocks linked to their limits follow writes until the simulator owns them",
          "[sim]") {
  FakeTree t;
  TreeOptions o;
  o.cur_follows_max = true;
  build(Profile::Tx2Jp4, t, o);
  const std::string p0 = "/sys/devices/system/cpu/cpufreq/policy0";
  const std::string gpu = facts(Profile::Tx2Jp4).gpu_devfreq_dir;
  CHECK(t.read(p0 + "/scaling_cur_freq") == "2035200\n");
  CHECK(t.read(gpu + "/cur_freq") == "1300500000\n");
  t.attr(p0 + "/scaling_max_freq", "960000");  // what flamed's write leaves
  t.attr(gpu + "/max_freq", "497250000");
  CHECK(t.read(p0 + "/scaling_cur_freq") == "960000\n");
  CHECK(t.read(p0 + "/cpuinfo_cur_freq") == "960000\n");
  CHECK(t.read(gpu + "/cur_freq") == "497250000\n");
  CHECK(t.read(gpu + "/target_freq") == "497250000\n");
  // The simulator's write replaces the link and leaves the limit alone.
  t.replace_attr(gpu + "/cur_freq", "140250000");
  CHECK(t.read(gpu + "/cur_freq") == "140250000\n");
  CHECK(t.read(gpu + "/max_freq") == "497250000\n");
  CHECK_FALSE(std::filesystem::is_symlink(t.host(gpu + "/cur_freq")));
  // Fixtures without the option keep plain files.
  FakeTree plain;
  build(Profile::Tx2Jp4, plain);
  CHECK_FALSE(std::filesystem::is_symlink(plain.host(p0 + "/scaling_cur_freq")));
}
