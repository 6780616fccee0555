// flame sim app: the simulated application on a live layer-level board (docs/simulator.md). Runs one
// configuration of a coupling dataset at the clocks the board's tree holds, writes a PyTorch-profiler
// trace, and shows its power on the tree's VDD_IN rail, so `flame profile ... -- flame sim app ...`
// goes through the real profiling loop.
// flame sim infer: the same application as a runtime without a profiler (TensorRT, ONNX Runtime,
// llama.cpp): it prints each inference's latency (ms) on its own line as it finishes, what
// `flame profile --e2e` reads. Both know only the tree (the clocks in effect) and the board's truth.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "command.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/sim/sim_app.hpp"
#include "flame/trace/trace_source.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = flame::sim;

struct AppArgs {
  std::string board;
  std::string root;
  std::string data;
  std::string config;
  std::string out;
  std::string ctx;  // context lengths: each replaces {ctx} in --config and the trace path
  std::uint64_t seed = 1;
  double noise = 1.0;
  sim::AppOptions app;
  bool no_pace = false;
  bool json = false;
};

// The board by name; an unknown one is a usage error.
sim::LayerBoardSpec board_or_exit(const std::string& cmd, const std::string& name) {
  auto board = sim::layer_board(name);
  if (!board) {
    std::cerr << fmt::format("flame sim {}: unknown board '{}' (known: {})\n", cmd, name,
                             sim::layer_board_names());
    throw flame::cli::Exit{2};
  }
  return *board;
}

void require_tree(const std::string& cmd, const std::string& root, const std::string& board) {
  if (!fs::is_directory(root)) {
    std::cerr << fmt::format(
        "flame sim {}: {} is not a directory (make one with `flame sim tree --board {}`)\n", cmd, root,
        board);
    throw flame::cli::Exit{2};
  }
}

// The simulator on the tree at `root`, its noise stream picked by the clocks the tree holds
// (sim_app.hpp): they are read first without changing anything.
std::unique_ptr<sim::TableSimulator> board_simulator(
    const sim::LayerBoardSpec& board, const std::string& root,
    const std::vector<std::shared_ptr<const sim::ModelTruth>>& truths, std::uint64_t seed, double noise) {
  sim::SimOptions so;
  so.thermal = board.thermal;
  so.noise_scale = noise;
  {
    sim::SimOptions probe = so;
    probe.update_tree = false;
    sim::TableSimulator s(root, {board.layout, board.levels}, truths, probe);
    so.seed = sim::app_seed(seed, s.observe(0).requested);
  }
  return std::make_unique<sim::TableSimulator>(root, sim::SimBoard{board.layout, board.levels}, truths, so);
}

// Written atomically (flame/io/atomic_write.hpp): a reader never sees half a trace. Gzip'ed when the
// name ends in .gz (as the PyTorch helper writes them).
void write_trace(const std::string& path, const std::string& text) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  flame::io::write_file_atomically(path, gz ? flame::trace::gzip(text) : text);
}

std::string with_ctx(std::string s, const std::string& ctx) {
  for (auto at = s.find("{ctx}"); at != std::string::npos; at = s.find("{ctx}", at + ctx.size()))
    s.replace(at, 5, ctx);
  return s;
}

void app(const AppArgs& a) {
  const auto board = board_or_exit("app", a.board);
  std::string out = a.out;
  if (out.empty())
    if (const char* e = std::getenv("FLAME_PROFILE_TRACE")) out = e;
  if (out.empty()) {
    std::cerr << "flame sim app: give --out TRACE (or run it under flame profile, which sets "
                 "FLAME_PROFILE_TRACE)\n";
    throw flame::cli::Exit{2};
  }
  std::string ctx_list = a.ctx;
  if (ctx_list.empty())
    if (const char* e = std::getenv("FLAME_PROFILE_CTX")) ctx_list = e;
  std::vector<std::string> contexts;
  for (std::size_t i = 0; i <= ctx_list.size();) {
    const auto j = std::min(ctx_list.find(',', i), ctx_list.size());
    if (j > i) contexts.push_back(ctx_list.substr(i, j - i));
    i = j + 1;
  }
  const bool per_ctx = a.config.find("{ctx}") != std::string::npos;
  if (per_ctx != !contexts.empty() || (per_ctx && out.find("{ctx}") == std::string::npos)) {
    std::cerr
        << "flame sim app: with context lengths (--ctx or FLAME_PROFILE_CTX) both --config and the trace "
           "path contain {ctx}, and without them neither does\n";
    throw flame::cli::Exit{2};
  }
  if (contexts.empty()) contexts.push_back("");
  require_tree("app", a.root, a.board);
  const auto dataset =
      flame::model::load_coupling_dataset(a.data.empty() ? sim::default_layer_data() : a.data);
  std::vector<std::string> tags;
  for (const auto& c : contexts) tags.push_back(with_ctx(a.config, c));
  const auto truths = sim::layer_truths(dataset, board, tags);  // fails before anything runs
  const std::string root = fs::absolute(a.root).string();
  // One process, one board: the contexts run one after the other on the same simulator.
  const auto sp = board_simulator(board, root, truths, a.seed, a.noise);
  sim::TableSimulator& s = *sp;
  const auto wait = [&](double ms) {
    if (!a.no_pace) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
  };
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    const auto& truth = dynamic_cast<const sim::LayerTruth&>(s.truth(tags[i]));
    const auto wall_start = std::chrono::system_clock::now();
    const sim::AppRun run = sim::run_app(s, truth, a.app, wait);
    const std::string path = with_ctx(out, contexts[i]);
    std::optional<std::int64_t> anchor;  // unpaced, the iterations did not happen in real time
    if (!a.no_pace)
      anchor = std::chrono::duration_cast<std::chrono::nanoseconds>(wall_start.time_since_epoch()).count();
    write_trace(path, sim::app_trace_json(truth, run, board.name, anchor));
    double sum = 0;
    for (const auto& it : run.recorded) sum += it.result.latency_ms;
    const double mean = sum / static_cast<double>(run.recorded.size());
    const double power = run.recorded.back().result.avg_power_w;
    if (a.json) {
      std::cout << fmt::format(
          "{{\"board\": \"{}\", \"config\": \"{}\", \"clocks\": {{\"cores\": {}, \"cpu_khz\": {}, "
          "\"gpu_hz\": {}, "
          "\"emc_hz\": {}}}, \"seed\": {}, \"iterations\": {}, \"mean_latency_ms\": {:.6f}, \"power_w\": "
          "{:.6f}, "
          "\"host_sigma\": {:.6g}, \"trace\": \"{}\"}}\n",
          board.name, truth.name(), run.clocks.cores, run.clocks.cpu_khz, run.clocks.gpu_hz,
          run.clocks.emc_hz, s.options().seed, run.recorded.size(), mean, power, truth.host_sigma(), path);
      continue;
    }
    std::cout << fmt::format("{} on {} at {}: {} iterations, mean {:.3f} ms, {:.3f} W; trace {}\n",
                             truth.name(), board.name, sim::to_string(run.clocks), run.recorded.size(), mean,
                             power, path);
  }
}

