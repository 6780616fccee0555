#include <catch2/catch.hpp>
#include <string>

#include "flame/grid/dataset.hpp"
#include "flame/grid/detail/csv_table.hpp"

using namespace flame::grid;

namespace {
const std::string kFlexiboHeader =
    ",model_name,sample,size,system_name,config_name,core0_status,core1_status,core2_status,core3_status,"
    "core_freq,"
    "gpu_status,gpu_freq,emc_status,emc_freq,inference_time,power_consumption\n";
const std::string kFlexiboRow =
    "0,inceptionv3,x.JPEG,200x200,TX2,Config0,1,1,0,0,1113600,1,1300500000,1,1062400000,0.2255,1955.5\n";

std::string error_of(const std::string& text) {
  try {
    parse_dataset(text, "grid.csv");
  } catch (const CsvError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("grid dataset: FlexiBO rows become clocks, cores, latency (ms) and power (W)") {
  const Dataset d = parse_dataset(kFlexiboHeader + kFlexiboRow, "grid.csv");
  REQUIRE(d.format == DatasetFormat::FlexiboGrid);
  REQUIRE(d.samples.size() == 1);
  const Sample& s = d.samples[0];
  CHECK(s.clocks.cpu_khz == 1113600);
  CHECK(s.clocks.cpu_cores == 2);
  CHECK(s.clocks.gpu_hz == 1300500000);
  CHECK(s.clocks.emc_hz == 1062400000);
  CHECK(s.latency_ms == Approx(225.5));
  REQUIRE(s.power_w);
  CHECK(*s.power_w == Approx(1.9555));
  CHECK(s.line == 2);
  CHECK(d.has_power());
}

TEST_CASE("grid dataset: malformed CSV names file:line and what is wrong") {
  CHECK(
      error_of(kFlexiboHeader + kFlexiboRow + "1,inceptionv3,x,200x200,TX2,C1,1,0,0,0,abc,1,1,1,1,0.2,1\n") ==
      "grid.csv:3: column 'core_freq': 'abc' is not a number");
  CHECK(error_of(kFlexiboHeader + "0,inceptionv3,x,200x200,TX2,C0,1,0,0\n") ==
        "grid.csv:2: 9 fields, but the header has 17");
  CHECK(error_of(kFlexiboHeader + "0,i,x,2,TX2,C0,1,2,0,0,1113600,1,1300500000,1,1062400000,0.2,1\n") ==
        "grid.csv:2: column 'core1_status': 2 is not 0 or 1");
  CHECK(error_of(kFlexiboHeader + "0,i,x,2,TX2,C0,1,0,0,0,1113600,1,1300500000,1,1062400000,-0.2,1\n") ==
        "grid.csv:2: column 'inference_time': -0.2 must be positive");
  CHECK(error_of("a,b,c\n1,2,3\n").find("grid.csv:1: unrecognised header") == 0);
  CHECK(error_of("").find("grid.csv: empty file") == 0);
  CHECK(error_of(kFlexiboHeader).find("no usable measurement rows") != std::string::npos);
  CHECK_THROWS_WITH(read_dataset("/nonexistent/grid.csv"), "/nonexistent/grid.csv: cannot open file");
}

TEST_CASE("grid dataset: Energyinfra sweeps keep decode rows, drop failed runs, group repeats") {
  const std::string header =
      "timestamp,config_name,gpu_freq_mhz,cpu_freq_mhz,emc_freq_mhz,target_gpu_mhz,target_emc_mhz,workload,"
      "prompt_length,output_length,phase,repeat,ttft_ms,tpot_ms,total_time_ms,output_tokens,tokens_per_"
      "second,"
      "total_energy_j,avg_power_w,max_power_w,energy_per_token_j,tokens_per_joule,avg_gpu_soc_w,avg_cpu_cv_w,"
      "avg_sys_5v0_w,avg_temp_cpu_c,power_samples,model,runtime,experiment\n";
  auto row = [](int gpu, const char* phase, int rep, double tpot, int tokens, double power, int samples) {
    return "t,c," + std::to_string(gpu) + ",1036,3199," + std::to_string(gpu) + ",3199,p64_o64,64,64," +
           phase + "," + std::to_string(rep) + ",90," + std::to_string(tpot) + ",5000," +
           std::to_string(tokens) + ",10,100," + std::to_string(power) + ",30,1,1,20,1,8,50," +
           std::to_string(samples) + ",m,llama.cpp,e\n";
  };
  const Dataset d = parse_dataset(
      header + row(306, "decode", 0, 91.4, 64, 29.3, 12) + row(306, "decode", 1, 91.6, 64, 29.1, 12) +
          row(306, "mixed", 0, 95, 64, 29, 12) + row(408, "decode", 0, 70.5, 0, 30, 12) +
          row(408, "decode", 1, 70.5, 64, 30, 0) + row(408, "decode", 2, 70.6, 64, 33.0, 10),
      "sweep.csv");
  CHECK(d.format == DatasetFormat::EnergyinfraSweep);
  CHECK(d.samples.size() == 3);
  CHECK(d.skipped == 1);
  REQUIRE(d.dropped.size() == 2);
  CHECK(d.dropped[0].line == 5);
  CHECK(d.dropped[0].reason == "failed run: output_tokens = 0");
  CHECK(d.dropped[1].reason == "no power samples (power_samples = 0)");
  CHECK(d.samples[0].clocks.gpu_hz == 306e6);
  CHECK(d.samples[0].clocks.emc_hz == 3199e6);
  CHECK(d.samples[0].clocks.cpu_khz == 1036e3);
  CHECK(d.samples[0].clocks.cpu_cores == 0);
  const auto points = group_points(d);
  REQUIRE(points.size() == 2);
  CHECK(points[0].rows.size() == 2);
  CHECK(points[0].latency_ms == Approx(91.5));
  CHECK(series_names(d) == std::vector<std::string>{"p64_o64"});
}

TEST_CASE("grid dataset: the public files read with the documented row counts") {
  const std::string dir = std::string(FLAME_SOURCE_DIR) + "/data/jetson-public/flexibo-tx2/";
  for (const char* f :
       {"tx2_sampled_output_inceptionv3_200x200.csv", "tx2_sampled_output_xception_600x600.csv"}) {
    const Dataset d = read_dataset(dir + f);
    CHECK(d.samples.size() == 768);
    CHECK(group_points(d).size() == 768);
  }
  const Dataset obj = read_dataset(dir + "it_ec_te_obj.csv");
  CHECK(obj.format == DatasetFormat::FlexiboObjectives);
  CHECK(obj.samples.size() == 799);
  CHECK_FALSE(obj.has_power());
}

// The Energyinfra formats on the synthetic files of tests/data/energyinfra-synthetic (its README).
TEST_CASE("grid dataset: Energyinfra formats read with the generator's row counts") {
  const std::string dir = std::string(FLAME_SOURCE_DIR) + "/tests/data/energyinfra-synthetic/";
  const Dataset sweep = read_dataset(dir + "sweep.csv");
  CHECK(sweep.format == DatasetFormat::EnergyinfraSweep);
  CHECK(sweep.samples.size() == 264);  // 4 workloads x 11 GPU x 2 EMC x 3 repeats of decode
  CHECK(sweep.skipped == 264);         // the 'mixed' rows
  CHECK(series_names(sweep).size() == 4);
  CHECK(sweep.has_power());
  const Dataset glitched = read_dataset(dir + "glitched.csv");
  CHECK(glitched.dropped.size() == 1);  // the one failed decode run
  CHECK(glitched.samples.size() == 263);
  const Dataset cpu_gpu = read_dataset(dir + "cpu_gpu.csv");
  CHECK(cpu_gpu.format == DatasetFormat::EnergyinfraCpuGpu);
  CHECK(cpu_gpu.dropped.size() == 5);
  CHECK(cpu_gpu.samples.size() == 391);
  CHECK_FALSE(cpu_gpu.has_power());
}
