// The profiling loop against scripted hardware: clocks pinned per combination and restored on
// every way out, settle waits for the read-back, the command's environment, missing traces,
// failing commands, stop requests and resuming.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "flame/profile/detail/profile_runner.hpp"
#include "flame/profile/profile_plan.hpp"
#include "trace_test_support.hpp"

using namespace flame;
using namespace flame::profile;

namespace {

// Virtual time: sleeping advances it, nothing else does unless told.
struct FakeClock : Clock {
  double t = 100;
  double now_s() override { return t; }
  void sleep_s(double s) override { t += s; }
  std::int64_t unix_ns() override { return static_cast<std::int64_t>(t * 1e9); }
};

// The board: apply() pins at once; current() reports the pinned clocks only after `lag` polls.
struct FakeClocks : ClockControl {
  std::vector<Clocks> applied;
  int restores = 0;
  int lag = 2;
  int polls_since_apply = 0;
  bool never_settles = false;
  int fail_on_apply = -1;  // index of the apply() call that throws
  Clocks pinned{1000, 0, 1e9, 1e9};
  Clocks before{1000, 0, 1e9, 1e9};
  Clocks apply(const Clocks& t) override {
    if (static_cast<int>(applied.size()) == fail_on_apply)
      throw std::runtime_error("setting emc failed: Failed (EIO)");
    applied.push_back(t);
    before = pinned;
    pinned = t;
    polls_since_apply = 0;
    return t;
  }
  Clocks current() override {
    ++polls_since_apply;
    if (never_settles || polls_since_apply <= lag) return before;
    return pinned;
  }
  void restore() override { ++restores; }
};

struct FakePower : PowerMeter {
  double mw = 5000;
  std::optional<double> read_mw() override { return mw += 10; }
};

// The command: "writes" a trace (an empty file the fake loader recognises) and reports its env.
struct FakeCommand : CommandRunner {
  std::vector<std::map<std::string, std::string>> envs;
  std::vector<std::vector<std::string>> commands;
  int fail_at = -1;      // run index that exits with status 3
  int no_trace_at = -1;  // run index that writes nothing
  int stop_at = -1;      // run index during which a stop arrives
  std::atomic<bool>* stop = nullptr;
  FakeClock* clock = nullptr;
  // --e2e: what run k prints on its stdout, all of it just before its last power sample.
  std::function<std::string(int k, const std::map<std::string, std::string>& env)> print;
  CommandResult run(const std::vector<std::string>& command, const std::map<std::string, std::string>& env,
                    const std::function<bool()>& tick, const OutputSink& out) override {
    const int k = static_cast<int>(envs.size());
    envs.push_back(env);
    commands.push_back(command);
    for (int i = 0; i < 4; ++i) {  // four power samples, 0.25 s each
      clock->t += 0.25;
      if (k == stop_at && i == 1) stop->store(true);
      if (i == 3 && print && out) out(print(k, env));
      if (!tick()) return {.exit_code = 0, .signaled = true, .signal = 2, .stopped = true, .error = {}};
    }
    if (k == fail_at) return {.exit_code = 3, .signaled = false, .signal = 0, .stopped = false, .error = {}};
    if (!env.count(kEnvTrace)) return {};  // --e2e: no trace
    if (k != no_trace_at) {
      std::string pattern = env.at(kEnvTrace);
      const std::string ctxs = env.count(kEnvContexts) ? env.at(kEnvContexts) : "";
      std::vector<std::string> paths;
      if (ctxs.empty()) paths.push_back(pattern);
      std::size_t start = 0;
      while (!ctxs.empty() && start <= ctxs.size()) {
        const auto comma = ctxs.find(',', start);
        const std::string c =
            ctxs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::string p = pattern;
        p.replace(p.find(kCtxPlaceholder), 5, c);
        paths.push_back(p);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      for (const auto& p : paths) std::ofstream(p) << env.at(kEnvCpu) << " " << env.at(kEnvGpu);
    }
    return {};
  }
};

// A two-segment summary whose times follow the clocks written into the fake trace.
flame::trace::TraceSummary fake_summary(const std::filesystem::path& p) {
  std::ifstream f(p);
  double cpu = 0, gpu = 0;
  f >> cpu >> gpu;
  flame::trace::TraceSummary s;
  s.source = p.string();
  for (int i = 0; i < 3; ++i) {
    flame::model::Segment seg;
    seg.kind = i % 2 ? flame::model::SegmentKind::Call : flame::model::SegmentKind::Glue;
    seg.name = i % 2 ? "fc" : "";
    seg.cpu_ns = 1e9 / cpu;
    seg.gpu_ns = 1e12 / gpu;
    s.profile.segments.push_back(seg);
  }
  s.per_iteration.push_back(
      {.cpu_ns = 100, .gpu_ns = 50, .n_gpu_ops = 1, .end_to_end_ns = 120, .drain_ns = 20});
  return s;
}

JournalHeader header(std::vector<PlanWorkload> workloads = {}) {
  JournalHeader h;
  h.model = "m";
  h.command = {"run-model", "--fast", "--phase={phase}"};
  h.workloads = std::move(workloads);
  h.budget = 5;
  h.seed = 1;
  h.grid.cpu_khz = {500000, 1000000, 1500000};
  h.grid.gpu_hz = {300e6, 600e6, 900e6};
  h.grid.emc_hz = {1e9, 2e9};
  h.plan = make_profile_plan(h.grid, h.budget, h.seed).steps;
  if (!h.workloads.empty()) h.plan.resize(h.workloads.size(), h.plan.back());
  return h;
}

struct Rig {
  trace_test::TempDir dir;
  FakeClock clock;
  FakeClocks clocks;
  FakePower power;
  FakeCommand command;
  std::atomic<bool> stop{false};
  std::vector<StepRecord> records;
  std::vector<ProfileProgress> progress;
  JournalHeader h;
  explicit Rig(JournalHeader hh = header()) : h(std::move(hh)) {
    command.clock = &clock;
    command.stop = &stop;
  }
  ProfileRunner runner() {
    RunnerOptions o;
    o.trace_dir = dir.path() / "traces";
    o.settle_timeout_s = 1;
    o.settle_poll_s = 0.01;
    return ProfileRunner(
        h, 18, o, {clocks, &power, command, clock}, fake_summary,
        [this](const StepRecord& r) { records.push_back(r); },
        [this](const ProfileProgress& p) { progress.push_back(p); });
  }
};

}  // namespace

TEST_CASE("profile runner: with a wall-clock anchor in the trace, power is the iterations' samples only",
          "[profile][power]") {
  Rig rig;
  RunnerOptions o;
  o.trace_dir = rig.dir.path() / "traces";
  o.settle_poll_s = 0.01;
  // The trace says its one iteration took the last 0.3 s of the command (samples every 0.25 s).
  auto anchored = [&](const std::filesystem::path& p) {
    flame::trace::TraceSummary s = fake_summary(p);
    s.per_iteration[0].end_to_end_ns = 300'000'000;
    s.base_time_ns = rig.clock.unix_ns() - 300'000'000;
    return s;
  };
  ProfileRunner(rig.h, 18, o, {rig.clocks, &rig.power, rig.command, rig.clock}, anchored,
                [&](const StepRecord& r) { rig.records.push_back(r); }, {})
      .run({}, rig.stop);
  REQUIRE(rig.records.size() == rig.h.plan.size());
  const auto& r = rig.records[0];
  CHECK(r.power_window == PowerWindow::Iterations);
  CHECK(r.power_samples == 2);
  // The meter read 5010, 5020, 5030, 5040 mW during the command; the last two were in the window.
  REQUIRE(r.power_mw);
  CHECK(*r.power_mw == Approx(5035));
  // The journal keeps which samples counted.
  CHECK_THAT(record_line(r), Catch::Contains("\"power_window\":\"iterations\""));
  CHECK(parse_journal(header_line(rig.h) + "\n" + record_line(r) + "\n", "j").steps[0].power_window ==
        PowerWindow::Iterations);
}

TEST_CASE("profile runner: pins every combination in plan order, waits for the read-back, restores once",
          "[profile]") {
  Rig rig;
  rig.runner().run({}, rig.stop);
  REQUIRE(rig.records.size() == rig.h.plan.size());
  CHECK(rig.clocks.applied == rig.h.plan);
  CHECK(rig.clocks.restores == 1);
  for (std::size_t i = 0; i < rig.records.size(); ++i) {
    const auto& r = rig.records[i];
    CHECK(r.step == i);
    CHECK(r.observed == rig.h.plan[i]);
    // Two lagging polls of 10 ms each before the read-back agreed.
    CHECK(r.settle_s == Approx(0.02).margin(1e-9));
    CHECK(r.command_s == Approx(1.0));
    CHECK(r.power_samples == 4);
    REQUIRE(r.power_mw);
    REQUIRE(r.workloads.size() == 1);
    // The trace was written at the clocks the command was told: 3 segments, host time 1e9/cpu_khz.
    CHECK(r.workloads[0].trace_run.run.cpu_ns[0] == Approx(1e9 / rig.h.plan[i].cpu_khz));
    CHECK(r.workloads[0].trace_run.run.e2e_median_ns == 120);
    CHECK(r.workloads[0].trace_run.run.sync_ns == 20);
  }
  // Power samples were averaged per step (the fake meter climbs by 10 mW per read).
  CHECK(*rig.records[0].power_mw == Approx(5025));
  // The environment names the clocks in effect and a trace path inside the trace directory.
  const auto& env = rig.command.envs[2];
  CHECK(env.at(kEnvCpu) == fmt::format("{:.0f}", rig.h.plan[2].cpu_khz));
  CHECK(env.at(kEnvGpu) == fmt::format("{:.0f}", rig.h.plan[2].gpu_hz));
  CHECK(env.at(kEnvEmc) == fmt::format("{:.0f}", rig.h.plan[2].emc_hz));
  CHECK(env.at(kEnvStep) == "2");
  CHECK(env.at(kEnvSteps) == std::to_string(rig.h.plan.size()));
  CHECK(env.at(kEnvModel) == "m");
  CHECK_FALSE(env.count(kEnvContexts));
  CHECK(env.at(kEnvTrace) == (rig.dir.path() / "traces" / "step-002.json.gz").string());
  // Progress: counts, ETA from the mean step time, exhaustive projection over the 18 combinations.
  REQUIRE(rig.progress.size() == rig.h.plan.size());
  CHECK(rig.progress[1].done == 2);
  CHECK(rig.progress[1].mean_step_s == Approx(1.02));
  CHECK(rig.progress[1].eta_s == Approx(1.02 * (rig.h.plan.size() - 2)));
  CHECK(rig.progress[1].exhaustive_s == Approx(1.02 * 18));
  CHECK(rig.progress.back().eta_s == 0);
}

TEST_CASE("profile runner: a failing command stops the run, restores, keeps what finished", "[profile]") {
  Rig rig;
  rig.command.fail_at = 2;
  const auto msg = trace_test::error_of<ProfileError>([&] { rig.runner().run({}, rig.stop); });
  CHECK_THAT(msg, Catch::Contains("the command failed at step 3 of 5"));
  CHECK_THAT(msg, Catch::Contains("exit status 3"));
  CHECK_THAT(msg, Catch::Contains("run-model --fast"));
  CHECK_THAT(msg, Catch::Contains("2 of 5 combinations are in the journal"));
  CHECK(rig.records.size() == 2);
  CHECK(rig.clocks.restores == 1);
}

TEST_CASE("profile runner: a command that writes no trace is an error naming the path", "[profile]") {
  Rig rig;
  rig.command.no_trace_at = 0;
  const auto msg = trace_test::error_of<ProfileError>([&] { rig.runner().run({}, rig.stop); });
  CHECK_THAT(msg, Catch::Contains("wrote no trace at"));
  CHECK_THAT(msg, Catch::Contains("step-000.json.gz"));
  CHECK_THAT(msg, Catch::Contains("FLAME_PROFILE_TRACE"));
  CHECK(rig.records.empty());
  CHECK(rig.clocks.restores == 1);
}

TEST_CASE("profile runner: a stale trace from an earlier attempt does not count", "[profile]") {
  Rig rig;
  rig.command.no_trace_at = 0;
  std::filesystem::create_directories(rig.dir.path() / "traces");
  std::ofstream(rig.dir.path() / "traces" / "step-000.json.gz") << "1000 1000";
  CHECK_THAT(trace_test::error_of<ProfileError>([&] { rig.runner().run({}, rig.stop); }),
             Catch::Contains("wrote no trace"));
}

TEST_CASE("profile runner: a stop request ends the run restored, and --resume runs only the rest",
          "[profile]") {
  Rig rig;
  rig.command.stop_at = 2;
  const auto msg = trace_test::error_of<ProfileInterrupted>([&] { rig.runner().run({}, rig.stop); });
  CHECK_THAT(msg, Catch::Contains("interrupted at step 3 of 5"));
  CHECK(rig.records.size() == 2);
  CHECK(rig.clocks.restores == 1);

  // Resume: a new runner with the finished steps runs steps 2..4 only.
  rig.stop = false;
  rig.command.stop_at = -1;
  const auto done = rig.records;
  rig.clocks.applied.clear();
  rig.runner().run(done, rig.stop);
  REQUIRE(rig.records.size() == 5);
  CHECK(rig.clocks.applied == std::vector<Clocks>(rig.h.plan.begin() + 2, rig.h.plan.end()));
  CHECK(rig.clocks.restores == 2);
  CHECK(rig.progress.back().done == 5);
}

TEST_CASE("profile runner: clocks that never read back are an error naming the domain", "[profile]") {
  Rig rig;
  rig.clocks.never_settles = true;
  const auto msg = trace_test::error_of<ProfileError>([&] { rig.runner().run({}, rig.stop); });
  CHECK_THAT(msg, Catch::Contains("did not take effect within 1.0 s"));
  CHECK_THAT(msg, Catch::Contains("reports"));
  CHECK(rig.command.envs.empty());  // the command never ran at unconfirmed clocks
  CHECK(rig.clocks.restores == 1);
}

TEST_CASE("profile runner: a board write failure restores and keeps its message", "[profile]") {
  Rig rig;
  rig.clocks.fail_on_apply = 1;
  const auto msg = trace_test::error_of<ProfileError>([&] { rig.runner().run({}, rig.stop); });
  CHECK_THAT(msg, Catch::Contains("setting emc failed"));
  CHECK(rig.records.size() == 1);
  CHECK(rig.clocks.restores == 1);
}

TEST_CASE("profile runner: an SLM step runs its phase at its context length", "[profile]") {
  Rig rig(header({{"decode", 128}, {"prefill", 32}, {"decode", 2048}}));
  rig.runner().run({}, rig.stop);
  REQUIRE(rig.records.size() == 3);
  CHECK(rig.command.envs[0].at(kEnvContexts) == "128");
  CHECK(rig.command.envs[0].at(kEnvPhase) == "decode");
  CHECK(rig.command.envs[1].at(kEnvPhase) == "prefill");
  CHECK(rig.command.commands[1] == std::vector<std::string>{"run-model", "--fast", "--phase=prefill"});
  CHECK_THAT(rig.command.envs[1].at(kEnvTrace), Catch::EndsWith("step-001-prefill-ctx{ctx}.json.gz"));
  const std::vector<std::pair<std::string, int>> want = {{"decode", 128}, {"prefill", 32}, {"decode", 2048}};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& r = rig.records[i];
    REQUIRE(r.workloads.size() == 1);
    CHECK(r.workloads[0].phase == want[i].first);
    CHECK(r.workloads[0].ctx == want[i].second);
    CHECK_THAT(r.workloads[0].trace, Catch::EndsWith("-ctx" + std::to_string(want[i].second) + ".json.gz"));
  }
}

