#include "flame/profile/detail/profile_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "flame/profile/detail/rail_window.hpp"
#include "flame/profile/latency_lines.hpp"

namespace flame::profile {
namespace {

std::string clocks_text(const Clocks& c) {
  return fmt::format("CPU {:.0f} kHz, GPU {:.0f} MHz, EMC {:.0f} MHz", c.cpu_khz, c.gpu_hz / 1e6,
                     c.emc_hz / 1e6);
}

// The domains whose reported clock is not (yet) the pinned one, or "" when all agree.
std::string disagreement(const Clocks& pinned, const Clocks& now, double tol) {
  std::vector<std::string> off;
  auto check = [&](const char* what, double want, double got, const char* unit, double scale) {
    if (want > 0 && !(std::abs(got - want) <= tol * want))
      off.push_back(
          fmt::format("{} reports {:.0f} {} (pinned {:.0f})", what, got / scale, unit, want / scale));
  };
  check("CPU", pinned.cpu_khz, now.cpu_khz, "kHz", 1);
  check("GPU", pinned.gpu_hz, now.gpu_hz, "MHz", 1e6);
  check("EMC", pinned.emc_hz, now.emc_hz, "MHz", 1e6);
  return off.empty() ? "" : fmt::format("{}", fmt::join(off, ", "));
}

std::string status_text(const CommandResult& r) {
  if (!r.error.empty()) return r.error;
  if (r.signaled) return fmt::format("killed by signal {}", r.signal);
  return fmt::format("exit status {}", r.exit_code);
}

}  // namespace

ProfileRunner::ProfileRunner(JournalHeader run, std::size_t exhaustive_steps, RunnerOptions options, Io io,
                             TraceLoader load, StepSink record, ProgressSink progress)
    : run_(std::move(run)),
      exhaustive_steps_(exhaustive_steps),
      opt_(std::move(options)),
      io_(io),
      load_(std::move(load)),
      record_(std::move(record)),
      progress_(std::move(progress)) {
  if (run_.command.empty()) throw std::invalid_argument("flame profile: no command to run");
  if (run_.plan.empty()) throw std::invalid_argument("flame profile: empty plan");
}

std::string ProfileRunner::trace_pattern(std::size_t step) const {
  const std::string stem = fmt::format("step-{:03}", step);
  const std::string name = run_.workloads.empty() ? stem + ".json.gz"
                                                  : stem + "-" + run_.workloads[step].phase + "-ctx" +
                                                        kCtxPlaceholder + ".json.gz";
  return (opt_.trace_dir / name).string();
}

std::filesystem::path ProfileRunner::trace_path(std::size_t step, int ctx) const {
  std::string p = trace_pattern(step);
  if (const auto at = p.find(kCtxPlaceholder); at != std::string::npos)
    p.replace(at, std::string(kCtxPlaceholder).size(), std::to_string(ctx));
  return p;
}

Clocks ProfileRunner::settle(const Clocks& pinned, double t0) {
  for (;;) {
    const Clocks now = io_.clocks.current();
    const std::string off = disagreement(pinned, now, opt_.settle_tolerance);
    if (off.empty()) return now;
    if (io_.clock.now_s() - t0 > opt_.settle_timeout_s)
      throw ProfileError(fmt::format(
          "the clocks did not take effect within {:.1f} s: {} (something else may be limiting them: "
          "nvpmodel, thermal or power throttling, another clock tool)",
          opt_.settle_timeout_s, off));
    io_.clock.sleep_s(opt_.settle_poll_s);
  }
}

StepRecord ProfileRunner::run_step(std::size_t step, const std::atomic<bool>& stop) {
  StepRecord r;
  r.step = step;
  r.requested = run_.plan[step];
  const double t0 = io_.clock.now_s();
  r.applied = io_.clocks.apply(r.requested);
  r.observed = settle(r.applied, t0);
  r.settle_s = io_.clock.now_s() - t0;

  const bool e2e = run_.mode == ProfileMode::EndToEnd;
  // A trace left by an earlier attempt must not pass for this one.
  const PlanWorkload* slm = run_.workloads.empty() ? nullptr : &run_.workloads[step];
  const std::vector<int> contexts{slm ? slm->ctx : 0};
  if (!e2e) {
    std::filesystem::create_directories(opt_.trace_dir);
    for (int ctx : contexts) std::filesystem::remove(trace_path(step, ctx));
  }

  std::map<std::string, std::string> env = {
      {kEnvCpu, fmt::format("{:.0f}", r.observed.cpu_khz)},
      {kEnvGpu, fmt::format("{:.0f}", r.observed.gpu_hz)},
      {kEnvEmc, fmt::format("{:.0f}", r.observed.emc_hz)},
      {kEnvStep, std::to_string(step)},
      {kEnvSteps, std::to_string(run_.plan.size())},
      {kEnvModel, run_.model},
  };
  if (!e2e) {
    env[kEnvTrace] = trace_pattern(step);
    if (slm) {
      env[kEnvContexts] = std::to_string(slm->ctx);
      env[kEnvPhase] = slm->phase;
    }
  }
  // An SLM step's phase also replaces {phase} in the command's arguments.
  std::vector<std::string> command = run_.command;
  if (slm)
    for (auto& arg : command)
      for (auto at = arg.find(kPhasePlaceholder); at != std::string::npos;
           at = arg.find(kPhasePlaceholder, at + slm->phase.size()))
        arg.replace(at, std::string_view(kPhasePlaceholder).size(), slm->phase);
  std::vector<RailSample> rail;
  auto tick = [&] {
    if (io_.power)
      if (const auto mw = io_.power->read_mw()) rail.push_back({io_.clock.unix_ns(), *mw});
    return !stop.load();
  };
  // --e2e: the latency lines, with when each line arrived (Unix ns) to place the inferences in time.
  std::string output;
  std::vector<std::int64_t> line_arrival;
  CommandRunner::OutputSink sink;
  if (e2e)
    sink = [&](std::string_view chunk) {
      const std::int64_t now = io_.clock.unix_ns();
      for (char ch : chunk)
        if (ch == '\n') line_arrival.push_back(now);
      output += chunk;
    };
  const double c0 = io_.clock.now_s();
  const std::int64_t c0_unix = io_.clock.unix_ns();
  const CommandResult result = io_.command.run(command, env, tick, sink);
  r.command_s = io_.clock.now_s() - c0;
  if (!output.empty() && output.back() != '\n') line_arrival.push_back(io_.clock.unix_ns());

  const std::string where =
      fmt::format("step {} of {} ({})", step + 1, run_.plan.size(), clocks_text(r.observed));
  if (stop.load() || result.stopped) throw ProfileInterrupted(fmt::format("interrupted at {}", where));
  if (!result.ok())
    throw ProfileError(fmt::format("the command failed at {}: {} ({})", where, status_text(result),
                                   fmt::join(run_.command, " ")));
  if (e2e) {
    const auto window = read_latency_lines(r, where, output, line_arrival, c0_unix);
    const RailPower p = rail_power(rail, {window}, static_cast<std::int64_t>(opt_.rail_tolerance_s * 1e9));
    r.power_mw = p.mw;
    r.power_samples = p.samples;
    r.power_window = p.window;
    return r;
  }
  for (int ctx : contexts) {
    const auto path = trace_path(step, ctx);
    if (!std::filesystem::exists(path))
      throw ProfileError(fmt::format(
          "the command succeeded at {} but wrote no trace at {} (it must write its profiler trace to "
          "${}{}{})",
          where, path.string(), kEnvTrace, ctx ? ", with {ctx} replaced by " : "",
          ctx ? std::to_string(ctx) : ""));
    WorkloadResult w;
    w.ctx = ctx;
    if (slm) w.phase = slm->phase;
    w.trace = path.string();
    try {
      w.trace_run = trace_run(load_(path));
    } catch (const std::exception& e) {
      throw ProfileError(fmt::format("the trace of {} cannot be used: {}", where, e.what()));
    }
    r.workloads.push_back(std::move(w));
  }
  std::vector<std::optional<trace::WallWindow>> windows;
  for (const auto& w : r.workloads) windows.push_back(w.trace_run.window);
  const RailPower p = rail_power(rail, windows, static_cast<std::int64_t>(opt_.rail_tolerance_s * 1e9));
  r.power_mw = p.mw;
  r.power_samples = p.samples;
  r.power_window = p.window;
  return r;
}

std::optional<trace::WallWindow> ProfileRunner::read_latency_lines(StepRecord& r, const std::string& where,
                                                                   const std::string& output,
                                                                   const std::vector<std::int64_t>& arrival,
                                                                   std::int64_t command_start_ns) const {
  std::vector<LatencyLine> lines;
  try {
    lines = parse_latency_lines(output);
  } catch (const LatencyLineError& e) {
    throw ProfileError(fmt::format("the output of the command at {} cannot be used: {}", where, e.what()));
  }
  if (lines.empty())
    throw ProfileError(fmt::format(
        "the command succeeded at {} but printed no latencies on its standard output (one per inference "
        "and line: a number in ms, or a JSON object with \"latency_ms\"; logs belong on standard error)",
        where));
  std::vector<double> all;
  for (const auto& l : lines) all.push_back(l.ms);
  RecordedLatencies kept = recorded_latencies(all, run_.warmup);
  if (kept.ms.empty())
    throw ProfileError(fmt::format(
        "the command printed {} latencies at {}, all of them warm-up (--warmup {}): run more inferences "
        "or lower --warmup",
        all.size(), where, run_.warmup));
  r.e2e = EndToEndResult{std::move(kept.ms), kept.dropped, kept.median_ms};
  // The recorded inferences ran back to back before the last line arrived: the window of their
  // rail samples is that line's arrival minus their summed latencies (gaps between them make the
  // true span longer, so this one stays inside it), never before the command started.
  const std::size_t last = lines.back().line - 1;
  if (last >= arrival.size()) return std::nullopt;
  double sum_ms = 0;
  for (double v : r.e2e->latencies_ms) sum_ms += v;
  trace::WallWindow w;
  w.end_ns = arrival[last];
  w.begin_ns = std::max(command_start_ns, w.end_ns - static_cast<std::int64_t>(sum_ms * 1e6));
  if (w.begin_ns >= w.end_ns) return std::nullopt;
  return w;
}

void ProfileRunner::run(const std::vector<StepRecord>& done, const std::atomic<bool>& stop) {
  std::set<std::size_t> finished;
  double total_step_s = 0;
  for (const auto& d : done) {
    finished.insert(d.step);
    total_step_s += d.settle_s + d.command_s;
  }
  const double start = io_.clock.now_s();
  bool touched = false;
  try {
    for (std::size_t step = 0; step < run_.plan.size(); ++step) {
      if (finished.count(step)) continue;
      if (stop.load())
        throw ProfileInterrupted(fmt::format("interrupted before step {} of {}", step + 1, run_.plan.size()));
      touched = true;
      const StepRecord r = run_step(step, stop);
      record_(r);
      finished.insert(step);
      total_step_s += r.settle_s + r.command_s;
      if (progress_) {
        ProfileProgress p;
        p.done = finished.size();
        p.total = run_.plan.size();
        p.elapsed_s = io_.clock.now_s() - start;
        p.mean_step_s = total_step_s / static_cast<double>(finished.size());
        p.eta_s = p.mean_step_s * static_cast<double>(p.total - p.done);
        p.exhaustive_s = p.mean_step_s * static_cast<double>(exhaustive_steps_);
        p.last = &r;
        progress_(p);
      }
    }
  } catch (const ProfileError& e) {
    if (!touched) throw;
    const bool interrupted = dynamic_cast<const ProfileInterrupted*>(&e) != nullptr;
    std::string msg = e.what();
    try {
      io_.clocks.restore();
    } catch (const std::exception& r) {
      msg += fmt::format("; restoring the clocks failed too: {}", r.what());
    }
    msg += fmt::format(". {} of {} combinations are in the journal; continue with --resume", finished.size(),
                       run_.plan.size());
    if (interrupted) throw ProfileInterrupted(msg);
    throw ProfileError(msg);
  } catch (const std::exception& e) {
    // Board write failures, I/O errors: the same guarantee, the original message.
    if (!touched) throw;
    std::string msg = e.what();
    try {
      io_.clocks.restore();
    } catch (const std::exception& r) {
      msg += fmt::format("; restoring the clocks failed too: {}", r.what());
    }
    throw ProfileError(msg + fmt::format(". {} of {} combinations are in the journal; continue with --resume",
                                         finished.size(), run_.plan.size()));
  }
  if (touched) io_.clocks.restore();
}

}  // namespace flame::profile
