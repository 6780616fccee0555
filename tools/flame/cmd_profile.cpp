// flame profile --model-name NAME --budget N [--ctx 128,16384] [--prefill-ctx 32,256,2048] [--out PATH]
// [--resume] -- CMD ARGS...: profile a model on this board at the layer-wise sampling plan's clock
// combinations and write a model file flamed loads (docs/profiling.md). With context lengths (an
// SLM) the plan spans clocks, phases and contexts, and one model file covers them all. With --e2e [--warmup
// N] the command prints per-inference latencies instead of writing a trace, and the model is a grid model
// (the kind `flame fit` makes). The loop, journal and fits live in lib/flame/profile.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/config.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/description_match.hpp"
#include "flame/board/discovery.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/slm_plan.hpp"
#include "flame/profile/board_clock_control.hpp"
#include "flame/profile/child_process.hpp"
#include "flame/profile/e2e_fit.hpp"
#include "flame/profile/profile_fit.hpp"
#include "flame/profile/profile_grid.hpp"
#include "flame/profile/profile_plan.hpp"
#include "flame/profile/profile_progress.hpp"

namespace {

namespace fb = flame::board;
namespace fp = flame::profile;
namespace fs = std::filesystem;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitLockHeld = 3;
constexpr int kExitInterrupted = 130;

struct Args {
  std::string model_name;
  std::size_t budget = 12;  // 16 for an SLM unless given
  CLI::Option* budget_option = nullptr;
  std::uint64_t seed = 1;
  std::string board = "auto";
  std::string contexts_text, prefill_text;
  std::map<flame::model::ContextPhase, std::vector<int>> contexts;  // parsed: decode and prefill lengths
  std::string out;
  bool resume = false;
  bool plan_only = false;
  bool json = false;
  bool e2e = false;
  std::size_t warmup = 3;
  CLI::Option* warmup_option = nullptr;  // to tell --warmup given from its default
  std::string work_dir;
  std::string config = flamed::kDefaultConfigPath;
  std::string sysfs_root, runtime_dir, models_dir;
  double settle_timeout_s = 5;
  std::string prior;  // a directory of fully profiled layer-wise models: derive from one combination
  std::vector<std::string> command;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

[[noreturn]] void fail(int code, const std::string& msg) {
  std::cerr << "flame profile: " << msg << "\n";
  throw flame::cli::Exit{code};
}

std::vector<int> parse_contexts(const std::string& option, const std::string& text) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const auto comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int v = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size())
      fail(kExitUsage,
           fmt::format("{} '{}': give context lengths as integers separated by commas", option, text));
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void check_args(const Args& a) {
  // A portable file name: the model file is named after it.
  const bool name_ok =
      !a.model_name.empty() && a.model_name.size() <= 100 &&
      std::isalnum(static_cast<unsigned char>(a.model_name[0])) &&
      std::all_of(a.model_name.begin(), a.model_name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!name_ok)
    fail(kExitUsage,
         fmt::format("--model-name '{}': use 1-100 letters, digits, '.', '_' or '-', starting with a "
                     "letter or digit (it names the model file and what clients ask flamed for)",
                     a.model_name));
  for (const auto& [phase, list] : a.contexts) {
    const char* option = phase == flame::model::ContextPhase::Decode ? "--ctx" : "--prefill-ctx";
    std::vector<int> seen;
    for (int c : list) {
      if (c <= 0) fail(kExitUsage, fmt::format("{}: context lengths must be positive (got {})", option, c));
      if (std::find(seen.begin(), seen.end(), c) != seen.end())
        fail(kExitUsage, fmt::format("{}: {} is given twice", option, c));
      seen.push_back(c);
    }
    if (static_cast<int>(list.size()) < flame::model::basis_size(phase))
      fail(kExitUsage,
           fmt::format("{}: the {} model {{{}}} needs at least {} context lengths, {} given", option,
                       flame::model::phase_name(phase), fmt::join(flame::model::basis_names(phase), ", "),
                       flame::model::basis_size(phase), list.size()));
  }
  if (a.e2e && !a.contexts.empty())
    fail(kExitUsage,
         "--ctx and --prefill-ctx need the layer-wise path (one trace per run); with --e2e profile each "
         "context "
         "length as a model of its own (--model-name NAME-ctxN, the command running that length)");
  if (!a.prior.empty() && (a.e2e || !a.contexts.empty()))
    fail(kExitUsage,
         "--prior derives a layer-wise model of a DNN; it does not combine with --e2e, --ctx or "
         "--prefill-ctx");
  if (!a.prior.empty() && a.budget != 1)
    fail(kExitUsage, fmt::format("--prior: a derived model is profiled at one combination (--budget 1), "
                                 "not {}",
                                 a.budget));
  if (!a.e2e && a.warmup_option && a.warmup_option->count() > 0)
    fail(kExitUsage,
         "--warmup is for --e2e (latency lines); on the layer-wise path the trace helper has its own "
         "--warmup");
  if (a.command.empty() && !a.plan_only)
    fail(kExitUsage,
         a.e2e ? "no command: give the command that runs the model and prints one latency (ms) per inference "
                 "after '--', e.g. flame profile --e2e --model-name resnet50-trt -- flame-trtexec "
                 "--loadEngine=resnet50.engine"
               : "no command: give the command that runs the model after '--', e.g. "
                 "flame profile --model-name resnet18 -- python3 -m flame_profile --torchvision resnet18");
}

// --board FILE, or for auto: flamed's board_file, else the shipped description that fits the board
// (flame::board::match_description), saying which and why.
std::optional<fb::BoardDescription> description_for(const Args& a, const flamed::Config& s,
                                                    const fb::Board& board) {
  if (a.board != "auto") return fb::load_board_description(flame::io::find_data(a.board).string());
  // A broken shipped file must not stop profiling; it is named and left out.
  std::vector<std::string> problems;
  auto match = fb::choose_description(board, s.board_file, flame::io::find_data("config/boards"), &problems);
  for (const auto& p : problems) std::cerr << "note: board description skipped: " << p << "\n";
  std::cerr << "note: board description: " << match.reason << "\n";
  return std::move(match.description);
}

// flamed loads these files: it never sees half a file, nor after a crash.
// The power half of a fit's summary, the same for both kinds of model.
// The leave-one-out error, or why there is none (a derived model, or too few combinations).
std::string held_back_text(const flame::fit::ErrorStats& e, const char* label) {
  if (e.n == 0) return "no combination could be held back";
  return fmt::format("error on held-back combinations{} mean {:.2f} %, max {:.2f} %", label, e.mean_ape_pct,
                     e.max_ape_pct);
}

void print_power_fit(const std::string& name, bool has_power, const flame::fit::ErrorStats& cross_validated,
                     const flame::fit::ErrorStats& in_sample) {
  if (has_power)
    std::cout << fmt::format("{}: power model from the rail samples; {}; in-sample mean {:.2f} %\n", name,
                             held_back_text(cross_validated, ""), in_sample.mean_ape_pct);
  else
    std::cout << fmt::format(
        "{}: no power model (not every combination has a rail power sample); the search ranks energy with "
        "its clock proxy\n",
        name);
}

void write_model_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  try {
    flame::io::write_file_atomically(path, text);
  } catch (const flame::io::AtomicWriteError& e) {
    fail(kExitFailed, e.what());
  }
}

