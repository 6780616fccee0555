#pragma once
// The layer-driven simulated board (docs/simulator.md, "Layer-driven ground truth"): real per-segment
// CPU/GPU work measured on an H200 (data/h200-coupling) mapped onto a Jetson's clock tables with
// stated physical assumptions, and an inference replayed kernel by kernel through a launch queue, so
// that pipeline bubbles and the launch-bound / execution-bound transition come out of the replay,
// not out of any estimator formula. It shares no code with lib/flame/model or lib/flame/search.
//
// Live: LayerTruth replays every inference the simulator runs at the clocks in effect (the simulated
// boards layer-tx2 and layer-orin, layer_boards.hpp). For grid consumers the replay can also be written
// as a FlexiBO-format grid (one row per cores × CPU × GPU × EMC level, one noisy "measurement" each).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "flame/model/coupling_calibration.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/grid_table.hpp"
#include "flame/sim/model_truth.hpp"

namespace flame::sim {

// Physical parameters of the target board. Defaults: Jetson TX2 (Pascal GP10B, 4x Cortex-A57,
// 128-bit LPDDR4). Each value is documented in docs/simulator.md with its source or as an assumption.
struct LayerBoardParams {
  // Host (kernel dispatch on the CPU).
  double host_slowdown_at_max = 4.0;  // A57 at its top clock vs the H200 host core, per unit of work
  double cpu_max_khz = 2035200;       // the top CPU clock the slowdown refers to
  double host_memory_share = 0.2;     // part of host work bound by DRAM latency (scales with EMC)
  double core_contention = 0.06;      // extra host time per offline core of the four (OS, runtime threads)
  // Device.
  double gpu_flop_per_cycle_fp32 = 512;  // 256 CUDA cores x FMA
  double gpu_fp16_speedup = 2.0;         // Pascal GP10B packed half precision (bf16 taken as fp16)
  double dram_bytes_per_emc_hz = 32;     // 59.7 GB/s at 1866 MHz
  double tf32_conv_speedup = 1.0;        // float32 convolutions on tensor cores (TF32); 1 = none
  double compute_efficiency = 0.5;       // achieved fraction of peak FLOP/s in convolutions and GEMMs
  double memory_efficiency = 0.65;       // achieved fraction of peak DRAM bandwidth
  double kernel_overhead_cycles = 5200;  // per kernel: setup and tail, 4 us at 1300.5 MHz
  double h200_kernel_floor_ns = 2000;    // per kernel on the H200: launch-dominated small kernels
  double h200_to_board_bandwidth = 80;   // H200 4.8 TB/s over the board's bandwidth at its top EMC clock
  double h200_fp32_flops = 67e12;        // H200 FP32 peak: calls without MACs scale their H200 time by it
  double sync_ns = 20'000;               // host wake-up after the final synchronise
  // Power (W): static, plus CPU/GPU dynamic ~ f V^2 with V linear in f, plus DRAM.
  double static_w = 0.45;
  double per_core_w = 0.04;
  double cpu_dynamic_w = 1.1;  // one busy core at the top clock
  double gpu_dynamic_w = 2.2;  // busy GPU at the top clock
  double gpu_clock_w = 0.15;   // GPU clock tree while clocked, at the top clock
  double emc_w = 0.5;          // DRAM at the top EMC clock, fully busy
  double emc_idle_share = 0.3;
  double v_min_ratio = 0.7;  // voltage at the lowest clock over voltage at the top clock
  // Measurement noise of one grid "measurement" (log-normal, mean-preserving).
  double latency_sigma = 0.02;
  double power_sigma = 0.03;
};

// The TX2 levels of the FlexiBO grids (the table-driven board offers exactly these).
ClockLevels tx2_levels();

// One replayed inference.
struct LayerRun {
  double latency_ns = 0;
  double host_ns = 0;    // host busy time (dispatch)
  double device_ns = 0;  // GPU busy time
  double bubble_ns = 0;  // GPU idle while the host had not launched the next kernel yet
  double memory_ns = 0;  // GPU time bound by DRAM bandwidth
  double power_w = 0;    // average board power over the inference
  // The GPU waited on the host for more than a tenth of the inference.
  bool launch_bound() const { return bubble_ns > 0.1 * latency_ns; }
};

// Where one replay put things (ns from the inference's start), for writing a profiler trace.
struct ReplayTimeline {
  struct Span {
    double start_ns = 0, end_ns = 0;
  };
  struct Kernel {
    std::size_t segment = 0;
    double launch_ns = 0, start_ns = 0, end_ns = 0;
  };
  std::vector<Span> host;  // one per segment (the host's forward pass; the synchronise comes after)
  std::vector<Kernel> kernels;
};

// Replays one inference of `config` (its reference sweep) at `clocks` on the board. host_factor
// multiplies every host span (this inference's host-side noise); `timeline`, when given, receives
// the spans and kernels.
LayerRun replay_inference(const model::CouplingConfig& config, const SimClocks& clocks,
                          const LayerBoardParams& p, const ClockLevels& levels, double host_factor = 1.0,
                          ReplayTimeline* timeline = nullptr);

// One replayed inference as a profiler records it: per-segment host spans and device time, the
// end-to-end latency and the wait in the final synchronise (what `flame sim app`'s trace attributes,
// without writing the trace). For in-process fits and validations.
model::ProfiledRun replay_profile(const model::CouplingConfig& config, const SimClocks& clocks,
                                  const LayerBoardParams& p, const ClockLevels& levels,
                                  double host_factor = 1.0);

// Host-side noise of a coupling dataset: the per-iteration spread of the end-to-end times of its
// *steady* sweeps (first-half and second-half medians of e2e_ns within 5 %), as the standard deviation
// of ln(e2e / sweep median), robust (1.4826 × MAD) over all their samples. The H200 runs are
// launch-bound, so their end-to-end spread is the host's.
struct HostNoise {
  double sigma = 0;
  std::size_t samples = 0;
  std::size_t steady_sweeps = 0, sweeps = 0;
};
HostNoise host_noise(const model::CouplingDataset& d);

// The live layer-level truth of one configuration: every sample is a replay at the clocks asked, the
// host spans times this inference's log-normal host factor (sigma from host_noise, scaled by the
// draw); power from the board's power model over that replay (no separate power noise).
class LayerTruth final : public ModelTruth {
 public:
  LayerTruth(model::CouplingConfig config, LayerBoardParams params, ClockLevels levels, double host_sigma);
  const std::string& name() const override { return config_.tag; }
  TruthSample sample(const SimClocks& c, const TruthDraw& d) const override;
  double host_factor(const TruthDraw& d) const {
    return lognormal_factor(host_sigma_ * d.scale, d.z_latency);
  }
  LayerRun replay(const SimClocks& c, double host_factor, ReplayTimeline* timeline = nullptr) const;
  const model::CouplingConfig& config() const { return config_; }
  const LayerBoardParams& params() const { return params_; }
  double host_sigma() const { return host_sigma_; }

 private:
  model::CouplingConfig config_;
  LayerBoardParams params_;
  ClockLevels levels_;
  double host_sigma_ = 0;
  mutable std::mutex mu_;  // the noise-free values are memoised (the power cap and oracles ask often)
  mutable std::map<std::tuple<int, std::uint64_t, std::uint64_t, std::uint64_t>, TruthSample> mean_;
};

// Grid naming: FlexiBO's model_name and size columns, chosen so that GridTable::name() reads
// "<model>-<size>", e.g. "resnet50-b1" or "qwen2-0.5b-decode-ctx512".
struct LayerGridName {
  std::string model;
  std::string size;
};
LayerGridName layer_grid_name(const model::CouplingConfig& config);

// The full grid as FlexiBO CSV text, one noisy measurement per point (seeded).
std::string layer_grid_csv(const model::CouplingConfig& config, const LayerBoardParams& p,
                           const ClockLevels& levels, std::uint64_t seed);

}  // namespace flame::sim
