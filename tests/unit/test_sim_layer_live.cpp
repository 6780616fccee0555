// The live layer-level boards (layer-tx2, layer-orin): the simulator replays each inference at the
// clocks in effect (actuation delays, piece-by-piece progress), deterministic per seed; the Orin
// parameter set differs from the TX2's in the expected directions; the host noise comes from steady
// sweeps; the simulated application's trace reads back as the replay it came from.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/sim/sim_app.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/trace/trace_profile.hpp"
#include "h200_data.hpp"

using namespace flame::sim;

namespace {

const flame::model::CouplingDataset& run2() {
  return flame::test::h200_run2();
}

LayerBoardSpec board(const std::string& name) {
  auto b = layer_board(name);
  REQUIRE(b);
  return *b;
}

struct Rig {
  LayerBoardSpec spec;
  FakeTree tree;
  std::vector<std::shared_ptr<const ModelTruth>> truths;
  std::unique_ptr<TableSimulator> sim;
  Rig(const std::string& name, const std::vector<std::string>& tags, SimOptions o = quiet())
      : spec(board(name)) {
    build(spec.profile, tree);
    truths = layer_truths(run2(), spec, tags);
    sim = std::make_unique<TableSimulator>(tree.root(), SimBoard{spec.layout, spec.levels}, truths, o);
  }
  static SimOptions quiet() {
    SimOptions o;
    o.noise_scale = 0;
    return o;
  }
  const LayerTruth& truth(const std::string& tag) const {
    return dynamic_cast<const LayerTruth&>(sim->truth(tag));
  }
  // Pins like flamed (min = max on every policy and the GPU, EMC locked).
  void pin(const SimClocks& c) {
    for (const auto& p : spec.layout.policies) {
      tree.attr(p + "/scaling_min_freq", std::to_string(c.cpu_khz));
      tree.attr(p + "/scaling_max_freq", std::to_string(c.cpu_khz));
    }
    tree.attr(spec.layout.gpu_devfreq + "/min_freq", std::to_string(c.gpu_hz));
    tree.attr(spec.layout.gpu_devfreq + "/max_freq", std::to_string(c.gpu_hz));
    tree.attr(spec.layout.emc + "/mrq_rate_locked", "1");
    tree.attr(spec.layout.emc + "/rate", std::to_string(c.emc_hz));
  }
  SimClocks top() const {
    return {spec.levels.cores.back(), spec.levels.cpu_khz.back(), spec.levels.gpu_hz.back(),
            spec.levels.emc_hz.back()};
  }
};

const char* kResnet = "resnet50_b1_float32";

}  // namespace

TEST_CASE("layer board: an inference is replayed at the clocks in effect, not looked up", "[sim][layer]") {
  for (const char* name : {"layer-tx2", "layer-orin"}) {
    DYNAMIC_SECTION(name) {
      Rig r(name, {kResnet});
      const auto& t = r.truth(kResnet);
      SimClocks c = r.top();
      c.gpu_hz = r.spec.levels.gpu_hz.front();
      r.pin(c);
      const auto x = r.sim->run(kResnet, 0);
      CHECK(x.effective == c);
      CHECK(x.latency_ms == Approx(t.replay(c, 1.0).latency_ns / 1e6));
      CHECK(x.avg_power_w == Approx(t.replay(c, 1.0).power_w));
      CHECK(x.pieces == 1);
    }
  }
}

