// The host curve's EMC term (docs/layerwise-model.md "Form"): fitted from a sparse plan, absent in
// version 1 model files, and evaluated identically by the fast path and the full timeline.
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "flame/board/description_grid.hpp"
#include "flame/model/layerwise_plan.hpp"
#include "flame/model/model_file.hpp"
#include "layerwise_test_support.hpp"

using namespace flame;
using layerwise_test::error_of;
using layerwise_test::orin;
using layerwise_test::replaced;

namespace {

// A version 1 file as written before the EMC term existed (docs/model-format.md).
const std::string kVersion1 = R"(format: flame-model
version: 1
kind: layerwise
name: old
costs: {cpu_offset_ns: 0, gpu_scale: 1.0, sync_latency_ns: 20000}
emc_hz: [665600000, 2133000000, 3199000000]
segments:
  - {name: conv1, cpu: [5000, 1.0e11], gpu: {work_ns_hz: 2.0e14, memory_ns: [59373, 30847, 22852]}}
)";

}  // namespace

TEST_CASE("host curve: a known law with an EMC term is recovered from 12 of 528 combinations",
          "[layerwise][host-memory]") {
  const auto g = orin();
  // 20 us fixed, 60 us of core work and 25 us of DRAM-bound work at the top clocks.
  const double fixed = 20000, work = 60000 * g.cpu_khz.back(), memory = 25000 * g.emc_hz.back();
  auto law = [&](const Clocks& c) { return fixed + work / c.cpu_khz + memory / c.emc_hz; };
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<flame::model::CurveSample> samples;
  for (const Clocks& c : flame::model::plan_layerwise(g, 12, 1))
    samples.push_back({c, law(c) * (1 + noise(rng))});
  const flame::model::CpuCurve fit = fit_cpu_curve(samples);
  CHECK(fit.memory_ns_hz == Approx(memory).epsilon(0.15));
  CHECK(fit.work_ns_khz == Approx(work).epsilon(0.05));
  double worst = 0;
  for (size_t k = 0; k < g.size(); ++k) {
    const Clocks c = g.at(k);
    worst = std::max(worst, std::abs(fit.at(c.cpu_khz, c.emc_hz) / law(c) - 1));
  }
  CHECK(worst < 0.03);
  // The form without the EMC term cannot follow it: at one CPU clock the host time still moves
  // by x1.4 across the EMC levels, which the old fit spreads as error.
  std::vector<flame::model::CurveSample> one_emc;
  for (const auto& s : samples)
    if (s.clocks.emc_hz == g.emc_hz.back()) one_emc.push_back(s);
  REQUIRE(one_emc.size() >= 3);
  const flame::model::CpuCurve old = fit_cpu_curve(one_emc);
  CHECK(old.memory_ns_hz == 0);  // one EMC level profiled: the old form, by rule
  const Clocks low_emc{g.cpu_khz.back(), 0, g.gpu_hz.back(), g.emc_hz.front()};
  CHECK(old.at(low_emc.cpu_khz, low_emc.emc_hz) < 0.8 * law(low_emc));
  CHECK(fit.at(low_emc.cpu_khz, low_emc.emc_hz) == Approx(law(low_emc)).epsilon(0.03));
}

TEST_CASE("host curve: the EMC term is only fitted where it is identifiable", "[layerwise][host-memory]") {
  // Two EMC levels, but always together with the same CPU clock: 1/f_cpu and 1/f_emc are collinear.
  const std::vector<Clocks> lockstep{{1e6, 0, 1e9, 1e9}, {2e6, 0, 1e9, 2e9}, {1e6, 0, 5e8, 1e9}};
  CHECK_FALSE(flame::model::host_memory_term_identifiable(lockstep));
  const std::vector<Clocks> crossed{{1e6, 0, 1e9, 1e9}, {2e6, 0, 1e9, 2e9}, {1e6, 0, 5e8, 2e9}};
  CHECK(flame::model::host_memory_term_identifiable(crossed));
  CHECK_FALSE(flame::model::host_memory_term_identifiable({crossed.data(), 2}));
  std::vector<flame::model::CurveSample> samples;
  for (const auto& c : lockstep) samples.push_back({c, 1000 + 1e9 / c.cpu_khz});
  const flame::model::CpuCurve c = fit_cpu_curve(samples);
  CHECK(c.memory_ns_hz == 0);
  CHECK(c.fixed_ns == Approx(1000));
  CHECK(c.work_ns_khz == Approx(1e9));
}

