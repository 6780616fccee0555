// flame board: inspect a Jetson board and set/restore its clocks (everything that touches hardware
// goes through lib/flame/board).
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "clock_option.hpp"
#include "command.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/description.hpp"
#include "flame/board/discovery.hpp"
#include "flame/board/frequency_text.hpp"
#include "flame/board/placement.hpp"
#include "flame/board/selftest.hpp"
#include "flame/board/snapshot.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/version.hpp"
#include "usage_exit.hpp"

namespace {

namespace fb = flame::board;

constexpr int kExitFailed = 1;
constexpr int kExitLockHeld = 3;

struct BoardArgs {
  std::string sysfs_root = "/";
  std::string runtime_dir = fb::kDefaultRuntimeDir;
  bool json = false;
  // show
  // set
  std::optional<std::uint64_t> cpu_khz, gpu_hz, emc_hz;
  bool max = false;
  bool exact = false;
  bool dry_run = false;
  double hold_seconds = 0;
  // restore
  bool root_given = false;
  // dump / check
  std::string out;
  std::string name;
  std::string file;
  // selftest
  double settle_timeout_s = 2;
};

void show(const BoardArgs& a) {
  auto board = fb::discover(a.sysfs_root);
  if (a.json)
    std::cout << fb::to_json(board).dump(2) << "\n";
  else
    std::cout << fb::to_text(board);
}

const char* option_of(fb::DomainKind k) {
  switch (k) {
    case fb::DomainKind::Cpu:
      return "--cpu-khz";
    case fb::DomainKind::Gpu:
      return "--gpu-hz";
    case fb::DomainKind::Emc:
      break;
  }
  return "--emc-hz";
}

// Says what an off-table or out-of-range request becomes (the writer rounds it, clamp.hpp), before
// anything is written; with --exact such a request is a usage error and nothing is written.
void check_requests(const BoardArgs& a, const fb::ApplyReport& plan,
                    const std::function<std::optional<fb::FrequencyBounds>(const fb::DomainRef&)>& bounds) {
  using Kind = fb::Placement::Kind;
  bool refused = false;
  for (const auto& d : plan.domains) {
    const auto asked = d.domain.kind == fb::DomainKind::Cpu   ? a.cpu_khz
                       : d.domain.kind == fb::DomainKind::Gpu ? a.gpu_hz
                                                              : a.emc_hz;
    const auto b = bounds(d.domain);
    if (!asked || !b) continue;
    const auto p = fb::place_request(*asked, *b);
    if (p.kind == Kind::Exact || p.kind == Kind::NoneAllowed) continue;  // none: the report says why
    const auto unit = d.domain.kind == fb::DomainKind::Cpu ? fb::FrequencyUnit::kHz : fb::FrequencyUnit::Hz;
    auto text = [unit](std::uint64_t v) { return fb::frequency_text(v, unit); };
    const std::string what = fmt::format("{} {} ({})", option_of(d.domain.kind), *asked, text(*asked));
    std::string where;
    if (p.kind == Kind::Between)
      where = fmt::format("is not a clock of {}: the nearest are {} and {}", d.domain.id(), text(*p.below),
                          text(*p.above));
    else if (p.kind == Kind::BelowRange)
      where = fmt::format("is below the lowest clock {} allows, {}", d.domain.id(), text(*p.above));
    else
      where = fmt::format("is above the highest clock {} allows now, {}", d.domain.id(), text(*p.below));
    // A plain number that reads as MHz within the range was probably meant so.
    const std::uint64_t per_mhz = unit == fb::FrequencyUnit::kHz ? 1'000 : 1'000'000;
    if (p.kind == Kind::BelowRange && *asked <= b->ceiling / per_mhz &&
        fb::place_request(*asked * per_mhz, *b).kind != Kind::BelowRange)
      where += fmt::format(" (for {} write {}M)", text(*asked * per_mhz), *asked);
    if (a.exact) {
      std::cerr << fmt::format("flame board set: {} {}; --exact sets only allowed clocks\n", what, where);
      refused = true;
    } else {
      std::cerr << fmt::format("flame board set: warning: {} {}; using {}\n", what, where,
                               text(fb::clamp_frequency(*asked, *b).value_or(d.target)));
    }
  }
  if (refused) {
    std::cerr << "flame board set: nothing was changed\n";
    throw flame::cli::Exit{flame::cli::kExitUsage};
  }
}

void set(const BoardArgs& a) {
  fb::ClockRequest req;
  req.cpu_khz = a.cpu_khz;
  req.gpu_hz = a.gpu_hz;
  req.emc_hz = a.emc_hz;
  req.max = a.max;
  if (req.empty()) {
    std::cerr << "flame board set: nothing to set; give --cpu-khz, --gpu-hz, --emc-hz or --max\n";
    throw flame::cli::Exit{flame::cli::kExitUsage};
  }
  if (a.dry_run) {
    // No lock and no baseline: a dry run reads only.
    fb::SysfsRoot root(a.sysfs_root);
    fb::SysfsFileAccess io(root);
    auto board = fb::discover(root, io);
    fb::ClockWriter writer(board, root, io);
    auto report = writer.apply(req, /*dry_run=*/true);
    check_requests(a, report, [&](const fb::DomainRef& d) { return writer.bounds(d); });
    std::cout << (a.json ? fb::to_json(report).dump(2) + "\n" : fb::to_text(report));
    return;
  }
  fb::ControllerOptions opts;
  opts.sysfs_root = a.sysfs_root;
  opts.runtime_dir = a.runtime_dir;
  opts.owner = "flame board set";
  fb::Controller controller(opts);
  check_requests(a, controller.plan(req), [&](const fb::DomainRef& d) { return controller.bounds(d); });
  auto report = controller.set(req);
  if (a.json) {
    auto j = fb::to_json(report);
    j["baseline"] = controller.has_baseline() ? controller.baseline_file() : "";
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fb::to_text(report);
    if (controller.has_baseline())
      std::cout << fmt::format(
          "baseline: {} (put everything back with: flame board restore{}{})\n", controller.baseline_file(),
          a.sysfs_root != "/" ? " --sysfs-root " + a.sysfs_root : "",
          a.runtime_dir != fb::kDefaultRuntimeDir ? " --runtime-dir " + a.runtime_dir : "");
  }
  // An explicitly requested domain that could not be set anywhere is a failure for an operator command
  // (the daemon sees the same report and degrades instead).
  bool missing = false;
  for (auto [kind, asked] : {std::pair{fb::DomainKind::Cpu, a.cpu_khz.has_value()},
                             std::pair{fb::DomainKind::Gpu, a.gpu_hz.has_value()},
                             std::pair{fb::DomainKind::Emc, a.emc_hz.has_value()}}) {
    if (!asked) continue;
    bool done = false;
    for (const auto& d : report.domains)
      if (d.domain.kind == kind && (d.outcome == fb::Outcome::Applied || d.outcome == fb::Outcome::Unchanged))
        done = true;
    if (!done) {
      std::cerr << fmt::format("flame board set: no {} domain could be set (see above)\n",
                               fb::to_string(kind));
      missing = true;
    }
  }
  std::cout.flush();
  if (a.hold_seconds > 0) {
    // Test hook for crash recovery: keep the lock (and the changed clocks) like a live controller would.
    std::cout << fmt::format("holding clocks for {} s (pid {})\n", a.hold_seconds, ::getpid()) << std::flush;
    std::this_thread::sleep_for(std::chrono::duration<double>(a.hold_seconds));
  }
  if (!report.ok() || missing) throw flame::cli::Exit{kExitFailed};
}

void restore(const BoardArgs& a) {
  fb::RestoreOptions opts;
  opts.runtime_dir = a.runtime_dir;
  if (a.root_given) opts.sysfs_root = a.sysfs_root;
  auto report = fb::restore_from_file(opts);
  std::cout << (a.json ? fb::to_json(report).dump(2) + "\n" : fb::to_text(report));
  if (!report.ok()) throw flame::cli::Exit{kExitFailed};
}

void dump(const BoardArgs& a) {
  auto board = fb::discover(a.sysfs_root);
  auto d = fb::describe(board, a.name);
  std::vector<std::string> header = {
      fmt::format("Board description dumped by flame {} from sysfs root {}", flame::kVersion, a.sysfs_root),
      "Format: docs/board-format.md. EMC rates are not listed by debugfs; add emc.frequencies_hz if known."};
  if (d.cpu.frequencies_khz.empty()) {
    std::cerr << "flame board dump: no CPU frequency table under " << a.sysfs_root
              << " (is it a Jetson sysfs tree?)\n";
    throw flame::cli::Exit{kExitFailed};
  }
  const std::string text = fb::to_yaml(d, header);
  fb::parse_board_description(text, "dump");  // never write a file our own loader would reject
  if (a.out.empty()) {
    std::cout << text;
    return;
  }
  try {
    flame::io::write_file_atomically(a.out, text);
  } catch (const flame::io::AtomicWriteError& e) {
    std::cerr << "flame board dump: " << e.what() << "\n";
    throw flame::cli::Exit{kExitFailed};
  }
  std::cerr << "wrote " << a.out << "\n";
}

void check(const BoardArgs& a) {
  auto d = fb::load_board_description(a.file);
  std::cout << fmt::format("{}: {} ({}), {} CPUs, cores {}, CPU {} entries {}..{} kHz", a.file, d.name,
                           d.soc.empty() ? "soc unknown" : d.soc, d.cpu.cores,
                           fmt::join(d.cpu.core_options, "/"), d.cpu.frequencies_khz.size(),
                           d.cpu.frequencies_khz.front(), d.cpu.frequencies_khz.back());
  if (!d.gpu.frequencies_hz.empty())
    std::cout << fmt::format(", GPU {} entries {}..{} Hz", d.gpu.frequencies_hz.size(),
                             d.gpu.frequencies_hz.front(), d.gpu.frequencies_hz.back());
  if (!d.emc.frequencies_hz.empty())
    std::cout << fmt::format(", EMC {} entries {}..{} Hz", d.emc.frequencies_hz.size(),
                             d.emc.frequencies_hz.front(), d.emc.frequencies_hz.back());
  else if (d.emc.max_hz)
    std::cout << fmt::format(", EMC up to {} Hz (rates unknown)", *d.emc.max_hz);
  if (!d.compatible.empty()) std::cout << fmt::format(", compatible {}", fmt::join(d.compatible, " "));
  std::cout << "\n";
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void snapshot(const BoardArgs& a) {
  if (!std::filesystem::is_directory(a.sysfs_root)) {
    std::cerr << "flame board snapshot: " << a.sysfs_root << " is not a directory\n";
    throw flame::cli::Exit{kExitFailed};
  }
  fb::SnapshotOptions o;
  o.date = now_utc();
  o.flame_version = flame::kVersion;
  const auto s = fb::collect_snapshot(fb::SysfsRoot(a.sysfs_root), o);
  try {
    fb::write_snapshot(s, o, a.out);
  } catch (const fb::SnapshotError& e) {
    std::cerr << "flame board snapshot: " << e.what() << "\n";
    throw flame::cli::Exit{kExitFailed};
  }
  std::cout << fb::to_text(s);
  for (const auto& i : s.skipped)
    if (i.reason.find("EACCES") != std::string::npos) {
      std::cout << "note: some files need root (debugfs does); run it as root for a complete snapshot\n";
      break;
    }
  std::cout << fmt::format(
      "wrote {} (what was copied, left out and skipped: {}/{})\n"
      "load it with --sysfs-root {}; attach it to a report as: tar czf board.tar.gz -C {} .\n",
      a.out, a.out, fb::kSnapshotManifest, a.out, a.out);
}

// Blocks the termination signals while the clocks are changed, so that an interrupt takes effect only
// after they are restored (the test is bounded by its settle timeouts).
class SignalsDeferred {
 public:
  SignalsDeferred() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&s, sig);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
  sigset_t old_{};
};

void selftest(const BoardArgs& a) {
  fb::ControllerOptions opts;
  opts.sysfs_root = a.sysfs_root;
  opts.runtime_dir = a.runtime_dir;
  opts.owner = "flame board selftest";
  fb::SelftestOptions so;
  so.settle_timeout_s = a.settle_timeout_s;
  const auto t0 = std::chrono::steady_clock::now();
  fb::SelftestClock clock;
  clock.now_s = [t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  clock.sleep_s = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  fb::SelftestReport report;
  {
    SignalsDeferred deferred;
    fb::Controller controller(opts);
    try {
      report = fb::run_selftest(controller, so, clock);
    } catch (const fb::SelftestError& e) {
      std::cerr << "flame board selftest: " << e.what() << "\n";
      throw flame::cli::Exit{kExitFailed};
    }
    std::cout << (a.json ? fb::to_json(report).dump(2) + "\n" : fb::to_text(report)) << std::flush;
  }
  if (!report.passed()) throw flame::cli::Exit{kExitFailed};
}

template <class F>
void run(F&& f, const BoardArgs& a) {
  try {
    f(a);
  } catch (const fb::LockHeld& e) {
    std::cerr << "flame board: " << e.what() << "\n";
    throw flame::cli::Exit{kExitLockHeld};
  } catch (const fb::DescriptionError& e) {
    std::cerr << "flame board: " << e.what() << "\n";
    throw flame::cli::Exit{kExitFailed};
  }
}

flame::cli::Registrar reg([](CLI::App& root) {
  auto args = std::make_shared<BoardArgs>();
  auto* board = root.add_subcommand("board", "Inspect a Jetson board; set and restore its clocks");
  board->require_subcommand(1);
  auto add_root = [&](CLI::App* c) {
    return c->add_option("--sysfs-root", args->sysfs_root,
                         "Directory standing in for / (fake trees in tests)");
  };
  auto add_runtime = [&](CLI::App* c) {
    c->add_option("--runtime-dir", args->runtime_dir, "Where the baseline and the controller lock live")
        ->capture_default_str();
  };

  auto* show_cmd = board->add_subcommand("show", "Discover the board and print what was found");
  add_root(show_cmd);
  show_cmd->add_flag("--json", args->json, "Print JSON");
  show_cmd->callback([args] { run(show, *args); });

  auto* set_cmd = board->add_subcommand(
      "set", "Pin clocks (saving the original values first) and exit; undo with `flame board restore`");
  add_root(set_cmd);
  add_runtime(set_cmd);
  flame::cli::add_clock_option(set_cmd, "--cpu-khz", args->cpu_khz, fb::FrequencyUnit::kHz,
                               "CPU frequency for every online policy");
  flame::cli::add_clock_option(set_cmd, "--gpu-hz", args->gpu_hz, fb::FrequencyUnit::Hz, "GPU frequency");
  flame::cli::add_clock_option(set_cmd, "--emc-hz", args->emc_hz, fb::FrequencyUnit::Hz,
                               "Memory (EMC) clock");
  set_cmd->add_flag(
      "--exact", args->exact,
      "Refuse a clock the domain does not allow (off its table or range) instead of rounding it "
      "with a warning");
  set_cmd->add_flag("--max", args->max, "Pin every domain not given explicitly at its ceiling");
  set_cmd->add_flag("--dry-run", args->dry_run, "Print the writes that would be made; write nothing");
  set_cmd->add_flag("--json", args->json, "Print the report as JSON");
  set_cmd
      ->add_option("--hold-seconds", args->hold_seconds,
                   "Test hook: keep the lock for this long after setting")
      ->group("");
  set_cmd->callback([args] { run(set, *args); });

  auto* restore_cmd = board->add_subcommand("restore", "Put back every value saved by `flame board set`");
  add_root(restore_cmd)->each([args](const std::string&) { args->root_given = true; });
  add_runtime(restore_cmd);
  restore_cmd->add_flag("--json", args->json, "Print the report as JSON");
  restore_cmd->callback([args] { run(restore, *args); });

  auto* dump_cmd = board->add_subcommand("dump", "Write a board description (YAML) from a sysfs tree");
  add_root(dump_cmd);
  dump_cmd->add_option("--out", args->out, "Output file (default: stdout)");
  dump_cmd->add_option("--name", args->name, "Board name (default: from the device-tree model)");
  dump_cmd->callback([args] { run(dump, *args); });

  auto* snapshot_cmd = board->add_subcommand(
      "snapshot",
      "Copy the clock-relevant sysfs, debugfs, device-tree and nvpmodel files into a fake tree "
      "(serial numbers and MAC addresses left out)");
  add_root(snapshot_cmd);
  snapshot_cmd->add_option("--out", args->out, "Directory to create (must be new or empty)")->required();
  snapshot_cmd->callback([args] { run(snapshot, *args); });

  auto* selftest_cmd = board->add_subcommand(
      "selftest",
      "Pin each clock domain once at a mid-table value, check it settles, restore; exit 0 if all pass");
  add_root(selftest_cmd);
  add_runtime(selftest_cmd);
  selftest_cmd
      ->add_option("--settle-timeout", args->settle_timeout_s,
                   "Seconds a clock may take to read back its new value")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  selftest_cmd->add_flag("--json", args->json, "Print the report as JSON");
  selftest_cmd->callback([args] { run(selftest, *args); });

  auto* check_cmd = board->add_subcommand("check", "Validate a board description file");
  check_cmd->add_option("file", args->file, "Board description (YAML)")->required();
  check_cmd->callback([args] { run(check, *args); });
});

}  // namespace
