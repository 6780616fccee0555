// The layer-driven simulated TX2 (lib/flame/sim/layer_board.hpp): physically sane behaviour of the
// kernel-by-kernel replay of real H200 segments, the phase transition between launch- and
// execution-bound, and grids the table-driven machinery reads (with the noise it was given).
#include <catch2/catch.hpp>

#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/grid_table.hpp"
#include "flame/sim/layer_board.hpp"
#include "h200_data.hpp"

using namespace flame::sim;

namespace {

const flame::model::CouplingDataset& run2() {
  return flame::test::h200_run2();
}

const flame::model::CouplingConfig& config(const std::string& tag) {
  for (const auto& c : run2().configs)
    if (c.tag == tag) return c;
  FAIL("no configuration " << tag);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("layer board: latency never rises with any clock or core and stays between its two sides",
          "[sim][layer]") {
  const LayerBoardParams p;
  const auto lv = tx2_levels();
  for (const char* tag : {"resnet50_b1_float32", "mobilenet_v3_small_b1_float32",
                          "qwen2-0.5b_decode_ctx512_bfloat16", "vit_b_16_b1_float16"}) {
    DYNAMIC_SECTION(tag) {
      const auto& c = config(tag);
      for (int cores : lv.cores)
        for (size_t i = 0; i < lv.cpu_khz.size(); ++i)
          for (size_t j = 0; j < lv.gpu_hz.size(); ++j)
            for (size_t k = 0; k < lv.emc_hz.size(); ++k) {
              const SimClocks at{cores, lv.cpu_khz[i], lv.gpu_hz[j], lv.emc_hz[k]};
              const auto r = replay_inference(c, at, p, lv);
              // The timeline is bounded by its two sides: at least the busier one, at most their sum.
              REQUIRE(r.latency_ns >= std::max(r.host_ns, r.device_ns));
              REQUIRE(r.latency_ns <= r.host_ns + r.device_ns + p.sync_ns + 1);
              if (i + 1 < lv.cpu_khz.size()) {
                auto up = at;
                up.cpu_khz = lv.cpu_khz[i + 1];
                REQUIRE(replay_inference(c, up, p, lv).latency_ns <= r.latency_ns * (1 + 1e-12));
              }
              if (j + 1 < lv.gpu_hz.size()) {
                auto up = at;
                up.gpu_hz = lv.gpu_hz[j + 1];
                REQUIRE(replay_inference(c, up, p, lv).latency_ns <= r.latency_ns * (1 + 1e-12));
              }
              if (k + 1 < lv.emc_hz.size()) {
                auto up = at;
                up.emc_hz = lv.emc_hz[k + 1];
                REQUIRE(replay_inference(c, up, p, lv).latency_ns <= r.latency_ns * (1 + 1e-12));
              }
              if (cores > 1) {
                auto down = at;
                down.cores = cores - 1;
                REQUIRE(replay_inference(c, down, p, lv).latency_ns >= r.latency_ns);
              }
            }
    }
  }
}

TEST_CASE("layer board: the bottleneck moves with the clocks (phase transition)", "[sim][layer]") {
  const LayerBoardParams p;
  const auto lv = tx2_levels();
  const auto& c = config("resnet50_b1_float32");
  const auto top = replay_inference(c, {4, lv.cpu_khz.back(), lv.gpu_hz.back(), lv.emc_hz.back()}, p, lv);
  const auto slow_cpu =
      replay_inference(c, {4, lv.cpu_khz.front(), lv.gpu_hz.back(), lv.emc_hz.back()}, p, lv);
  const auto slow_gpu =
      replay_inference(c, {4, lv.cpu_khz.back(), lv.gpu_hz.front(), lv.emc_hz.back()}, p, lv);
  CHECK_FALSE(top.launch_bound());
  CHECK(slow_cpu.launch_bound());
  CHECK_FALSE(slow_gpu.launch_bound());
  // Launch-bound, the GPU clock hardly matters; execution-bound, it dominates.
  const auto slow_both = replay_inference(c, {4, lv.cpu_khz.front(), lv.gpu_hz[1], lv.emc_hz.back()}, p, lv);
  CHECK(slow_both.latency_ns / slow_cpu.latency_ns < 1.1);
  CHECK(slow_gpu.latency_ns / top.latency_ns > 4);
  // A memory-bound decode step gains from EMC, a compute-bound CNN at the top GPU clock much less.
  const auto& q = config("qwen2-0.5b_decode_ctx512_bfloat16");
  auto gain = [&](const flame::model::CouplingConfig& cfg, std::uint64_t cpu) {
    const auto lo = replay_inference(cfg, {4, cpu, lv.gpu_hz.back(), lv.emc_hz.front()}, p, lv);
    const auto hi = replay_inference(cfg, {4, cpu, lv.gpu_hz.back(), lv.emc_hz.back()}, p, lv);
    return lo.device_ns / hi.device_ns;
  };
  CHECK(gain(q, lv.cpu_khz.back()) > 1.5);
  CHECK(gain(c, lv.cpu_khz.back()) < 1.2);
}

TEST_CASE("layer board: grids read back as full FlexiBO grids with the noise they were given",
          "[sim][layer]") {
  const LayerBoardParams p;
  const auto lv = tx2_levels();
  const auto& c = config("resnet18_b1_float32");
  const std::string csv = layer_grid_csv(c, p, lv, 7);
  const auto g = GridTable::parse_csv(csv, "layer.csv");
  CHECK(g.name() == "resnet18-b1");
  CHECK(g.size() == 768);
  CHECK(g.cpu_khz() == lv.cpu_khz);
  // The neighbour-scatter estimator recovers the injected measurement noise.
  CHECK(g.latency_noise().sigma == Approx(p.latency_sigma).epsilon(0.25));
  CHECK(g.power_noise().sigma == Approx(p.power_sigma).epsilon(0.25));
  CHECK(layer_grid_csv(c, p, lv, 7) == csv);  // deterministic for a seed
  CHECK(layer_grid_csv(c, p, lv, 8) != csv);
  // Without noise a grid point is the replay itself.
  LayerBoardParams quiet = p;
  quiet.latency_sigma = quiet.power_sigma = 0;
  const auto q = GridTable::parse_csv(layer_grid_csv(c, quiet, lv, 1), "quiet.csv");
  const auto top = q.fastest(4);
  const auto r = replay_inference(c, q.clocks(top), quiet, lv);
  CHECK(q.at(top).latency_s == Approx(r.latency_ns * 1e-9).epsilon(1e-8));
  CHECK(q.at(top).power_mw == Approx(r.power_w * 1e3).epsilon(1e-8));
  CHECK(layer_grid_name(config("qwen2-0.5b_decode_ctx512_bfloat16")).size == "c512");
  CHECK(layer_grid_name(config("vit_b_16_b1_float16")).model == "vit_b_16-fp16");
}

TEST_CASE("layer board: impossible clocks are refused", "[sim][layer]") {
  const auto lv = tx2_levels();
  const auto& c = config("resnet18_b1_float32");
  CHECK_THROWS_AS(replay_inference(c, {0, lv.cpu_khz.back(), lv.gpu_hz.back(), lv.emc_hz.back()}, {}, lv),
                  std::invalid_argument);
  CHECK_THROWS_AS(replay_inference(c, {4, 0, lv.gpu_hz.back(), lv.emc_hz.back()}, {}, lv),
                  std::invalid_argument);
}
