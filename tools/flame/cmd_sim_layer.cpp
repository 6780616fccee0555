// flame sim layer: the layer-driven simulated TX2 (docs/simulator.md). Replays real H200 segments
// kernel by kernel on the TX2's clock tables and writes FlexiBO-format grids that `flame sim run`,
// `flame eval`, `flame validate grid` and `flame fit` read like the measured ones.
#include <fmt/format.h>

#include <filesystem>

#include "command.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_board.hpp"
#include "flame/sim/layer_boards.hpp"

namespace {

namespace fs = std::filesystem;

struct LayerArgs {
  std::string board = "layer-tx2";
  std::string truth;
  std::string data = "data/h200-coupling/run2/coupling.json";
  std::vector<std::string> tags;
  std::string out;
  std::uint64_t seed = 1;
  std::vector<std::string> at;  // cores,cpu_khz,gpu_hz,emc_hz
  bool json = false;
};

flame::sim::SimClocks parse_at(const std::vector<std::string>& v) {
  if (v.size() != 4) throw std::runtime_error("--at wants CORES,CPU_KHZ,GPU_HZ,EMC_HZ");
  try {
    return {std::stoi(v[0]), std::stoull(v[1]), std::stoull(v[2]), std::stoull(v[3])};
  } catch (const std::exception&) {
    throw std::runtime_error("--at wants four integers: CORES,CPU_KHZ,GPU_HZ,EMC_HZ");
  }
}

void layer(const LayerArgs& a) {
  const auto dataset = flame::model::load_coupling_dataset(flame::io::find_data(a.data));
  std::vector<const flame::model::CouplingConfig*> picked;
  for (const auto& c : dataset.configs)
    if (a.tags.empty() || std::find(a.tags.begin(), a.tags.end(), c.tag) != a.tags.end())
      picked.push_back(&c);
  for (const auto& t : a.tags)
    if (std::none_of(picked.begin(), picked.end(), [&](auto* c) { return c->tag == t; }))
      throw std::runtime_error(fmt::format("{}: no configuration '{}'", a.data, t));
  const auto board = flame::sim::layer_board(a.board);
  if (!board)
    throw std::runtime_error(
        fmt::format("unknown board '{}' (known: {})", a.board, flame::sim::layer_board_names()));
  const flame::sim::LayerBoardParams params = board->params;
  const auto levels = board->levels;

  if (!a.truth.empty()) {
    // The noise-free end-to-end latency at every combination with all cores online, one CSV per
    // configuration (`flame model check` reads it): what a fitted model is checked against.
    if (picked.size() != 1) throw std::runtime_error("--truth wants exactly one --config");
    std::string csv = "cpu_khz,gpu_hz,emc_hz,latency_ms,power_w\n";
    for (auto cpu : levels.cpu_khz)
      for (auto gpu : levels.gpu_hz)
        for (auto emc : levels.emc_hz) {
          const auto r = flame::sim::replay_inference(*picked.front(), {levels.cores.back(), cpu, gpu, emc},
                                                      params, levels);
          csv += fmt::format("{},{},{},{:.6f},{:.6f}\n", cpu, gpu, emc, r.latency_ns / 1e6, r.power_w);
        }
    flame::io::write_file_atomically(a.truth, csv);
    return;
  }

  if (!a.at.empty()) {
    const auto clocks = parse_at(a.at);
    for (const auto* c : picked) {
      const auto r = flame::sim::replay_inference(*c, clocks, params, levels);
      if (a.json)
        fmt::print(
            "{{\"tag\":\"{}\",\"latency_ms\":{:.6g},\"host_ms\":{:.6g},\"device_ms\":{:.6g},\"bubble_ms\":{:."
            "6g},"
            "\"memory_ms\":{:.6g},\"power_w\":{:.6g},\"launch_bound\":{}}}\n",
            c->tag, r.latency_ns / 1e6, r.host_ns / 1e6, r.device_ns / 1e6, r.bubble_ns / 1e6,
            r.memory_ns / 1e6, r.power_w, r.launch_bound());
      else
        fmt::print("{:<36} {:8.2f} ms  host {:7.2f}  GPU {:7.2f}  bubbles {:7.2f}  {:5.2f} W  {}\n", c->tag,
                   r.latency_ns / 1e6, r.host_ns / 1e6, r.device_ns / 1e6, r.bubble_ns / 1e6, r.power_w,
                   r.launch_bound() ? "launch-bound" : "execution-bound");
    }
    return;
  }
  if (a.out.empty())
    throw std::runtime_error("give --out DIR (grids) or --at CORES,CPU,GPU,EMC (one replay)");
  fs::create_directories(a.out);
  for (const auto* c : picked) {
    const auto name = flame::sim::layer_grid_name(*c);
    const fs::path file =
        fs::path(a.out) / fmt::format("tx2_sampled_output_{}_{}.csv", name.model, name.size);
    flame::io::write_file_atomically(file, flame::sim::layer_grid_csv(*c, params, levels, a.seed));
    fmt::print("{}: {}-{}\n", file.string(), name.model, name.size);
  }
}

const flame::cli::Registrar reg([](CLI::App& root) {
  auto* simc = flame::cli::group(root, "sim", "Simulated Jetson board: fake sysfs tree, workloads, replay");
  auto a = std::make_shared<LayerArgs>();
  auto* cmd = simc->add_subcommand(
      "layer",
      "Layer-driven board: replay H200 segments kernel by kernel at the board's clocks; write FlexiBO-format "
      "grids, one replay, or the noise-free truth");
  cmd->add_option("--board", a->board, flame::sim::layer_board_names())->capture_default_str();
  cmd->add_option("--data", a->data, "Coupling dataset (docs/coupling-format.md)")->capture_default_str();
  cmd->add_option("--truth", a->truth,
                  "Write the noise-free latency (and power) at every combination, all cores, to this CSV");
  cmd->add_option("--config", a->tags, "Configuration tags (default: all)");
  cmd->add_option("--out", a->out, "Directory for the grids (tx2_sampled_output_<model>_<size>.csv)");
  cmd->add_option("--seed", a->seed, "Seed of the per-point measurement noise")->capture_default_str();
  cmd->add_option("--at", a->at, "Replay once at CORES,CPU_KHZ,GPU_HZ,EMC_HZ and print the breakdown")
      ->delimiter(',');
  cmd->add_flag("--json", a->json, "With --at: one JSON object per configuration");
  cmd->callback([a] { layer(*a); });
});

}  // namespace