TEST_CASE("profile runner: a model without phases runs its command as given", "[profile]") {
  Rig rig;
  rig.runner().run({}, rig.stop);
  CHECK(rig.command.commands[0] == std::vector<std::string>{"run-model", "--fast", "--phase={phase}"});
  CHECK_FALSE(rig.command.envs[0].count(kEnvPhase));
  CHECK_FALSE(rig.command.envs[0].count(kEnvContexts));
}

TEST_CASE("profile runner: nothing left to do touches no clock", "[profile]") {
  Rig rig;
  rig.runner().run({}, rig.stop);
  const auto done = rig.records;
  rig.clocks.applied.clear();
  rig.runner().run(done, rig.stop);
  CHECK(rig.clocks.applied.empty());
  CHECK(rig.clocks.restores == 1);
}

namespace {

JournalHeader e2e_header() {
  JournalHeader h = header();
  h.mode = ProfileMode::EndToEnd;
  h.warmup = 1;
  return h;
}

std::string profile_error(Rig& rig) {
  try {
    rig.runner().run({}, rig.stop);
  } catch (const ProfileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("profile runner --e2e: latency lines after the warm-up, their median, power of their window",
          "[profile][e2e]") {
  Rig rig(e2e_header());
  // 1 warm-up line, then 3 inferences (330 ms at step 0); all lines arrive 1.0 s into the command.
  rig.command.print = [](int, const std::map<std::string, std::string>& env) {
    return "# engine loaded\n500\n100\n{\"latency_ms\": 120}\n" +
           std::to_string(110 + std::stoi(env.at(kEnvStep))) + "\n";
  };
  rig.runner().run({}, rig.stop);
  REQUIRE(rig.records.size() == rig.h.plan.size());
  CHECK(rig.clocks.restores == 1);
  // No trace is asked for.
  CHECK(rig.command.envs[0].count(kEnvTrace) == 0);
  CHECK(rig.command.envs[0].count(kEnvContexts) == 0);
  CHECK(rig.command.envs[0].at(kEnvStep) == "0");
  const auto& r = rig.records[0];
  REQUIRE(r.e2e);
  CHECK(r.e2e->warmup_dropped == 1);
  CHECK(r.e2e->latencies_ms == std::vector<double>{100, 120, 110});
  CHECK(r.e2e->median_ms == 110);
  CHECK(rig.records[4].e2e->median_ms == 114);
  CHECK(r.workloads.empty());
  // The window is the last 330 ms before the last line: the samples at 0.75 s and 1.0 s (5030, 5040 mW).
  CHECK(r.power_window == PowerWindow::Iterations);
  CHECK(r.power_samples == 2);
  REQUIRE(r.power_mw);
  CHECK(*r.power_mw == Approx(5035));
  // What the journal keeps is what the fit reads.
  const auto back = parse_journal(header_line(rig.h) + "\n" + record_line(r) + "\n", "j");
  CHECK(back.steps[0].e2e->latencies_ms == r.e2e->latencies_ms);
}

TEST_CASE("profile runner --e2e: garbage, no latencies or only warm-up stop the run, naming step and line",
          "[profile][e2e]") {
  SECTION("garbage on the third combination") {
    Rig rig(e2e_header());
    rig.command.print = [](int k, const std::map<std::string, std::string>&) {
      return k == 2 ? std::string("12\n13\nSegmentation fault\n") : std::string("12\n13\n");
    };
    const std::string msg = profile_error(rig);
    CHECK_THAT(msg, Catch::Contains("step 3 of 5") && Catch::Contains("line 3 'Segmentation fault'") &&
                        Catch::Contains("2 of 5 combinations are in the journal"));
    CHECK(rig.records.size() == 2);
    CHECK(rig.clocks.restores == 1);
  }
  SECTION("a NaN") {
    Rig rig(e2e_header());
    rig.command.print = [](int, const std::map<std::string, std::string>&) {
      return std::string("9\nnan\n");
    };
    CHECK_THAT(profile_error(rig), Catch::Contains("step 1 of 5") && Catch::Contains("line 2 'nan'"));
    CHECK(rig.clocks.restores == 1);
  }
  SECTION("nothing printed") {
    Rig rig(e2e_header());
    CHECK_THAT(profile_error(rig), Catch::Contains("printed no latencies") && Catch::Contains("step 1 of 5"));
    CHECK(rig.records.empty());
    CHECK(rig.clocks.restores == 1);
  }
  SECTION("only warm-up") {
    Rig rig(e2e_header());
    rig.command.print = [](int, const std::map<std::string, std::string>&) { return std::string("40\n"); };
    CHECK_THAT(profile_error(rig), Catch::Contains("all of them warm-up (--warmup 1)"));
    CHECK(rig.clocks.restores == 1);
  }
  SECTION("a failing command") {
    Rig rig(e2e_header());
    rig.command.print = [](int, const std::map<std::string, std::string>&) {
      return std::string("40\n41\n");
    };
    rig.command.fail_at = 1;
    CHECK_THAT(profile_error(rig),
               Catch::Contains("the command failed at step 2 of 5") && Catch::Contains("exit status 3"));
    CHECK(rig.records.size() == 1);
    CHECK(rig.clocks.restores == 1);
  }
}
