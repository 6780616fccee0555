// flame eval: the governor comparison on the simulated board (docs/evaluation.md). Thin glue: parse
// the options, load the workload and the board's grids, run lib/flame/eval, print or write.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "flame/eval/camera_workload.hpp"
#include "flame/eval/eval_board.hpp"
#include "flame/eval/eval_report.hpp"
#include "flame/eval/eval_suite.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/policy/model_set.hpp"
#include "flame/sim/layer_boards.hpp"
#include "flame/sim/table_sim.hpp"
#include "flame/sim/workload.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = flame::sim;
namespace ev = flame::eval;

struct EvalArgs {
  std::string board = "tx2";
  std::string workload;
  std::uint64_t seed = 1;
  bool json = false;
  std::string out;
  std::string data;
  std::string config;  // layer boards: the configuration (tag) of the coupling dataset
  std::string slm;     // layer boards: an SLM's base name (its chat, requests with ctx and phase)
  std::string camera = "tight";
  int frames = 300;
  double noise = 1.0;
  std::vector<double> delays = {1, 5, 8};
  std::optional<double> power_cap_w;
  double ambient_c = 25;
  std::optional<double> throttle_c;
  std::size_t limit = 0;
  std::vector<std::string> governors;
  double margin_pct = 5;
  std::size_t budget = 64;
  int repeats = 3;
  int ztt_episodes = 60;
  int ztt_min_episodes = 10;
  std::string records;
  std::string search = "greedy";
  std::string models;
  std::string argv;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "flame eval: " << msg << "\n";
  throw flame::cli::Exit{2};
}

