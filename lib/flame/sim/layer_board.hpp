#pragma once
// The layer-driven simulated board (docs/simulator.md, "Layer-driven ground truth"): real per-segment
// CPU/GPU work measured on an H200 (data/h200-coupling) mapped onto a Jetson's clock tables with
// stated physical assumptions, and an inference replayed kernel by kernel through a launch queue, so
// that pipeline bubbles and the launch-bound / execution-bound transition come out of the replay,
// not out of any estimator formula. It shares no code with lib/flame/model or lib/flame/search.
//
// The result is written as a FlexiBO-format grid (one row per cores × CPU × GPU × EMC level, one noisy
// "measurement" each), so the table-driven simulator, `flame validate grid` and `flame fit` read it
// exactly like the measured TX2 grids.
#include <cstdint>
#include <string>
#include <vector>

#include "flame/io/coupling_dataset.hpp"
#include "flame/sim/grid_table.hpp"

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
  double compute_efficiency = 0.5;       // achieved fraction of peak FLOP/s in convolutions and GEMMs
  double memory_efficiency = 0.65;       // achieved fraction of peak DRAM bandwidth
  double kernel_overhead_cycles = 5200;  // per kernel: setup and tail, 4 us at 1300.5 MHz
  double h200_kernel_floor_ns = 2000;    // per kernel on the H200: launch-dominated small kernels
  double h200_to_board_bandwidth = 80;   // H200 4.8 TB/s over the board's 59.7 GB/s
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

// The board's levels (ascending), in sysfs units.
struct LayerBoardLevels {
  std::vector<int> cores;
  std::vector<std::uint64_t> cpu_khz, gpu_hz, emc_hz;
};
// The TX2 levels of the FlexiBO grids (the table-driven board offers exactly these).
LayerBoardLevels tx2_levels();

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

// Replays one inference of `config` (its reference sweep) at `clocks` on the board.
LayerRun replay_inference(const CouplingConfig& config, const SimClocks& clocks, const LayerBoardParams& p,
                          const LayerBoardLevels& levels);

// Grid naming: FlexiBO's model_name and size columns, chosen so that GridTable::name() reads
// "<model>-<size>", e.g. "resnet50-b1" or "qwen2-0.5b-decode-ctx512".
struct LayerGridName {
  std::string model;
  std::string size;
};
LayerGridName layer_grid_name(const CouplingConfig& config);

// The full grid as FlexiBO CSV text, one noisy measurement per point (seeded).
std::string layer_grid_csv(const CouplingConfig& config, const LayerBoardParams& p,
                           const LayerBoardLevels& levels, std::uint64_t seed);

}  // namespace flame::sim