TEST_CASE("layer board: a clock change mid-inference takes effect after its delay", "[sim][layer]") {
  // Batch 32: execution-bound on Orin, so the GPU clock matters (batch 1 is host-bound at the top).
  const char* kResnet = "resnet50_b32_float32";
  Rig r("layer-orin", {kResnet});
  const auto& t = r.truth(kResnet);
  SimClocks lo = r.top(), hi = r.top();
  lo.gpu_hz = r.spec.levels.gpu_hz.front();
  r.pin(lo);
  (void)r.sim->observe(0);
  const double l_lo = t.replay(lo, 1).latency_ns / 1e6, l_hi = t.replay(hi, 1).latency_ns / 1e6;
  REQUIRE(l_lo > l_hi + 10);
  // At 1 ms into the inference the GPU is raised; devfreq takes 5 ms: the first 6 ms run at the low
  // clock, the rest at the high one, progressing by fraction of each clock's latency.
  Ticker tick;
  tick.instants = {1.0};
  tick.at = [&](double) { r.pin(hi); };
  const auto x = r.sim->run(kResnet, 0, tick);
  CHECK(x.pieces == 2);
  CHECK(x.effective == lo);
  CHECK(x.effective_end == hi);
  CHECK(x.latency_ms == Approx(6.0 + (1 - 6.0 / l_lo) * l_hi));
  // The same change 5 ms before the start is in effect from the start.
  Rig q("layer-orin", {kResnet});  // (batch 32, as above)
  q.pin(lo);
  (void)q.sim->observe(0);
  q.pin(hi);
  (void)q.sim->observe(10);
  CHECK(q.sim->run(kResnet, 15).latency_ms == Approx(l_hi));
  // ... and 2 ms before: 3 ms at the old clock.
  Rig s("layer-orin", {kResnet});
  s.pin(lo);
  (void)s.sim->observe(0);
  s.pin(hi);
  (void)s.sim->observe(10);
  CHECK(s.sim->run(kResnet, 12).latency_ms == Approx(3.0 + (1 - 3.0 / l_lo) * l_hi));
}

TEST_CASE("layer board: latency falls with each clock", "[sim][layer]") {
  for (const char* name : {"layer-tx2", "layer-orin"}) {
    DYNAMIC_SECTION(name) {
      Rig r(name, {kResnet, "qwen2-0.5b_decode_ctx512_bfloat16"});
      const auto& lv = r.spec.levels;
      const SimClocks top = r.top();
      const auto& cnn = r.truth(kResnet);
      const auto& slm = r.truth("qwen2-0.5b_decode_ctx512_bfloat16");
      auto lat = [](const LayerTruth& t, SimClocks c) { return t.mean(c).latency_ms; };
      // Along every axis from the top corner: never slower with a higher clock, and strictly faster
      // from the lowest to the highest level (CPU and GPU for the CNN, EMC for the decode step).
      for (std::size_t i = 0; i + 1 < lv.cpu_khz.size(); ++i) {
        SimClocks a = top, b = top;
        a.cpu_khz = lv.cpu_khz[i];
        b.cpu_khz = lv.cpu_khz[i + 1];
        CHECK(lat(cnn, b) < lat(cnn, a));
      }
      for (std::size_t i = 0; i + 1 < lv.gpu_hz.size(); ++i) {
        SimClocks a = top, b = top;
        a.gpu_hz = lv.gpu_hz[i];
        b.gpu_hz = lv.gpu_hz[i + 1];
        CHECK(lat(cnn, b) <= lat(cnn, a));
      }
      SimClocks g0 = top;
      g0.gpu_hz = lv.gpu_hz.front();
      CHECK(lat(cnn, g0) > lat(cnn, top));
      for (std::size_t i = 0; i + 1 < lv.emc_hz.size(); ++i) {
        SimClocks a = top, b = top;
        a.emc_hz = lv.emc_hz[i];
        b.emc_hz = lv.emc_hz[i + 1];
        CHECK(lat(slm, b) < lat(slm, a));
      }
      // Through the tree, too: pinning a lower CPU clock makes the next inference slower.
      r.pin(top);
      const double fast = r.sim->run(kResnet, 0).latency_ms;
      SimClocks low = top;
      low.cpu_khz = lv.cpu_khz.front();
      r.pin(low);
      CHECK(r.sim->run(kResnet, 1000).latency_ms > fast);
    }
  }
}