sim::Workload load(const std::string& w) {
  if (fs::exists(w)) return sim::load_workload(w);
  // A preset name: the shipped file (config/workloads/NAME.yaml) if it is found, else generated.
  const auto names = sim::preset_names();
  if (std::find(names.begin(), names.end(), w) != names.end()) {
    const fs::path shipped = flame::io::find_data("config/workloads/" + w + ".yaml");
    if (fs::exists(shipped)) return sim::load_workload(shipped);
    return sim::generate_preset(w, 1);
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  usage_error(fmt::format("no workload file '{}' and no preset of that name (presets: {})", w, known));
}

// The board, and the workload: a file or preset, or on a layer board the camera class's stream of
// the configuration (docs/workloads.md), or an SLM's chat (`--slm`, default slm-chat-live).
std::pair<ev::EvalBoard, sim::Workload> board_and_workload(const EvalArgs& a) {
  if (a.board == "tx2") {
    if (a.workload.empty()) usage_error("--workload is required on the tx2 board");
    if (!a.config.empty() || !a.slm.empty()) usage_error("--config and --slm are for the layer boards");
    sim::Workload w = load(a.workload);
    if (w.has_context())
      usage_error("the workload's SLM requests (ctx, phase) run on the live layer boards (--board layer-*)");
    return {ev::tx2_eval_board(sim::load_tx2_tables(a.data.empty() ? sim::tx2_grid_dir() : a.data)),
            std::move(w)};
  }
  const auto spec = sim::layer_board(a.board);
  if (!spec)
    usage_error(fmt::format("unknown board '{}' (known: tx2 | {})", a.board, sim::layer_board_names()));
  if (a.config.empty() == a.slm.empty())
    usage_error(
        "--config TAG is required on a layer board (a configuration of --data), or --slm MODEL for an SLM "
        "chat; not both");
  const auto data = flame::model::load_coupling_dataset(a.data.empty() ? sim::default_layer_data() : a.data);
  if (!a.slm.empty()) {
    sim::Workload w;
    if (!a.workload.empty()) {
      w = load(a.workload);
    } else {
      sim::SlmSpec s = sim::slm_chat_live();
      s.seed = a.seed;
      s.model = a.slm;
      w = sim::generate_slm(s, "slm-chat-live");
    }
    if (!w.has_context()) usage_error("--slm: the workload has no SLM requests (ctx and phase)");
    for (const auto& m : w.models())
      if (m != a.slm) usage_error(fmt::format("--slm {}: the workload also runs '{}'", a.slm, m));
    // Each request runs the dataset's configuration of its context (docs/simulator.md).
    sim::RequestTruths truths(data);
    const auto tags = truths.truth_names(w, a.limit);
    ev::EvalBoard b = ev::layer_eval_board(*spec, data, tags, std::move(truths));
    w.board = b.name;
    return {std::move(b), std::move(w)};
  }
  ev::EvalBoard b = ev::layer_eval_board(*spec, data, {a.config});
  sim::Workload w;
  if (!a.workload.empty()) {
    w = load(a.workload);
    if (w.has_context())
      usage_error("the workload has SLM requests (ctx, phase): give --slm MODEL, not --config");
  } else {
    const auto& l = b.board.levels;
    const sim::SimClocks top{b.cores, l.cpu_khz.back(), l.gpu_hz.back(), l.emc_hz.back()};
    w = ev::camera_workload(b.truth(a.config), top, a.noise, ev::camera_class(a.camera), a.seed, a.frames);
  }
  w.board = b.name;
  return {std::move(b), std::move(w)};
}

void run(const EvalArgs& a) {
  if (a.delays.size() != 3) usage_error("--delays takes three values (CPU,GPU,EMC ms)");
  if (a.noise < 0) usage_error("--noise must be >= 0");
  if (a.ztt_episodes < 1) usage_error("--ztt-episodes must be >= 1");
  if (a.repeats < 1) usage_error("--repeats must be >= 1");
  if (a.margin_pct < 0 || a.margin_pct > 100) usage_error("--margin must be in [0, 100] (%)");
  if (a.frames < 1) usage_error("--frames must be >= 1");
  const auto [board, w] = board_and_workload(a);
  ev::SuiteOptions o;
  o.profile.cores = board.cores;
  o.run.sim.seed = a.seed;
  o.run.sim.noise_scale = a.noise;
  o.run.sim.cpu_delay_ms = a.delays[0];
  o.run.sim.gpu_delay_ms = a.delays[1];
  o.run.sim.emc_delay_ms = a.delays[2];
  o.run.sim.power_cap_w = a.power_cap_w;
  o.run.sim.thermal.ambient_c = a.ambient_c;
  if (a.throttle_c) {
    if (*a.throttle_c <= a.ambient_c) usage_error("--throttle-c must be above --ambient-c");
    o.run.sim.throttle = sim::ThrottleOptions{};
    o.run.sim.throttle->trip_c = *a.throttle_c;
  }
  o.run.limit = a.limit;
  o.profile.budget = a.budget;
  o.profile.repeats = a.repeats;
  o.profile.seed = a.seed;
  o.flame.policy.safety_margin_pct = a.margin_pct;
  if (a.search != "greedy" && a.search != "exhaustive") usage_error("--search is greedy or exhaustive");
  o.flame.exhaustive = a.search == "exhaustive";
  o.train.max_episodes = a.ztt_episodes;
  o.train.min_episodes = std::min(a.ztt_min_episodes, a.ztt_episodes);
  o.train.window = std::max(2, std::min(o.train.window, a.ztt_episodes));
  o.train.seed = a.seed;
  o.ztt.dqn.seed = a.seed;
  if (!a.governors.empty())
    o.governors = a.governors;
  else if (!a.models.empty() && !w.has_context())
    // The baseline beside the files' models (none for SLM requests: it has no context).
    o.governors.insert(o.governors.begin() + 1, "flamed-grid");
  if (!a.models.empty()) {
    auto loaded = flame::policy::load_model_dir(a.models);
    // A file flamed would skip is an error here: the comparison must run on the files given.
    if (!loaded.errors.empty())
      usage_error(fmt::format("--models {}: {}", a.models, fmt::join(loaded.errors, "; ")));
    o.flame_models = std::move(loaded.models);
  }
  const ev::Evaluation e = ev::evaluate(w, board, o);
  if (!a.records.empty()) {
    std::string lines;
    for (const auto& r : e.runs)
      for (const auto& rec : r.records) {
        auto j = sim::to_json(rec);
        j["governor"] = r.governor;
        lines += j.dump() + "\n";
      }
    flame::io::write_file_atomically(a.records, lines);
  }
  if (a.json)
    std::cout << ev::to_json(e).dump(2) << "\n";
  else
    std::cout << ev::text_report(e);
  if (!a.out.empty()) {
    const auto path = ev::write_report(e, a.out, a.argv);
    (a.json ? std::cerr : std::cout) << fmt::format("report: {}\n", path.string());
  }
}

flame::cli::Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<EvalArgs>();
  auto* c = root.add_subcommand("eval",
                                "Compare governors (flamed, MAX, stock, zTT, oracle) on the simulated board");
  c->add_option("--board", a->board,
                "tx2 (the table-driven TX2), layer-tx2 or layer-orin (live layer boards)")
      ->capture_default_str();
  c->add_option("--workload", a->workload,
                "Workload file (config/workloads/*.yaml) or preset name (required on tx2; on a layer board "
                "the default is the camera stream of --config, or the slm-chat-live chat of --slm)");
  c->add_option("--config", a->config, "Layer boards: the configuration (tag) of the coupling dataset");
  c->add_option(
      "--slm", a->slm,
      "Layer boards: an SLM's chat (base name, e.g. qwen2-0.5b): requests carry ctx and phase, each "
      "runs the dataset's configuration of its context; --workload default slm-chat-live (seeded "
      "by --seed); flamed needs --models");
  c->add_option("--camera", a->camera, "Layer boards: the camera class, tight (1.5 x) or loose (2.5 x)")
      ->capture_default_str();
  c->add_option("--frames", a->frames, "Layer boards: frames of the camera stream")->capture_default_str();
  c->add_option("--seed", a->seed, "Simulator seed (noise); also seeds the profile plan and zTT")
      ->capture_default_str();
  c->add_flag("--json", a->json, "Print JSON");
  c->add_option("--out", a->out, "Write a Markdown report with SVG plots to this directory");
  c->add_option("--records", a->records, "Write one JSON line per request and governor to this file");
  c->add_option(
      "--data", a->data,
      "tx2: directory of the grid CSVs; layer boards: a coupling dataset (default: the installed data)");
  c->add_option("--noise", a->noise, "Scale of the grid-derived noise (0 = none)")->capture_default_str();
  c->add_option("--delays", a->delays, "Actuation delays CPU,GPU,EMC in ms")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--power-cap-w", a->power_cap_w, "Board power cap (W): throttles GPU, then CPU, then EMC");
  c->add_option("--ambient-c", a->ambient_c, "Ambient temperature of the thermal model (°C)")
      ->capture_default_str()
      ->check(CLI::Range(-40.0, 125.0));
  c->add_option("--throttle-c", a->throttle_c,
                "Thermal throttling: cap CPU and GPU clocks at this die temperature (°C; 5 °C hysteresis)")
      ->check(CLI::Range(-40.0, 150.0));
  c->add_option("--limit", a->limit, "Only the first N requests");
  c->add_option("--governors", a->governors,
                "Subset, comma-separated (flamed,max,stock,ztt,oracle-nc,oracle)")
      ->delimiter(',');
  c->add_option("--margin", a->margin_pct, "flamed's safety margin (%)")->capture_default_str();
  c->add_option("--search", a->search, "flamed's search: greedy (the daemon's) or exhaustive (diagnosis)")
      ->capture_default_str();
  c->add_option("--models", a->models,
                "flamed's models: a directory of model files (as flamed's models_dir); skips the in-process "
                "profile");
  c->add_option("--budget", a->budget, "flamed's profile: clock combinations")->capture_default_str();
  c->add_option("--repeats", a->repeats, "flamed's profile: runs per combination")->capture_default_str();
  c->add_option("--ztt-episodes", a->ztt_episodes, "zTT training: at most this many episodes")
      ->capture_default_str();
  c->add_option("--ztt-min-episodes", a->ztt_min_episodes, "zTT training: at least this many episodes")
      ->capture_default_str();
  c->callback([a, c] {
    a->argv = "flame eval";
    for (const auto* opt : c->get_options()) {
      if (opt->count() == 0 || opt->get_name() == "--help") continue;
      a->argv += " " + opt->get_name();
      if (opt->get_expected_min() == 0) continue;  // a flag
      for (const auto& r : opt->results()) a->argv += " " + r;
    }
    try {
      run(*a);
    } catch (const std::invalid_argument& e) {
      std::cerr << "flame eval: " << e.what() << "\n";
      throw flame::cli::Exit{2};
    }
  });
});

}  // namespace
