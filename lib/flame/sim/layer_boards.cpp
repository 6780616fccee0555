#include "flame/sim/layer_boards.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "flame/context/context_series.hpp"
#include "flame/fit/median.hpp"
#include "flame/io/data_path.hpp"

namespace flame::sim {

LayerBoardParams tx2_params() {
  return LayerBoardParams{};
}

// Orin Nano 8GB (Super, JetPack 6): the reasoning behind each value is in docs/simulator.md.
LayerBoardParams orin_nano_params() {
  LayerBoardParams p;
  // Host: 6x Cortex-A78AE at 1728 MHz [V]. An A78 retires about 2.2x the work per clock of an A57 [I],
  // so against the TX2's 4.0 at 2035.2 MHz: 4.0 × (2035.2 / 1728) / 2.2 = 2.14.
  p.host_slowdown_at_max = 2.14;
  p.cpu_max_khz = 1728000;
  p.host_memory_share = 0.2;  // [I] as TX2
  p.core_contention = 0.04;   // [I] per offline core of six (TX2: 0.06 of four)
  // Device: Ampere GA10B, 1024 CUDA cores x FMA [V]; 32 tensor cores: 67 sparse INT8 TOPS at 1020 MHz
  // [V] = 16.8 dense FP16 TFLOPS = 8x the 2.09 FP32 TFLOPS; eager kernels at small batch reach half of
  // that ratio [I]. float32 convolutions run as TF32 (PyTorch's cuDNN default [V]; TF32 peak = half of
  // FP16) at the same efficiency [I].
  p.gpu_flop_per_cycle_fp32 = 2048;
  p.gpu_fp16_speedup = 4.0;
  p.tf32_conv_speedup = 2.0;
  p.compute_efficiency = 0.5;  // [I] as TX2
  // 128-bit LPDDR5: 102.4 GB/s at 3199 MHz EMC (Super) [V], i.e. 32 B per EMC cycle (also the non-Super
  // 68 GB/s at 2133 MHz).
  p.dram_bytes_per_emc_hz = 32;
  p.memory_efficiency = 0.65;       // [I] as TX2
  p.kernel_overhead_cycles = 4080;  // [I] 4 us at 1020 MHz, as TX2's 4 us at its top clock
  p.h200_kernel_floor_ns = 2000;
  p.h200_to_board_bandwidth = 4.8e12 / 102.4e9;  // [V] H200 4.8 TB/s
  p.sync_ns = 20'000;                            // [I] as TX2
  // Power (W), module input VDD_IN; MAXN SUPER is a 25 W mode [V]; the split is assumed [I].
  p.static_w = 2.5;
  p.per_core_w = 0.1;
  p.cpu_dynamic_w = 1.0;
  p.gpu_dynamic_w = 9.0;
  p.gpu_clock_w = 0.6;
  p.emc_w = 3.0;
  p.emc_idle_share = 0.3;
  p.v_min_ratio = 0.7;
  return p;
}

ClockLevels orin_nano_levels() {
  const ProfileFacts f = facts(Profile::OrinNanoJp6);
  return {{1, 2, 3, 4, 5, 6}, f.cpu_khz, f.gpu_hz, f.emc_hz};
}

std::optional<LayerBoardSpec> layer_board(const std::string& name) {
  if (name == "layer-tx2")
    return LayerBoardSpec{name, Profile::Tx2Jp4, tx2_layout(), tx2_levels(), tx2_params(), ThermalOptions{}};
  if (name == "layer-orin") {
    // [I] the developer kit's heatsink with its fan: 2.5 K/W (25 W settles 62 K above ambient), 60 s.
    ThermalOptions th;
    th.resistance_c_per_w = 2.5;
    th.tau_s = 60;
    return LayerBoardSpec{
        name, Profile::OrinNanoJp6, orin_nano_layout(), orin_nano_levels(), orin_nano_params(), th};
  }
  return std::nullopt;
}

std::string layer_board_names() {
  return "layer-tx2 | layer-orin";
}

std::string default_layer_data() {
  return io::find_data("data/h200-coupling/run2/coupling.json").string();
}

model::CouplingDataset with_shared_slm_host(const model::CouplingDataset& d) {
  model::CouplingDataset out = d;
  for (const auto& series : context::context_series(d)) {
    if (series.configs.size() < 2) continue;
    const std::size_t n = series.configs.front()->profile.segments.size();
    std::vector<double> shared(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> spans;
      for (const auto* c : series.configs)
        if (!c->sweeps.empty() && i < c->sweeps.front().cpu_seg_ns.size())
          spans.push_back(c->sweeps.front().cpu_seg_ns[i]);
      shared[i] = spans.empty() ? 0.0 : fit::median(spans);
    }
    for (auto& c : out.configs)
      for (const auto* member : series.configs)
        if (c.tag == member->tag && !c.sweeps.empty()) c.sweeps.front().cpu_seg_ns = shared;
  }
  return out;
}

std::vector<std::shared_ptr<const ModelTruth>> layer_truths(const model::CouplingDataset& dataset,
                                                            const LayerBoardSpec& b,
                                                            const std::vector<std::string>& tags) {
  const model::CouplingDataset d = with_shared_slm_host(dataset);
  const HostNoise noise = host_noise(d);
  std::vector<std::shared_ptr<const ModelTruth>> out;
  for (const auto& t : tags)
    if (std::none_of(d.configs.begin(), d.configs.end(), [&](const auto& c) { return c.tag == t; })) {
      std::string known;
      for (const auto& c : d.configs) known += (known.empty() ? "" : ", ") + c.tag;
      throw std::runtime_error(fmt::format("{}: no configuration '{}' (known: {})", d.source, t, known));
    }
  for (const auto& c : d.configs)
    if (tags.empty() || std::find(tags.begin(), tags.end(), c.tag) != tags.end())
      out.push_back(std::make_shared<LayerTruth>(c, b.params, b.levels, noise.sigma));
  return out;
}

}  // namespace flame::sim