TEST_CASE("layer board: deterministic per seed, host noise from steady sweeps", "[sim][layer]") {
  const HostNoise n = host_noise(run2());
  // run 2: 130 sweeps, most of them steady; a per-iteration spread of a few percent.
  CHECK(n.sweeps == 130);
  CHECK(n.steady_sweeps > 80);
  CHECK(n.steady_sweeps < n.sweeps);
  CHECK(n.sigma > 0.002);
  CHECK(n.sigma < 0.1);
  // A drifting sweep: halves 12.5 and 15.1 ms.
  flame::model::CouplingSweep drift;
  drift.e2e_ns = {12.4e6, 12.5e6, 12.6e6, 15.0e6, 15.1e6, 15.2e6};
  CHECK_FALSE(drift.steady());
  drift.e2e_ns = {12.4e6, 12.5e6, 12.6e6, 12.6e6, 12.5e6, 12.7e6};
  CHECK(drift.steady());

  SimOptions o;
  o.seed = 7;
  auto latencies = [&](SimOptions opt) {
    Rig r("layer-orin", {kResnet}, opt);
    std::vector<double> out;
    for (int i = 0; i < 20; ++i) out.push_back(r.sim->run(kResnet, i * 100.0).latency_ms);
    return out;
  };
  const auto a = latencies(o), b = latencies(o);
  CHECK(a == b);
  o.seed = 8;
  CHECK(latencies(o) != a);
  // The spread is the host's: a launch-bound configuration at a low CPU clock scatters by about sigma.
  Rig r("layer-orin", {kResnet}, SimOptions{});
  SimClocks low = r.top();
  low.cpu_khz = r.spec.levels.cpu_khz.front();
  r.pin(low);
  double s = 0, s2 = 0;
  const int k = 400;
  for (int i = 0; i < k; ++i) {
    const double l = std::log(r.sim->run(kResnet, i * 1000.0).latency_ms);
    s += l;
    s2 += l * l;
  }
  const double sd = std::sqrt(s2 / k - (s / k) * (s / k));
  CHECK(sd == Approx(n.sigma).epsilon(0.25));
}

TEST_CASE("layer board: the Orin set differs from the TX2's in the expected directions", "[sim][layer]") {
  const auto tx2 = board("layer-tx2"), orin = board("layer-orin");
  const auto& p = tx2.params;
  const auto& q = orin.params;
  CHECK(q.gpu_flop_per_cycle_fp32 == 4 * p.gpu_flop_per_cycle_fp32);  // 1024 vs 256 CUDA cores
  CHECK(q.dram_bytes_per_emc_hz * orin.levels.emc_hz.back() >
        1.5 * p.dram_bytes_per_emc_hz * tx2.levels.emc_hz.back());  // 102.4 vs 59.7 GB/s
  CHECK(q.host_slowdown_at_max < p.host_slowdown_at_max);           // A78AE vs A57
  CHECK(q.tf32_conv_speedup > 1);
  CHECK(p.tf32_conv_speedup == 1);  // Pascal has no tensor cores
  CHECK(orin.levels.cpu_khz.size() == 22);
  CHECK(orin.levels.gpu_hz.size() == 8);
  CHECK(orin.levels.cores.back() == 6);
  for (const char* tag : {kResnet, "mobilenet_v3_small_b1_float32", "vit_b_16_b1_float16"}) {
    DYNAMIC_SECTION(tag) {
      const auto t = layer_truths(run2(), tx2, {tag}), o = layer_truths(run2(), orin, {tag});
      const SimClocks ttop{4, tx2.levels.cpu_khz.back(), tx2.levels.gpu_hz.back(), tx2.levels.emc_hz.back()};
      const SimClocks otop{6, orin.levels.cpu_khz.back(), orin.levels.gpu_hz.back(),
                           orin.levels.emc_hz.back()};
      const auto a = t.front()->mean(ttop), b = o.front()->mean(otop);
      CHECK(b.latency_ms < a.latency_ms);  // faster at the top clocks
      CHECK(b.power_w > a.power_w);        // at a higher power
      // Same host work: the host side alone is faster on Orin even at a comparable clock.
      const auto& lt = dynamic_cast<const LayerTruth&>(*t.front());
      const auto& lo = dynamic_cast<const LayerTruth&>(*o.front());
      SimClocks tc = ttop, oc = otop;
      tc.cpu_khz = 1420800;
      oc.cpu_khz = 1420800;
      CHECK(lo.replay(oc, 1).host_ns < lt.replay(tc, 1).host_ns);
      CHECK(lo.replay(otop, 1).device_ns < lt.replay(ttop, 1).device_ns);
    }
  }
}

TEST_CASE("layer board: a dataset without MACs still replays (any coupling dataset)", "[sim][layer]") {
  const auto run1 = flame::model::load_coupling_dataset(FLAME_SOURCE_DIR "/data/h200-coupling/coupling.json");
  const auto b = board("layer-orin");
  const auto t = layer_truths(run1, b, {kResnet});
  const auto with = layer_truths(run2(), b, {kResnet});
  const SimClocks top{6, b.levels.cpu_khz.back(), b.levels.gpu_hz.back(), b.levels.emc_hz.back()};
  SimClocks g0 = top;
  g0.gpu_hz = b.levels.gpu_hz.front();
  // Without MACs the convolutions' H200 time stands for their arithmetic: the GPU clock still matters.
  CHECK(t.front()->mean(g0).latency_ms > 1.3 * t.front()->mean(top).latency_ms);
  // Same order of magnitude as the replay with MACs.
  const double r = t.front()->mean(top).latency_ms / with.front()->mean(top).latency_ms;
  CHECK(r > 0.3);
  CHECK(r < 3);
  CHECK_THROWS_WITH(layer_truths(run1, b, {"nope"}), Catch::Contains("no configuration 'nope'"));
}