// --e2e: the grid model of the latency lines (lib/flame/profile/e2e_fit.hpp), written where flamed
// loads models, reported like the layer-wise models.
template <typename Stats>
void write_end_to_end_model(const Args& a, const flamed::Config& s, const fp::JournalContents& c,
                            const std::string& board_name, nlohmann::json& report, const Stats& stats) {
  fp::EndToEndFit fit;
  std::string text;
  try {
    fit = fp::fit_end_to_end(c.header, c.steps);
    text = fp::end_to_end_model_file_text(fit, c.header, board_name);
  } catch (const std::runtime_error& e) {
    fail(kExitFailed, fmt::format("{}; no model written", e.what()));
  }
  const fs::path out = a.out.empty() ? fs::path(s.models_dir) / (fit.name + ".yaml") : fs::path(a.out);
  write_model_file(out, text);
  const bool power = fit.model.series.front().power.has_value();
  if (a.json) {
    nlohmann::json m{{"name", fit.name},
                     {"kind", "grid"},
                     {"file", out.string()},
                     {"warmup", c.header.warmup},
                     {"cross_validated", stats(fit.cross_validated)},
                     {"in_sample", stats(fit.in_sample)},
                     {"excluded", fit.excluded},
                     {"excluded_inferences", fit.excluded_inferences},
                     {"power", nullptr}};
    if (power)
      m["power"] = {{"cross_validated", stats(fit.power_cross_validated)},
                    {"in_sample", stats(fit.power_in_sample)}};
    report["models"].push_back(m);
    std::cout << report.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format(
      "{}: grid model from the latency lines (median per combination, {} warm-up lines dropped); error on "
      "held-back combinations (leave-one-out) mean {:.2f} %, max {:.2f} %; in-sample mean {:.2f} %; wrote "
      "{}\n",
      fit.name, c.header.warmup, fit.cross_validated.mean_ape_pct, fit.cross_validated.max_ape_pct,
      fit.in_sample.mean_ape_pct, out.string());
  for (const auto& e : fit.excluded) std::cout << fmt::format("{}: left out as a glitch: {}\n", fit.name, e);
  if (fit.excluded_inferences > 0)
    std::cout << fmt::format("{}: {} latencies far from their combination's median left out\n", fit.name,
                             fit.excluded_inferences);
  print_power_fit(fit.name, power, fit.power_cross_validated, fit.power_in_sample);
  if (a.out.empty()) std::cout << "flamed loads it at its next start or reload (systemctl reload flamed)\n";
}

// One fitted model, reported as text or into the JSON report.
template <typename Stats>
void report_fit(const Args& a, nlohmann::json& report, const Stats& stats, const std::string& name,
                const char* kind, const fs::path& out, const fp::FitQuality& q, bool power,
                const std::string& shape, const nlohmann::json& details) {
  if (a.json) {
    nlohmann::json m{{"name", name},
                     {"kind", kind},
                     {"file", out.string()},
                     {"cross_validated", stats(q.cross_validated)},
                     {"in_sample", stats(q.in_sample)},
                     {"power", nullptr}};
    if (power)
      m["power"] = {{"cross_validated", stats(q.power_cross_validated)},
                    {"in_sample", stats(q.power_in_sample)}};
    m.update(details);
    report["models"].push_back(m);
    return;
  }
  std::cout << fmt::format("{}: {}; {}; in-sample mean {:.2f} %; wrote {}\n", name, shape,
                           held_back_text(q.cross_validated, " (leave-one-out)"), q.in_sample.mean_ape_pct,
                           out.string());
  print_power_fit(name, power, q.power_cross_validated, q.power_in_sample);
}

void profile(Args& a) {
  if (!a.contexts_text.empty())
    a.contexts[flame::model::ContextPhase::Decode] = parse_contexts("--ctx", a.contexts_text);
  if (!a.prefill_text.empty())
    a.contexts[flame::model::ContextPhase::Prefill] = parse_contexts("--prefill-ctx", a.prefill_text);
  const bool slm = !a.contexts.empty();
  if (slm && a.budget_option && a.budget_option->count() == 0) a.budget = 16;
  if (!a.prior.empty() && a.budget_option && a.budget_option->count() == 0) a.budget = 1;
  check_args(a);
  // flamed's own paths, so that both drive the same board through the same controller lock and the
  // model lands where flamed loads it; flamed checks the rest of its file itself.
  flamed::Config s =
      flamed::load_config_keys(a.config, {"sysfs_root", "runtime_dir", "models_dir", "board_file"});
  if (!a.sysfs_root.empty()) s.sysfs_root = a.sysfs_root;
  if (!a.runtime_dir.empty()) s.runtime_dir = a.runtime_dir;
  if (!a.models_dir.empty()) s.models_dir = a.models_dir;

  // Everything that can be refused is checked before the lock is taken or a clock is touched.
  fb::Board seen = fb::discover(s.sysfs_root.string());
  const auto desc = description_for(a, s, seen);
  if (desc && seen.emc.available_hz.empty()) seen.emc.available_hz = desc->emc.frequencies_hz;
  const auto grid = fp::profile_grid(seen, desc);
  for (const auto& n : grid.notes) std::cerr << "note: " << n << "\n";
  fp::ProfilePlan plan;
  std::vector<fp::PlanWorkload> plan_workloads;  // SLMs: each step's phase and context length
  std::size_t contexts = 0;                      // SLMs: over both phases
  try {
    if (slm) {
      for (const auto& p : flame::model::plan_slm(grid.grid, a.contexts, a.budget, a.seed)) {
        plan.steps.push_back(p.clocks);
        plan_workloads.push_back({std::string(flame::model::phase_name(p.phase)), p.ctx});
      }
      plan.exhaustive_steps = grid.grid.cpu_khz.size() * grid.grid.gpu_hz.size() * grid.grid.emc_hz.size();
      for (const auto& [phase, list] : a.contexts) contexts += list.size();
    } else {
      plan = fp::make_profile_plan(grid.grid, a.budget, a.seed,
                                   a.e2e             ? fp::PlanKind::Grid
                                   : a.prior.empty() ? fp::PlanKind::Layerwise
                                                     : fp::PlanKind::Derived);
    }
  } catch (const std::invalid_argument& e) {
    fail(kExitUsage, e.what());
  }
  const char* unit = a.e2e ? "runs" : "traces";
  std::cerr << fmt::format(
      "board {}: {} CPU x {} GPU x {} EMC clocks = {} combinations; profiling {} of them{} ({} {}), "
      "exhaustive "
      "profiling would take {} {}\n",
      desc ? desc->name : (seen.identity.model.empty() ? "unknown" : seen.identity.model),
      grid.grid.cpu_khz.size(), grid.grid.gpu_hz.size(), grid.grid.emc_hz.size(), plan.exhaustive_steps,
      plan.steps.size(),
      slm ? fmt::format(" over {} context lengths of {} phase(s)", contexts, a.contexts.size()) : "",
      plan.steps.size(), unit, plan.exhaustive_steps * std::max<std::size_t>(1, contexts), unit);
  // The prior is read before anything is profiled: one that cannot teach stops the run here.
  std::optional<flame::features::PriorDir> prior;
  if (!a.prior.empty()) {
    try {
      prior = flame::features::load_prior_dir(a.prior, desc ? desc->name : "", grid.grid.max(),
                                              grid.grid.emc_hz, a.model_name);
    } catch (const std::exception& e) {
      fail(kExitUsage, fmt::format("--prior: {}", e.what()));
    }
    for (const auto& n : prior->skipped) std::cerr << "note: prior: skipped " << n << "\n";
    if (!prior->prior)
      fail(kExitUsage,
           fmt::format("--prior {}: no layer-wise model there can teach a prior (a fully profiled "
                       "model of this board, profiled by this version of flame profile)",
                       a.prior));
    std::cerr << fmt::format("prior: {} models ({} segments): {}\n", prior->models.size(),
                             prior->prior->samples(), fmt::join(prior->models, ", "));
  }
  if (a.plan_only) {
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
      std::cout << fmt::format(
          "{:3} {}{}\n", i, flame::to_string(plan.steps[i]),
          slm ? fmt::format(" {} ctx {}", plan_workloads[i].phase, plan_workloads[i].ctx) : "");
    return;
  }

  // The controller lock first: while flamed (or another run) controls the clocks, nothing is written,
  // not even a journal.
  fb::ControllerOptions opts;
  opts.sysfs_root = s.sysfs_root.string();
  opts.runtime_dir = s.runtime_dir.string();
  opts.owner = "flame profile";
  if (desc) opts.emc_rates = desc->emc.frequencies_hz;
  std::optional<fb::Controller> controller;
  try {
    controller.emplace(opts);
  } catch (const fb::LockHeld& e) {
    fail(kExitLockHeld,
         fmt::format("{}. If it is flamed, stop it for the profiling run (systemctl stop flamed) "
                     "and start it again afterwards",
                     e.what()));
  }

  fp::JournalHeader header;
  header.mode = a.e2e ? fp::ProfileMode::EndToEnd : fp::ProfileMode::Layerwise;
  header.warmup = a.e2e ? a.warmup : 0;
  header.model = a.model_name;
  header.command = a.command;
  header.workloads = plan_workloads;
  header.budget = a.budget;
  header.seed = a.seed;
  header.grid = grid.grid;
  header.plan = plan.steps;
  const fs::path work = a.work_dir.empty() ? fs::path("flame-profile-" + a.model_name) : fs::path(a.work_dir);
  const fs::path journal_path = work / "journal.jsonl";
  std::optional<fp::Journal> journal;
  try {
    journal =
        a.resume ? fp::Journal::resume(journal_path, header) : fp::Journal::create(journal_path, header);
  } catch (const std::exception& e) {
    fail(kExitUsage, e.what());
  }
  for (const auto& n : journal->contents().notes) std::cerr << "note: " << n << "\n";
  if (a.resume)
    std::cerr << fmt::format("resuming: {} of {} combinations already in {}\n",
                             journal->contents().steps.size(), plan.steps.size(), journal_path.string());

  const std::size_t todo = plan.steps.size() - journal->contents().steps.size();
  if (todo > 0) {
    if (controller->has_baseline()) {
      // Left by a run that was killed: its original values are the real baseline, put them back first.
      std::cerr << "note: restoring the clock baseline an earlier run left in " << controller->baseline_file()
                << "\n";
      const auto r = controller->restore();
      if (!r.ok()) fail(kExitFailed, "restoring the earlier baseline was incomplete:\n" + fb::to_text(r));
    }
    fp::BoardClockControl clocks(*controller);
    fb::SysfsFileAccess io(controller->root());
    fp::RailPowerMeter power(controller->board(), io);
    fp::ChildProcessRunner command;
    fp::SteadyClock clock;
    fp::RunnerOptions ro;
    ro.trace_dir = work / "traces";
    ro.settle_timeout_s = a.settle_timeout_s;
    const bool tty = ::isatty(STDERR_FILENO);
    fp::ProfileRunner runner(
        header, plan.exhaustive_steps, ro, {clocks, &power, command, clock},
        [](const fs::path& p) { return flame::trace::summarize_trace_file(p); },
        [&](const fp::StepRecord& r) { journal->append(r); },
        [&](const fp::ProfileProgress& p) {
          std::cerr << (tty ? "\r" : "") << fp::progress_line(p, plan.exhaustive_steps) << (tty ? "" : "\n")
                    << std::flush;
        });
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    try {
      runner.run(journal->contents().steps, g_stop);
    } catch (const fp::ProfileInterrupted& e) {
      if (tty) std::cerr << "\n";
      fail(kExitInterrupted, std::string(e.what()) + "; the clocks are restored");
    } catch (const fp::ProfileError& e) {
      if (tty) std::cerr << "\n";
      fail(kExitFailed, std::string(e.what()) + "; the clocks are restored");
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (tty) std::cerr << "\n";
    std::cerr << "clocks restored\n";
  }

  // Fit every workload and write its model file.
  const auto& c = journal->contents();
  double total_s = 0;
  for (const auto& r : c.steps) total_s += r.settle_s + r.command_s;
  const double mean_s = c.steps.empty() ? 0 : total_s / static_cast<double>(c.steps.size());
  if (!a.json)
    std::cout << fmt::format(
        "profiled {} of {} combinations in {} of clock settling and command time; exhaustive profiling at "
        "the same pace: ~{}\n",
        c.steps.size(), plan.exhaustive_steps, fp::duration_text(total_s),
        fp::duration_text(mean_s * static_cast<double>(plan.exhaustive_steps)));
  auto stats = [](const flame::fit::ErrorStats& e) {
    return nlohmann::json{{"mean_ape_pct", e.mean_ape_pct}, {"max_ape_pct", e.max_ape_pct}, {"n", e.n}};
  };
  nlohmann::json report{{"mode", std::string(fp::to_string(c.header.mode))},
                        {"profiled", c.steps.size()},
                        {"combinations", plan.exhaustive_steps},
                        {"seconds", total_s},
                        {"exhaustive_seconds_estimate", mean_s * static_cast<double>(plan.exhaustive_steps)},
                        {"models", nlohmann::json::array()}};
  const std::string board_name = desc ? desc->name : "";
  if (a.e2e) {
    write_end_to_end_model(a, s, c, board_name, report, stats);
    return;
  }
  if (slm) {
    fp::SlmFit fit;
    std::string text;
    try {
      fit = fp::fit_slm_workloads(c.header, c.steps);
      text = fp::slm_model_file_text(fit, c.header, board_name);
    } catch (const std::runtime_error& e) {
      fail(kExitFailed, fmt::format("{}; no model written", e.what()));
    }
    const fs::path out = a.out.empty() ? fs::path(s.models_dir) / (fit.name + ".yaml") : fs::path(a.out);
    write_model_file(out, text);
    std::string shape;
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& p : fit.model.phases()) {
      shape += fmt::format("{}{} {} segments at contexts {} (served 1 to {})", shape.empty() ? "" : "; ",
                           flame::model::phase_name(p.phase), p.cpu.size(), fmt::join(p.contexts, ", "),
                           p.max_context());
      phases.push_back({{"phase", flame::model::phase_name(p.phase)},
                        {"segments", p.cpu.size()},
                        {"contexts", p.contexts},
                        {"max_context", p.max_context()}});
    }
    report_fit(a, report, stats, fit.name, "slm", out, fit.quality, fit.model.power().has_value(), shape,
               {{"phases", phases}});
  } else {
    fp::WorkloadFit fit;
    std::string text;
    try {
      fit = prior ? fp::derive_workload(c.header, c.steps, *prior, a.prior)
                  : fp::fit_workload(c.header, c.steps);
      text = fp::model_file_text(fit, c.header, board_name);
    } catch (const std::runtime_error& e) {
      fail(kExitFailed, fmt::format("{}; no model written", e.what()));
    }
    const fs::path out = a.out.empty() ? fs::path(s.models_dir) / (fit.name + ".yaml") : fs::path(a.out);
    write_model_file(out, text);
    nlohmann::json details{{"segments", fit.model.segments()}};
    if (const auto& d = fit.extras.derived) details["derived"] = {{"prior", d->prior}, {"models", d->models}};
    report_fit(a, report, stats, fit.name, "layerwise", out, fit.quality, fit.model.power().has_value(),
               fit.extras.derived ? fmt::format("{} segments, derived from a prior of {} models",
                                                fit.model.segments(), fit.extras.derived->models.size())
                                  : fmt::format("{} segments", fit.model.segments()),
               details);
  }
  if (a.json)
    std::cout << report.dump(2) << "\n";
  else if (a.out.empty())
    std::cout << "flamed loads it at its next start or reload (systemctl reload flamed)\n";
}

const flame::cli::Registrar reg([](CLI::App& root) {
  auto a = std::make_shared<Args>();
  auto* sub = root.add_subcommand(
      "profile",
      "Profile a model on this board at a few clock combinations and write a model file for flamed");
  sub->add_option("--model-name", a->model_name, "Name flamed serves the model under")->required();
  a->budget_option = sub->add_option("--budget", a->budget,
                                     "Clock combinations to profile (12; 16 for an SLM, over all contexts)");
  sub->add_option("--seed", a->seed, "Seed of the sampling plan")->capture_default_str();
  sub->add_option("--board", a->board,
                  "'auto' (discover; tables sysfs lacks from a matching description) or a "
                  "board description file")
      ->capture_default_str();
  // A plain string, split here: a vector option would swallow the "--" that ends flame's options.
  sub->add_option("--ctx", a->contexts_text,
                  "SLMs: decode context lengths, comma-separated (at least 2); one model file covers every "
                  "context and both phases");
  sub->add_option("--prefill-ctx", a->prefill_text,
                  "SLMs: prefill prompt lengths, comma-separated (at least 3)");
  sub->add_option("--out", a->out, "Model file to write; default: flamed's models_dir/NAME.yaml");
  sub->add_option("--prior", a->prior,
                  "Derive the model from one profiled combination and the layer-wise models in this "
                  "directory (profiled in full on this board); implies --budget 1");
  sub->add_flag("--resume", a->resume, "Continue the run recorded in the work directory's journal");
  sub->add_option("--work-dir", a->work_dir, "Journal and traces (default: ./flame-profile-NAME)");
  sub->add_option("--config", a->config,
                  "flamed's configuration (sysfs_root, runtime_dir, models_dir, board_file)")
      ->capture_default_str();
  sub->add_option("--sysfs-root", a->sysfs_root, "Directory standing in for / (fake trees in tests)");
  sub->add_option("--runtime-dir", a->runtime_dir, "Where the controller lock and the baseline live");
  sub->add_option("--models-dir", a->models_dir, "Where to write the model (overrides the configuration)");
  sub->add_option("--settle-timeout", a->settle_timeout_s, "Seconds to wait for the clocks to read back")
      ->capture_default_str();
  sub->add_flag("--plan", a->plan_only, "Print the combinations that would be profiled and exit");
  sub->add_flag("--json", a->json, "Print the final report (models written, their errors) as JSON");
  sub->add_flag("--e2e", a->e2e,
                "End to end, for any runtime: the command prints one latency (ms) per inference and line; "
                "fits a grid model");
  a->warmup_option =
      sub->add_option("--warmup", a->warmup, "With --e2e: latency lines to drop at every combination")
          ->capture_default_str();
  sub->add_option("command", a->command,
                  "The command that runs the model and writes a trace, or with --e2e prints its latencies "
                  "(after --)");
  sub->callback([a] {
    try {
      profile(*a);
    } catch (const fb::DescriptionError& e) {
      fail(kExitFailed, e.what());
    }
  });
});

}  // namespace