TEST_CASE("model file: a version 1 layer-wise file loads and evaluates exactly as before",
          "[layerwise][host-memory][model-file]") {
  const auto loaded = flame::model::parse_model_file(kVersion1, "old.yaml");
  const auto* lw = dynamic_cast<const flame::model::LayerwiseLatencyModel*>(loaded.model.get());
  REQUIRE(lw);
  CHECK(lw->layerwise().cpu_curves().front().memory_ns_hz == 0);
  // By hand: host 5000 + 1e11 / 1e6 = 105000 ns, device 22852 + 2e14 / 1e9 = 222852 ns after it,
  // then 20000 ns sync: 347852 ns at any EMC clock for the host side.
  CHECK(lw->layerwise().latency_ns({1e6, 0, 1e9, 3199e6}) == 347852);
  CHECK(lw->layerwise().simulate({1e6, 0, 1e9, 3199e6}).e2e_ns == 347852);
  // Written again it is a current-version file whose host curve has a zero EMC term, predicting the same.
  const std::string v2 = layerwise_to_yaml(lw->layerwise(), "old", "", "");
  CHECK(v2.find("version: " + std::to_string(flame::model::kUnderivedModelFileVersion)) != std::string::npos);
  const YAML::Node host = YAML::Load(v2)["segments"][0]["cpu"];
  REQUIRE(host.size() == 3);
  CHECK(host[2].as<double>() == 0);
  const auto again = flame::model::parse_model_file(v2, "new.yaml");
  const auto g = orin();
  for (size_t k = 0; k < g.size(); k += 5)
    CHECK(again.model->estimate(g.at(k), {}).latency_ms == loaded.model->estimate(g.at(k), {}).latency_ms);
  // Each version insists on its own host curve length; unknown versions are refused by number.
  CHECK_THAT(error_of(replaced(kVersion1, "cpu: [5000, 1.0e11]", "cpu: [5000, 1.0e11, 1.0e12]")),
             Catch::Contains("expected [fixed_ns, work_ns_khz] (version 1)"));
  CHECK_THAT(error_of(replaced(kVersion1, "version: 1", "version: 2")),
             Catch::Contains("expected [fixed_ns, work_ns_khz, memory_ns_hz]"));
  CHECK_THAT(error_of(replaced(kVersion1, "version: 1", "version: 5")),
             Catch::Contains("version 5 is not supported (this build reads 1 to 4)"));
  CHECK_THAT(error_of(replaced(kVersion1, "version: 1", "version: 1.5")),
             Catch::Contains("version 1.5 is not supported"));
}

TEST_CASE("model file: memory clock levels must be positive and strictly ascending",
          "[layerwise][model-file]") {
  const auto with_emc = [](const std::string& emc) {
    std::string text = kVersion1;
    const std::string old = "emc_hz: [665600000, 2133000000, 3199000000]";
    text.replace(text.find(old), old.size(), "emc_hz: " + emc);
    return text;
  };
  CHECK_NOTHROW(flame::model::parse_model_file(with_emc("[665600000, 2133000000, 3199000000]"), "m.yaml"));
  CHECK_THROWS_WITH(flame::model::parse_model_file(with_emc("[0, 0, 0]"), "m.yaml"),
                    Catch::Contains("strictly ascending"));
  CHECK_THROWS_WITH(flame::model::parse_model_file(with_emc("[0, 2133000000, 3199000000]"), "m.yaml"),
                    Catch::Contains("above 0 Hz"));
  CHECK_THROWS_WITH(flame::model::parse_model_file(with_emc("[]"), "m.yaml"),
                    Catch::Contains("at least one level"));
}

