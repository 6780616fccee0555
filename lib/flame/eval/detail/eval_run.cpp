#include "flame/eval/detail/eval_run.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "flame/eval/detail/tree_pins.hpp"
#include "flame/sim/fake_tree.hpp"
#include "flame/sim/profiles.hpp"

namespace flame::eval {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

std::size_t level_index(const std::vector<std::uint64_t>& levels, std::uint64_t value) {
  return sim::snap_down(levels, value);
}

RunResult run_governor(const sim::Workload& w, const EvalBoard& board, Governor& g, const RunOptions& o) {
  sim::FakeTree tree;  // a fresh board per run: every governor starts from the same state
  sim::build(board.profile, tree);
  TreePins pins(tree, board.board.layout);
  sim::TableSimulator s = board.simulator(tree.root(), o.sim);
  const std::size_t n = o.limit ? std::min(o.limit, w.requests.size()) : w.requests.size();
  // Fail early on a request the board has no truth for.
  for (const auto& t : board.requests.truth_names(w, n)) (void)board.truth(t);
  g.reset(board.levels());

  RunResult out;
  out.governor = g.name();
  const double period = g.tick_ms();
  double next_tick = period > 0 ? period : 0;
  std::optional<Governor::IdleAction> idle;

  auto timed = [&](auto&& f) {
    const auto t0 = Clock::now();
    auto r = f();
    out.decide_s += seconds_since(t0);
    return r;
  };
  auto apply = [&](const std::optional<Target>& t, double now) {
    if (!t) return;
    pins.pin(*t);
    s.observe(now);
  };
  // Idle time up to `until`: ticks and the governor's idle action, in time order.
  auto idle_until = [&](double until) {
    for (;;) {
      const double tick_at = period > 0 ? next_tick : until;
      const double idle_at = idle ? idle->at_ms : until;
      const double t = std::min(tick_at, idle_at);
      if (t >= until) break;
      if (idle && idle_at <= tick_at) {
        if (idle->clocks)
          pins.pin(*idle->clocks);
        else
          pins.restore();
        s.observe(t);
        idle.reset();
        continue;
      }
      ++out.ticks;
      apply(timed([&] { return g.tick(t, false); }), t);
      next_tick += period;
    }
  };

  s.observe(0);
  double free_at = 0;
  std::vector<bool> announced(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const sim::Request& q = w.requests[i];
    sim::FrameRecord r = sim::start_record(i, q, free_at);
    idle_until(r.start_ms);
    idle.reset();
    s.observe(r.start_ms);  // the temperature and the throttle state now

    Decision d{i,           q.model,           r.start_ms,      q.t_ms, q.deadline_ms,
               r.budget_ms, s.temperature_c(), s.thermal_cap(), q.ctx,  q.phase};
    ++out.decisions;
    const Target target = timed([&] { return g.decide(d); });
    pins.pin(target);

    sim::InferenceResult x;
    // Ticks (load-driven governors) and the arrivals announced while this inference runs, in one
    // ticker: the simulator calls back at both, the governor's answer takes effect after the delays.
    sim::Ticker ticker;
    if (g.wants_arrivals())
      for (std::size_t k = i + 1; k < n; ++k)
        if (!announced[k] && w.requests[k].t_ms > r.start_ms) ticker.instants.push_back(w.requests[k].t_ms);
    if (period > 0 || !ticker.instants.empty()) {
      ticker.first_ms = next_tick;
      ticker.period_ms = period;
      double periodic = next_tick;
      ticker.at = [&](double t) {
        for (std::size_t k = i + 1; k < n && w.requests[k].t_ms <= t; ++k) {
          if (announced[k] || !g.wants_arrivals()) continue;
          announced[k] = true;
          const sim::Request& a = w.requests[k];
          const Decision ad{k,
                            a.model,
                            t,
                            a.t_ms,
                            a.deadline_ms,
                            a.deadline_ms - (t - a.t_ms),
                            s.temperature_c(),
                            s.thermal_cap(),
                            a.ctx,
                            a.phase};
          if (auto c = timed([&] { return g.arrive(ad); })) pins.pin(*c);
        }
        if (period > 0 && t >= periodic) {
          ++out.ticks;
          if (auto c = timed([&] { return g.tick(t, true); })) pins.pin(*c);
          while (periodic <= t) periodic += period;
        }
      };
      x = s.run(board.truth_name(q), r.start_ms, ticker);
    } else {
      x = s.run(board.truth_name(q), r.start_ms);
    }
    sim::record_inference(r, x);
    if (period > 0)
      while (next_tick <= r.finish_ms) next_tick += period;  // the ticks inside ran in the simulator
    Outcome oc{i,           q.model, r.start_ms, r.latency_ms,  r.response_ms, r.deadline_ms,
               r.budget_ms, r.met,   r.energy_j, r.avg_power_w, x.effective,   x.temperature_c};
    g.observe(oc);
    s.observe(r.finish_ms);
    idle = g.idle(r.finish_ms);
    free_at = r.finish_ms;
    out.temperature_c.push_back(x.temperature_c);
    out.records.push_back(std::move(r));
  }
  out.summary = sim::summarize(out.records);
  out.tree_writes = pins.writes();
  out.max_temperature_c = s.max_temperature_c();
  out.throttle_engagements = s.throttle_engagements();
  return out;
}

}  // namespace flame::eval