TEST_CASE("sim app: its trace reads back as the replay, power on VDD_IN", "[sim][layer][app]") {
  for (const char* name : {"layer-tx2", "layer-orin"}) {
    DYNAMIC_SECTION(name) {
      Rig r(name, {kResnet}, SimOptions{});
      SimClocks c = r.top();
      c.cpu_khz = r.spec.levels.cpu_khz[r.spec.levels.cpu_khz.size() / 2];
      r.pin(c);
      const auto& t = r.truth(kResnet);
      AppOptions o;
      o.iterations = 4;
      const AppRun run = run_app(*r.sim, t, o);
      REQUIRE(run.recorded.size() == 4);
      CHECK(run.clocks == c);
      CHECK(run.recorded.front().start_ms >= o.warmup_ms);
      const std::filesystem::path file = r.tree.root() + "/trace.json";
      std::ofstream(file) << app_trace_json(t, run, name);
      const auto s = flame::trace::summarize_trace_file(file);
      CHECK(s.marker == flame::trace::IterationMarker::IterAnnotation);
      CHECK(s.iterations() == 4);
      CHECK(s.profile.segments.size() == t.config().profile.segments.size());
      CHECK(s.kernels_unattributed == 0);
      CHECK(s.kernels_outside_iterations == 0);
      for (std::size_t i = 0; i < s.profile.segments.size(); ++i) {
        const auto& want = t.config().profile.segments[i];
        INFO(i);
        CHECK(s.profile.segments[i].name == want.name);
        CHECK(s.profile.segments[i].n_kernels ==
              std::max(want.n_kernels, want.n_kernels > 0 || want.gpu_ns > 0 ? 1 : 0));
      }
      // End to end in the trace: the inference without the host's wake-up after the final synchronise.
      for (int k = 0; k < 4; ++k)
        CHECK(s.per_iteration[k].end_to_end_ns ==
              Approx(run.recorded[k].result.latency_ms * 1e6 - t.params().sync_ns).margin(2));
      // Host noise: the iterations differ.
      CHECK(run.recorded[0].result.latency_ms != run.recorded[1].result.latency_ms);
      // The board's power reading shows the last inference.
      const auto& l = r.spec.layout;
      const double mw = l.vdd_in_hwmon ? std::stod(r.tree.read(l.vdd_in + "/in1_input")) *
                                             std::stod(r.tree.read(l.vdd_in + "/curr1_input")) / 1000.0
                                       : std::stod(r.tree.read(l.vdd_in + "/in_power0_input"));
      CHECK(mw == Approx(run.recorded.back().result.avg_power_w * 1000).epsilon(0.01));
      // Deterministic per seed (mixed with the clocks).
      CHECK(app_seed(1, c) == app_seed(1, c));
      CHECK(app_seed(1, c) != app_seed(2, c));
      CHECK(app_seed(1, c) != app_seed(1, r.top()));
      // Unpaced there is no wall-clock anchor; paced from a Unix time, the recorded iterations sit
      // where the simulated time put them after that start.
      CHECK_FALSE(s.base_time_ns);
      const std::int64_t wall = 1'800'000'000'000'000'000LL;
      std::ofstream(file) << app_trace_json(t, run, name, wall);
      const auto w = flame::trace::iterations_wall_window(flame::trace::summarize_trace_file(file));
      REQUIRE(w);
      const double first = run.recorded.front().start_ms - run.start_ms;
      const double last_end =
          run.recorded.back().start_ms + run.recorded.back().result.latency_ms - run.start_ms;
      CHECK(static_cast<double>(w->begin_ns - wall) == Approx(first * 1e6).margin(1e3));
      CHECK(static_cast<double>(w->end_ns - wall) == Approx(last_end * 1e6 - t.params().sync_ns).margin(1e3));
    }
  }
}
