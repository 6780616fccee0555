// nvpmodel.conf and status parsing (NVIDIA's /etc/nvpmodel.conf format).
#include <catch2/catch.hpp>

#include "flame/board/detail/nvpmodel.hpp"

using namespace flame::board;

TEST_CASE("board nvpmodel: the conf format from the AGX Xavier excerpt", "[board][nvpmodel]") {
  // An excerpt of NVIDIA's AGX Xavier nvpmodel.conf (JP4; kept in iloudaros/LoudVA).
  const std::string conf = R"(
< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online
< PARAM TYPE=FILE NAME=TPC_POWER_GATING >
TPC_PG_MASK /sys/devices/gpu.0/tpc_pg_mask
< PARAM TYPE=CLOCK NAME=CPU_DENVER_0 >
FREQ_TABLE /sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies
MAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq
MIN_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq
< PARAM TYPE=CLOCK NAME=GPU >
FREQ_TABLE /sys/devices/17000000.gv11b/devfreq/17000000.gv11b/available_frequencies
MAX_FREQ /sys/devices/17000000.gv11b/devfreq/17000000.gv11b/max_freq
MIN_FREQ /sys/devices/17000000.gv11b/devfreq/17000000.gv11b/min_freq
MAX_FREQ_KNEXT /sys/devices/17000000.gv11b/devfreq_dev/max_freq
< PARAM TYPE=CLOCK NAME=EMC >
MAX_FREQ /sys/kernel/nvpmodel_emc_cap/emc_iso_cap
< POWER_MODEL ID=1 NAME=MODE_10W >
CPU_ONLINE CORE_2 0
TPC_POWER_GATING TPC_PG_MASK 5
CPU_DENVER_0 MIN_FREQ 1200000
CPU_DENVER_0 MAX_FREQ 1200000
GPU MIN_FREQ 0
GPU MAX_FREQ 520000000
EMC MAX_FREQ 1065600000  # trailing comment
< PM_CONFIG DEFAULT=7 >
)";
  auto c = parse_nvpmodel_conf(conf);
  CHECK(c.params.size() == 5);
  CHECK(c.default_mode == 7);
  REQUIRE(c.mode(1));
  CHECK(c.mode(1)->name == "MODE_10W");
  CHECK(c.mode(1)->settings.size() == 7);
  CHECK(c.mode(1)->settings.back().value == "1065600000");
  CHECK(c.paths("GPU", "MAX_FREQ") ==
        std::vector<std::string>{"/sys/devices/17000000.gv11b/devfreq/17000000.gv11b/max_freq",
                                 "/sys/devices/17000000.gv11b/devfreq_dev/max_freq"});
  CHECK(c.param("EMC")->type == "CLOCK");
  CHECK_FALSE(c.mode(3));
}

TEST_CASE("board nvpmodel: malformed conf and status", "[board][nvpmodel]") {
  CHECK_THROWS_WITH(parse_nvpmodel_conf("CPU MAX 1\n"), Catch::Contains("line 1"));
  CHECK_THROWS_WITH(parse_nvpmodel_conf("< POWER_MODEL NAME=x >\n"), Catch::Contains("without ID="));
  CHECK_THROWS_WITH(parse_nvpmodel_conf("< PARAM TYPE=CLOCK NAME=GPU >\nMAX_FREQ\n"),
                    Catch::Contains("line 2"));
  CHECK_THROWS_WITH(parse_nvpmodel_conf("< PARAM TYPE=CLOCK\n"), Catch::Contains("unterminated"));
  CHECK(parse_nvpmodel_status("pmode:0002 fmode:quiet\n") == 2);
  CHECK(parse_nvpmodel_status("fmode:quiet pmode:0015") == 15);
  CHECK_FALSE(parse_nvpmodel_status("garbage"));
}
