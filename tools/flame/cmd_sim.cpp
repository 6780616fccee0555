// flame sim: the simulated board (docs/simulator.md). `tree` writes a fake Jetson sysfs tree,
// `workload` generates a replayable workload file, `run` replays a workload against a running flamed
// on the table-driven TX2, `grid` prints what the simulator knows about its measured grids.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/sim/profiles.hpp"
#include "flame/sim/replay.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/sim/workload.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = flame::sim;

struct SimArgs {
  // tree
  std::string profile = "tx2-jp4";
  std::string out;
  bool denver_online = false;
  bool list = false;
  // workload
  std::string preset;
  std::optional<std::uint64_t> seed;
  std::optional<int> frames;
  std::optional<int> bursts;
  std::optional<int> infer_every;
  std::optional<int> turns;
  std::optional<double> fps;
  std::vector<std::string> models;  // camera: one; bursty: drawn uniformly among them
  std::string name;
  std::string check_file;
  // run / grid
  std::string board = "tx2";
  std::string tree;
  std::string workload;
  std::string data;
  std::vector<std::string>
      configs;  // layer boards: the configurations to run (default: the workload's models)
  std::optional<std::string> socket;
  bool no_daemon = false;
  std::size_t limit = 0;
  double noise = 1.0;
  std::vector<double> delays = {1, 5, 8};
  std::optional<double> power_cap_w;
  double ambient_c = 25;
  std::optional<double> throttle_c;
  bool json = false;
  std::string records;
  std::string connections = "stream";
  bool realtime = false;
};

void tree(const SimArgs& a) {
  if (a.list) {  // one name a line, for scripts that test every profile
    for (auto each : sim::all_profiles()) std::cout << sim::profile_name(each) << '\n';
    return;
  }
  if (a.out.empty()) {
    std::cerr << "flame sim tree: --out is required (or --list)\n";
    throw flame::cli::Exit{2};
  }
  auto p = sim::parse_profile(a.profile);
  if (a.board != "tx2") {  // --board: the tree of a live layer-level board
    const auto b = sim::layer_board(a.board);
    if (!b) {
      std::cerr << fmt::format("flame sim tree: unknown board '{}' (known: {})\n", a.board,
                               sim::layer_board_names());
      throw flame::cli::Exit{2};
    }
    p = b->profile;
  }
  if (!p) {
    std::cerr << fmt::format("flame sim tree: unknown profile '{}' (known: {})\n", a.profile,
                             sim::profile_names());
    throw flame::cli::Exit{2};
  }
  std::error_code ec;
  if (fs::exists(a.out, ec) && !fs::is_empty(a.out, ec)) {
    std::cerr << fmt::format("flame sim tree: {} exists and is not empty; give a new directory\n", a.out);
    throw flame::cli::Exit{2};
  }
  sim::TreeOptions o;
  o.tx2_denver_online = a.denver_online;
  o.cur_follows_max = true;  // a tree without a simulator behaves like a busy board
  sim::FakeTree t(fs::absolute(a.out).string(), /*owned=*/false);
  sim::build(*p, t, o);
  std::cout << fmt::format("wrote a {} tree to {}\n", sim::profile_name(*p), t.root());
}

std::string grid_dir(const SimArgs& a) {
  if (!a.data.empty()) return a.data;
  return sim::tx2_grid_dir();
}

void require_tx2(const SimArgs& a, const char* cmd) {
  if (a.board != "tx2") {
    std::cerr << fmt::format("flame sim {}: unknown board '{}' (known: tx2, the table-driven TX2)\n", cmd,
                             a.board);
    throw flame::cli::Exit{2};
  }
}