TEST_CASE("model file: size and segment count are bounded", "[layerwise][model-file]") {
  std::string many = kVersion1.substr(0, kVersion1.find("segments:")) + "segments:\n";
  for (std::size_t i = 0; i <= flame::model::kMaxModelSegments; ++i)
    many += "  - {name: s, cpu: [1, 1], gpu: {work_ns_hz: 1, memory_ns: [1, 1, 1]}}\n";
  CHECK_THROWS_WITH(flame::model::parse_model_file(many, "m.yaml"),
                    Catch::Contains("segments: 20001 of them; a model file may "
                                    "hold at most 20000"));
  const auto big = std::filesystem::temp_directory_path() / ("flame-big-model-" + std::to_string(::getpid()));
  {
    std::ofstream out(big);
    out << kVersion1 << "# " << std::string(flame::model::kMaxModelFileBytes, 'x') << "\n";
  }
  CHECK_THROWS_WITH(flame::model::load_model_file(big),
                    Catch::Contains("a model file may hold at most 4194304 bytes"));
  std::filesystem::remove(big);
}

TEST_CASE("model file: a version 2 layer-wise file round-trips the host EMC term",
          "[layerwise][host-memory][model-file]") {
  const std::string v2 = replaced(replaced(kVersion1, "version: 1", "version: 2"), "cpu: [5000, 1.0e11]",
                                  "cpu: [5000, 1.0e11, 3.2e13]");
  const auto loaded = flame::model::parse_model_file(v2, "v2.yaml");
  const auto& m = dynamic_cast<const flame::model::LayerwiseLatencyModel&>(*loaded.model).layerwise();
  CHECK(m.cpu_curves().front().memory_ns_hz == 3.2e13);
  // 3.2e13 / 3199e6 = 10003.1 ns more host time at the top EMC level, 48077 ns at the lowest.
  CHECK(m.latency_ns({1e6, 0, 1e9, 3199e6}) == Approx(347852 + 3.2e13 / 3199e6));
  CHECK(m.latency_ns({1e6, 0, 1e9, 665.6e6}) == Approx(105000 + 3.2e13 / 665.6e6 + 59373 + 2e5 + 20000));
  CHECK(flame::model::parse_model_file(layerwise_to_yaml(m, "v2", "", ""), "again.yaml")
            .model->estimate({1e6, 0, 1e9, 2e9}, {})
            .latency_ms == loaded.model->estimate({1e6, 0, 1e9, 2e9}, {}).latency_ms);
  CHECK_THAT(error_of(replaced(v2, "3.2e13", "-1")), Catch::Contains("segments[0].cpu: -1 is out of range"));
}

TEST_CASE("layer-wise model: the fast path equals the full timeline with a host EMC term",
          "[layerwise][host-memory]") {
  const auto g = orin();
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  // 300 segments, host and device balanced so the grid crosses from launch- to execution-bound;
  // some segments without device work and some without an EMC term.
  std::vector<flame::model::CpuCurve> cpu;
  std::vector<flame::model::GpuCurve> gpu;
  for (int i = 0; i < 300; ++i) {
    cpu.push_back({2000 * u(rng), 20000 * u(rng) * 1.7e6, i % 5 == 0 ? 0 : 8000 * u(rng) * 3.2e9});
    const double w = i % 7 == 0 ? 0 : 25000 * u(rng) * 1e9;
    gpu.push_back({g.emc_hz, {6000 * u(rng), 3000 * u(rng), 2000 * u(rng)}, w});
  }
  const flame::model::LayerwiseModel m({}, cpu, gpu, {150000, 1.1, 20000});
  int launch_bound = 0;
  for (size_t k = 0; k < g.size(); ++k) {
    const Clocks c = g.at(k);
    const flame::model::TimelineResult full = m.simulate(c);
    launch_bound += full.launch_bound > full.execution_bound;
    CHECK(m.latency_ns(c) == Approx(full.e2e_ns).epsilon(1e-12));
  }
  CHECK(launch_bound > 0);
  CHECK(launch_bound < static_cast<int>(g.size()));
  // Between EMC levels both paths take the host term at the requested clock.
  CHECK(m.latency_ns({1e6, 0, 5e8, 1000e6}) ==
        Approx(m.simulate({1e6, 0, 5e8, 1000e6}).e2e_ns).epsilon(1e-12));
}