struct InferArgs {
  std::string board;
  std::string root;
  std::string data;
  std::string config;
  std::uint64_t seed = 1;
  double noise = 1.0;
  int count = 20;
  bool no_pace = false;
};

// One inference at a time, its latency printed (and flushed) when it finishes, as a runtime's
// benchmark loop would; the tree shows each one's power on VDD_IN meanwhile.
void infer(const InferArgs& a) {
  const auto board = board_or_exit("infer", a.board);
  require_tree("infer", a.root, a.board);
  const auto dataset =
      flame::model::load_coupling_dataset(a.data.empty() ? sim::default_layer_data() : a.data);
  const auto truths = sim::layer_truths(dataset, board, {a.config});
  const auto sp = board_simulator(board, fs::absolute(a.root).string(), truths, a.seed, a.noise);
  const auto& truth = dynamic_cast<const sim::LayerTruth&>(sp->truth(a.config));
  sim::AppOptions one;  // no warm-up of its own: `flame profile --e2e --warmup` drops lines
  one.warmup = 0;
  one.warmup_ms = 0;
  one.iterations = 1;
  for (int i = 0; i < a.count; ++i) {
    const sim::AppRun run = sim::run_app(*sp, truth, one, [&](double ms) {
      if (!a.no_pace) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
    });
    std::cout << fmt::format("{:.6f}", run.recorded.front().result.latency_ms) << std::endl;
  }
}

const flame::cli::Registrar reg([](CLI::App& root) {
  auto* simc = flame::cli::group(root, "sim", "Simulated Jetson board: fake sysfs tree, workloads, replay");
  auto a = std::make_shared<AppArgs>();
  auto* cmd = simc->add_subcommand(
      "app", "Simulated application: run one configuration on a live layer-level board, write its trace");
  cmd->add_option("--board", a->board, sim::layer_board_names())->required();
  cmd->add_option("--sysfs-root", a->root, "The board's fake sysfs tree (flame sim tree --board ...)")
      ->required();
  cmd->add_option("--config", a->config, "Configuration tag in the dataset, e.g. resnet50_b1_float32")
      ->required();
  cmd->add_option("--data", a->data,
                  "Coupling dataset (docs/coupling-format.md; default: the shipped H200 run 2)");
  cmd->add_option("--out", a->out, "Trace file (gzip'ed if it ends in .gz; default $FLAME_PROFILE_TRACE)");
  cmd->add_option("--ctx", a->ctx,
                  "Context lengths, comma-separated, each replacing {ctx} in --config and the trace path "
                  "(default $FLAME_PROFILE_CTX)");
  cmd->add_option("--seed", a->seed, "Noise seed (mixed with the clocks the tree holds)")
      ->capture_default_str();
  cmd->add_option("--noise", a->noise, "Scale of the host noise (0 = none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--iterations", a->app.iterations, "Recorded iterations")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", a->app.warmup, "Unrecorded iterations first (at least)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--warmup-ms", a->app.warmup_ms, "... and at least this much simulated time (start-up)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-pace", a->no_pace, "Do not take the simulated time in wall-clock time");
  cmd->add_flag("--json", a->json, "Print the run as JSON");
  cmd->callback([a] { app(*a); });

  auto i = std::make_shared<InferArgs>();
  auto* inf = simc->add_subcommand(
      "infer",
      "Simulated runtime without a profiler: run one configuration, print each inference's latency (ms) "
      "on a line (flame profile --e2e)");
  inf->add_option("--board", i->board, sim::layer_board_names())->required();
  inf->add_option("--sysfs-root", i->root, "The board's fake sysfs tree (flame sim tree --board ...)")
      ->required();
  inf->add_option("--config", i->config, "Configuration tag in the dataset, e.g. resnet50_b1_float32")
      ->required();
  inf->add_option("--data", i->data,
                  "Coupling dataset (docs/coupling-format.md; default: the shipped H200 run 2)");
  inf->add_option("--count", i->count, "Inferences to run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  inf->add_option("--seed", i->seed, "Noise seed (mixed with the clocks the tree holds)")
      ->capture_default_str();
  inf->add_option("--noise", i->noise, "Scale of the host noise (0 = none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  inf->add_flag("--no-pace", i->no_pace, "Do not take the simulated time in wall-clock time");
  inf->callback([i] { infer(*i); });
});

}  // namespace
