#include <catch2/catch.hpp>
#include <string>

#include "flame/model/grid_model_file.hpp"
#include "flame/model/model_file.hpp"

using namespace flame;

namespace {

grid::GridModel sample_model() {
  grid::GridModel m;
  m.levels.cpu_khz = {345600, 1113600, 2035200};
  m.levels.cores = {1, 2, 4};
  m.levels.gpu_hz = {140.25e6, 1300.5e6};
  m.levels.emc_hz = {1062.4e6, 1866e6};
  m.dataset = "tx2.csv";
  m.format = "flexibo-tx2-grid";
  m.budget = 32;
  m.seed = 1;
  m.profiled = 32;
  grid::LatencyParams p;
  p.launch = 40, p.memory_stall = 0.1, p.background = 0.05, p.gpu = 50, p.memory = 30, p.roofline = 3;
  p.serial = 10, p.serial_fixed = 5, p.coupling = 2.5, p.launch_cores = {2, 1.3, 1},
  p.serial_cores = {0.9, 1, 1};
  const auto ref = grid::reference_of(m.levels);
  grid::SeriesModel s;
  s.latency = grid::CoupledLatency(ref, p);
  s.residual_sigma = 0.03;
  s.power = grid::PowerModel(ref, 200,
                             {{grid::PowerFeature::One, 0},
                              {grid::PowerFeature::Cpu, 0},
                              {grid::PowerFeature::Cores, 2},
                              {grid::PowerFeature::CpuLogLatency, 0}},
                             {0.5, 1.2, -0.2, 0.1});
  m.series.push_back(s);
  return m;
}

std::string error_of(const std::string& yaml) {
  try {
    flame::model::parse_model_file(yaml, "m.yaml");
  } catch (const flame::model::ModelFileError& e) {
    return e.what();
  }
  return "";
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("model file (grid): written and read back, it predicts the same") {
  const auto m = sample_model();
  const std::string yaml = flame::model::grid_to_yaml(m, "tx2", "tx2-flexibo", "a test");
  const flame::model::LoadedModel loaded = flame::model::parse_model_file(yaml, "m.yaml");
  CHECK(loaded.kind == "grid");
  CHECK(loaded.name == "tx2");
  CHECK(loaded.board == "tx2-flexibo");
  const auto* g = dynamic_cast<const flame::model::GridLatencyModel*>(loaded.model.get());
  REQUIRE(g);
  CHECK(g->grid().budget == 32);
  CHECK(g->grid().series.front().residual_sigma == Approx(0.03));
  for (const Clocks& c : {Clocks{345600, 1, 140.25e6, 1062.4e6}, Clocks{2035200, 4, 1300.5e6, 1866e6},
                          Clocks{1113600, 2, 700e6, 1400e6}}) {
    const Estimate a = m.series.front().estimate(c), b = loaded.model->estimate(c, {});
    CHECK(b.latency_ms == Approx(a.latency_ms).epsilon(1e-8));
    CHECK(b.power_w == Approx(a.power_w).epsilon(1e-8));
  }
}

TEST_CASE("model file (grid): malformed files name file:line:column") {
  const std::string yaml = flame::model::grid_to_yaml(sample_model(), "tx2", "", "");
  CHECK(error_of(replaced(yaml, "gpu_ms: 50", "gpu_ms: fast")) ==
        "m.yaml:22:15: series[0].latency.gpu_ms: 'fast' is not a number");
  CHECK(error_of(replaced(yaml, "launch_cores: [2, 1.3, 1]", "launch_cores: [2, 1]"))
            .find("series[0].latency.launch_cores: expected 3 factors (one per core option)") !=
        std::string::npos);
  CHECK(error_of(replaced(yaml, "cpu_khz: [345600, 1113600, 2035200]", "cpu_khz: [2035200, 345600]")) ==
        "m.yaml:12:12: clocks.cpu_khz: levels must be strictly ascending");
  CHECK(error_of(replaced(yaml, "cpu*log_latency", "volts")).find("unknown power feature 'volts'") !=
        std::string::npos);
  CHECK(error_of(replaced(yaml, "kind: grid", "kind: magic")) ==
        "m.yaml:3:7: kind 'magic' is not known (known: layerwise, slm, grid)");
  CHECK(error_of(yaml.substr(0, yaml.find("series:"))).find("m.yaml:1:1: model: missing 'series'") == 0);
}