void workload(const SimArgs& a) {
  if (!a.check_file.empty()) {
    const auto w = sim::load_workload(a.check_file);
    const auto again = sim::regenerate(w);
    std::ifstream in(a.check_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (sim::to_yaml(again) != ss.str()) {
      std::cerr << fmt::format("{}: does not match what its generator parameters produce\n", a.check_file);
      throw flame::cli::Exit{1};
    }
    std::cout << fmt::format("{}: OK ({} requests, regenerates byte for byte)\n", a.check_file,
                             w.requests.size());
    return;
  }
  if (a.preset.empty()) {
    std::cerr << fmt::format("flame sim workload: give --preset ({}) or --check FILE\n",
                             fmt::join(sim::preset_names(), ", "));
    throw flame::cli::Exit{2};
  }
  sim::Workload w = sim::generate_preset(a.preset, a.seed.value_or(1));
  if (a.frames || a.bursts || a.infer_every || a.fps || a.turns || !a.models.empty() || !a.name.empty()) {
    sim::Workload base = w;
    // A mix's app A is a camera and app B a bursty stream: the same options apply to them.
    for (auto [cam, bur] :
         {std::pair{&base.camera, &base.bursty}, std::pair{&base.mix.camera, &base.mix.bursty}}) {
      if (a.frames) cam->frames = *a.frames;
      if (a.bursts) bur->bursts = *a.bursts;
      if (a.infer_every) cam->infer_every = *a.infer_every;
      if (a.fps) cam->fps = *a.fps;
    }
    if (a.turns) base.slm.turns = *a.turns;
    if (!a.models.empty()) {
      if (base.generator == "camera" && a.models.size() != 1)
        throw std::runtime_error("flame sim workload: a camera workload runs one --model");
      if (base.generator == "slm" && a.models.size() != 1)
        throw std::runtime_error("flame sim workload: an SLM chat names one --model (the SLM's base name)");
      if (base.generator == "mix" && a.models.size() < 2)
        throw std::runtime_error(
            "flame sim workload: a mix takes --model CAMERA_MODEL,BURST_MODEL[,...] (app A's, then app B's)");
      base.camera.model = a.models.front();
      base.bursty.models = a.models;
      base.mix.camera.model = a.models.front();
      base.mix.bursty.models.assign(a.models.begin() + (a.models.size() > 1 ? 1 : 0), a.models.end());
      base.slm.model = a.models.front();  // requests then name the SLM with their ctx and phase
    }
    if (!a.name.empty()) base.name = a.name;
    w = sim::regenerate(base);  // validates the parameters
  }
  const std::string text = sim::to_yaml(w);
  if (a.out.empty()) {
    std::cout << text;
    return;
  }
  flame::io::write_file_atomically(a.out, text);
  std::cerr << fmt::format("wrote {} ({} requests)\n", a.out, w.requests.size());
}

void grid(const SimArgs& a) {
  require_tx2(a, "grid");
  const auto tables = sim::load_tx2_tables(grid_dir(a));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tables) {
    const auto f = t.fastest(), f4 = t.fastest(t.cores().back());
    const auto& fp = t.at(f);
    const auto& f4p = t.at(f4);
    if (a.json) {
      out.push_back({{"name", t.name()},
                     {"source", t.source()},
                     {"rows", t.size()},
                     {"fastest_ms", fp.latency_s * 1e3},
                     {"fastest_clocks", sim::to_string(t.clocks(f))},
                     {"fastest_all_cores_ms", f4p.latency_s * 1e3},
                     {"latency_sigma", t.latency_noise().sigma},
                     {"latency_sigma_plain", t.latency_noise().sigma_plain},
                     {"power_sigma", t.power_noise().sigma},
                     {"power_sigma_plain", t.power_noise().sigma_plain},
                     {"residuals", t.latency_noise().residuals}});
      continue;
    }
    std::cout << fmt::format(
        "{} ({} rows, {})\n  fastest {:.1f} ms at {}\n  fastest with {} cores {:.1f} ms at {}\n"
        "  noise (neighbour scatter, {} residuals): latency sigma {:.2f} % (plain sd {:.2f} %), power sigma "
        "{:.2f} % (plain sd {:.2f} %)\n",
        t.name(), t.size(), t.source(), fp.latency_s * 1e3, sim::to_string(t.clocks(f)), t.cores().back(),
        f4p.latency_s * 1e3, sim::to_string(t.clocks(f4)), t.latency_noise().residuals,
        100 * t.latency_noise().sigma, 100 * t.latency_noise().sigma_plain, 100 * t.power_noise().sigma,
        100 * t.power_noise().sigma_plain);
  }
  if (a.json) std::cout << out.dump(2) << "\n";
}

void run_sim(const SimArgs& a) {
  if (a.board != "tx2" && !sim::layer_board(a.board)) {
    std::cerr << fmt::format("flame sim run: unknown board '{}' (known: tx2, the table-driven TX2; {})\n",
                             a.board, sim::layer_board_names());
    throw flame::cli::Exit{2};
  }
  if (a.delays.size() != 3) {
    std::cerr << "flame sim run: --delays takes three values (CPU,GPU,EMC ms)\n";
    throw flame::cli::Exit{2};
  }
  if (!a.no_daemon && !a.socket) {
    std::cerr << "flame sim run: give --socket PATH (flamed's socket) or --no-daemon\n";
    throw flame::cli::Exit{2};
  }
  const auto w = sim::load_workload(a.workload);
  sim::SimOptions so;
  if (const auto b = sim::layer_board(a.board)) so.thermal = b->thermal;
  so.seed = a.seed.value_or(1);
  so.noise_scale = a.noise;
  so.cpu_delay_ms = a.delays[0];
  so.gpu_delay_ms = a.delays[1];
  so.emc_delay_ms = a.delays[2];
  so.power_cap_w = a.power_cap_w;
  so.thermal.ambient_c = a.ambient_c;
  if (a.throttle_c) {
    if (*a.throttle_c <= a.ambient_c) {
      std::cerr << "flame sim run: --throttle-c must be above --ambient-c\n";
      throw flame::cli::Exit{2};
    }
    so.throttle = sim::ThrottleOptions{};
    so.throttle->trip_c = *a.throttle_c;
  }
  if (!fs::is_directory(a.tree)) {
    std::cerr << fmt::format("flame sim run: {} is not a directory (make one with `flame sim tree`)\n",
                             a.tree);
    throw flame::cli::Exit{2};
  }
  const std::string root = fs::absolute(a.tree).string();
  std::unique_ptr<sim::TableSimulator> sp;
  sim::ReplayOptions ro;
  if (const auto b = sim::layer_board(a.board)) {
    const auto dataset =
        flame::model::load_coupling_dataset(a.data.empty() ? sim::default_layer_data() : a.data);
    // SLM requests run the dataset's configuration of their context (docs/simulator.md).
    if (w.has_context()) ro.truths = sim::RequestTruths(dataset);
    auto tags = a.configs;
    if (tags.empty()) tags = ro.truths.truth_names(w, a.limit);
    sp = std::make_unique<sim::TableSimulator>(root, sim::SimBoard{b->layout, b->levels},
                                               sim::layer_truths(dataset, *b, tags), so);
  } else {
    sp = std::make_unique<sim::TableSimulator>(root, sim::load_tx2_tables(grid_dir(a)), so);
  }
  sim::TableSimulator& s = *sp;
  if (!a.no_daemon) ro.socket = a.socket;
  ro.limit = a.limit;
  if (a.connections != "stream" && a.connections != "one") {
    std::cerr << fmt::format("flame sim run: --connections is 'stream' or 'one', not '{}'\n", a.connections);
    throw flame::cli::Exit{2};
  }
  ro.per_stream = a.connections == "stream";
  ro.realtime = a.realtime;
  const auto r = sim::replay(w, s, ro);
  if (!a.records.empty()) {
    std::string lines;
    for (const auto& rec : r.records) lines += sim::to_json(rec).dump() + "\n";
    flame::io::write_file_atomically(a.records, lines);
  }
  const auto& m = r.summary;
  if (a.json) {
    nlohmann::json j = {
        {"board", a.board},
        {"workload", w.name},
        {"workload_file", a.workload},
        {"seed", so.seed},
        {"daemon", ro.socket ? nlohmann::json(*ro.socket) : nlohmann::json(nullptr)},
        {"noise_scale", so.noise_scale},
        {"delays_ms", {so.cpu_delay_ms, so.gpu_delay_ms, so.emc_delay_ms}},
        {"power_cap_w", so.power_cap_w ? nlohmann::json(*so.power_cap_w) : nlohmann::json(nullptr)},
        {"ambient_c", so.thermal.ambient_c},
        {"throttle_c", so.throttle ? nlohmann::json(so.throttle->trip_c) : nlohmann::json(nullptr)},
        {"max_temperature_c", s.max_temperature_c()},
        {"throttle_engagements", s.throttle_engagements()},
        {"summary", sim::to_json(m)},
        {"replay", sim::to_json(r)},
        {"wall_s", r.wall_s}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("flame sim run: board {}, workload {} ({} requests), seed {}, {}\n", a.board,
                           w.name, m.requests, so.seed, ro.socket ? "flamed at " + *ro.socket : "no daemon");
  std::cout << fmt::format("  deadlines met         {} / {} ({:.2f} %)\n", m.met, m.requests, m.met_pct);
  std::cout << fmt::format("  energy                {:.3f} J ({:.4f} J per inference, mean power {:.3f} W)\n",
                           m.energy_j, m.energy_per_inference_j, m.mean_power_w);
  std::cout << fmt::format("  latency               mean {:.1f} ms, p50 {:.1f} ms, p99 {:.1f} ms\n",
                           m.mean_latency_ms, m.p50_latency_ms, m.p99_latency_ms);
  std::cout << fmt::format("  response / deadline   p99 {:.3f}, max {:.3f}\n", m.p99_response_over_deadline,
                           m.max_response_over_deadline);
  std::cout << fmt::format("  clock changes         {} (throttled {}, infeasible {})\n", m.clock_changes,
                           m.throttled, m.infeasible);
  std::cout << fmt::format("  temperature           max {:.1f} °C (ambient {:g} °C{})\n",
                           s.max_temperature_c(), so.thermal.ambient_c,
                           so.throttle ? fmt::format(", trip {:g} °C, throttle engaged {} times",
                                                     so.throttle->trip_c, s.throttle_engagements())
                                       : "");
  if (ro.socket)
    std::cout << fmt::format(
        "  flamed                {} connections, {} begins ({} overlapping, {} arbitrated)\n", r.connections,
        r.begins, r.overlapping, r.arbitrated);
  std::cout << fmt::format("  simulated time        {:.2f} s, replayed in {:.2f} s\n", m.virtual_s, r.wall_s);
}

template <class F>
void run(F f, const SimArgs& a) {
  f(a);
}

flame::cli::Registrar reg([](CLI::App& root) {
  auto args = std::make_shared<SimArgs>();
  auto* simc = flame::cli::group(root, "sim", "Simulated Jetson board: fake sysfs tree, workloads, replay");
  simc->require_subcommand(1);

  auto* tree_cmd =
      simc->add_subcommand("tree", "Write a fake Jetson sysfs tree (a simulated board) to a directory");
  tree_cmd->add_option("--profile", args->profile, sim::profile_names())->capture_default_str();
  tree_cmd->add_option("--out", args->out, "Directory to create (must be new or empty; required)");
  tree_cmd->add_flag("--list", args->list, "Print every profile's name, one a line, and write nothing");
  tree_cmd->add_option(
      "--board", args->board,
      "Instead of --profile: the tree of a live layer-level board (" + sim::layer_board_names() + ")");
  tree_cmd->add_flag("--denver-online", args->denver_online,
                     "TX2: keep the Denver cores (cpu1, cpu2) online");
  tree_cmd->callback([args] { run(tree, *args); });

  auto* wl_cmd = simc->add_subcommand("workload", "Generate a replayable workload file from a seed");
  wl_cmd->add_option("--preset", args->preset, fmt::format("{}", fmt::join(sim::preset_names(), " | ")));
  wl_cmd->add_option("--seed", args->seed, "Seed (default 1)");
  wl_cmd->add_option("--frames", args->frames, "camera, mix: camera frames (default 900; mix 1800)");
  wl_cmd->add_option("--bursts", args->bursts, "bursty, mix: number of bursts (default 25; mix 17)");
  wl_cmd
      ->add_option("--model", args->models,
                   "Model(s) the requests run (a grid name, e.g. resnet50-b1 from 'flame sim layer'; mix: "
                   "app A's, then app B's; slm: the SLM's base name, requests then carry ctx and phase)")
      ->delimiter(',');
  wl_cmd->add_option("--infer-every", args->infer_every, "camera: infer on every N-th frame (default 6)")
      ->check(CLI::PositiveNumber);
  wl_cmd->add_option("--turns", args->turns, "slm: user turns (default 4)")->check(CLI::PositiveNumber);
  wl_cmd->add_option("--fps", args->fps, "camera: frames per second (default 30)")
      ->check(CLI::PositiveNumber);
  wl_cmd->add_option("--name", args->name, "Workload name (default: the preset's generator)");
  wl_cmd->add_option("--out", args->out, "Output file (default: stdout)");
  wl_cmd->add_option("--check", args->check_file,
                     "Check that FILE regenerates byte for byte from its parameters");
  wl_cmd->callback([args] { run(workload, *args); });

  auto* grid_cmd = simc->add_subcommand("grid", "Print the simulated board's measured grids and their noise");
  grid_cmd->add_option("--board", args->board, "tx2")->capture_default_str();
  grid_cmd->add_option("--data", args->data, "Directory of the grid CSVs (default: the installed data)");
  grid_cmd->add_flag("--json", args->json, "Print JSON");
  grid_cmd->callback([args] { run(grid, *args); });

  auto* run_cmd =
      simc->add_subcommand("run", "Replay a workload on the simulated board against a running flamed");
  run_cmd->add_option("--board", args->board, "tx2 (the table-driven TX2) | " + sim::layer_board_names())
      ->capture_default_str();
  run_cmd->add_option("--tree", args->tree, "The simulated board's sysfs tree (flamed's sysfs_root)")
      ->required();
  run_cmd->add_option("--workload", args->workload, "Workload file (config/workloads/*.yaml)")->required();
  run_cmd->add_option("--seed", args->seed, "Simulator seed (noise), default 1");
  run_cmd->add_option("--socket", args->socket, "flamed's socket");
  run_cmd->add_flag("--no-daemon", args->no_daemon, "Replay without flamed, at the clocks the tree holds");
  run_cmd->add_option("--limit", args->limit, "Replay only the first N requests");
  run_cmd->add_option("--noise", args->noise, "Scale of the grid-derived noise (0 = none)")
      ->capture_default_str();
  run_cmd->add_option("--delays", args->delays, "Actuation delays CPU,GPU,EMC in ms")
      ->delimiter(',')
      ->capture_default_str();
  run_cmd->add_option("--power-cap-w", args->power_cap_w,
                      "Board power cap (W): throttles GPU, then CPU, then EMC");
  run_cmd->add_option("--ambient-c", args->ambient_c, "Ambient temperature of the thermal model (°C)")
      ->capture_default_str()
      ->check(CLI::Range(-40.0, 125.0));
  run_cmd
      ->add_option("--throttle-c", args->throttle_c,
                   "Thermal throttling: cap CPU and GPU clocks at this die temperature (°C; 5 °C hysteresis)")
      ->check(CLI::Range(-40.0, 150.0));
  run_cmd->add_option(
      "--data", args->data,
      "tx2: directory of the grid CSVs; layer boards: a coupling dataset (default: the shipped H200 "
      "run 2)");
  run_cmd
      ->add_option("--config", args->configs,
                   "Layer boards: configuration tags to run (default: the workload's model names)")
      ->delimiter(',');
  run_cmd->add_flag("--json", args->json, "Print the summary as JSON");
  run_cmd->add_option("--records", args->records, "Write one JSON line per request to this file");
  run_cmd
      ->add_option("--connections", args->connections,
                   "stream: one connection to flamed per stream (app); one: a single connection")
      ->capture_default_str();
  run_cmd->add_flag(
      "--realtime", args->realtime,
      "Pace the messages to flamed in wall-clock time (flamed's clock then matches the simulation)");
  run_cmd->callback([args] { run(run_sim, *args); });
});

}  // namespace
