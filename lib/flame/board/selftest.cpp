#include "flame/board/selftest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "flame/board/detail/text.hpp"

namespace flame::board {

namespace {

const char* unit(DomainKind k) {
  return k == DomainKind::Cpu ? "kHz" : "Hz";
}

std::string health_text(const DomainHealth& h) {
  return std::string(to_string(h.status)) + (h.reason.empty() ? "" : ": " + h.reason);
}

std::optional<std::uint64_t> pinned_at(std::uint64_t min, std::uint64_t max) {
  return min == max ? std::optional<std::uint64_t>(max) : std::nullopt;
}

class Runner {
 public:
  Runner(Controller& c, const SelftestOptions& o, const SelftestClock& k, SelftestReport& r)
      : c_(c), o_(o), k_(k), r_(r) {}

  void run() {
    cpu();
    gpu();
    emc();
  }

 private:
  void cpu() {
    std::vector<SelftestDomain*> writable;
    const CpuPolicy* first = nullptr;
    for (const auto& p : c_.board().cpu) {
      SelftestDomain& d = add({DomainKind::Cpu, p.name});
      if (p.health.status == DomainStatus::Offline) {
        // Cores online are nvpmodel's (docs/board-io.md): an offline cluster is not ours to test.
        d.verdict = Verdict::Skipped;
        d.reason = health_text(p.health);
      } else if (!p.health.writable()) {
        d.reason = health_text(p.health);
      } else {
        writable.push_back(&d);
        if (!first) first = &p;
      }
    }
    if (!first) return;
    const std::string name = first->name;
    const auto pinned = pinned_at(first->min_khz, first->max_khz);
    step(writable, [&]() -> std::optional<ClockRequest> {
      // One request for every policy (ClockRequest's unit); the others round it up to their tables.
      const auto t = target({DomainKind::Cpu, name}, pinned, writable);
      if (!t) return std::nullopt;
      ClockRequest req;
      req.cpu_khz = *t;
      return req;
    });
  }

  void gpu() {
    const GpuDevice& g0 = c_.board().gpu;
    SelftestDomain& d = add({DomainKind::Gpu, g0.name.empty() ? "gpu" : g0.name});
    if (g0.health.status != DomainStatus::Deferred && !g0.health.writable()) {
      d.reason = health_text(g0.health);
      return;
    }
    SelftestDomain* dp = &d;
    step({dp}, [&]() -> std::optional<ClockRequest> {
      if (c_.board().gpu.health.status == DomainStatus::Deferred) {
        // As `flame board set` does: power it up once; railgate_enable goes into the baseline first.
        const auto w = c_.wake_gpu();
        if (!w.message.empty()) r_.notes.push_back("gpu: " + w.message);
      }
      const GpuDevice& g = c_.board().gpu;
      dp->domain.name = g.name.empty() ? "gpu" : g.name;
      if (!g.health.writable()) {
        dp->reason = health_text(g.health);
        return std::nullopt;
      }
      const auto t = target(dp->domain, pinned_at(g.min_hz, g.max_hz), {dp});
      if (!t) return std::nullopt;
      ClockRequest req;
      req.gpu_hz = *t;
      return req;
    });
  }

  void emc() {
    const EmcClock& e = c_.board().emc;
    SelftestDomain& d = add({DomainKind::Emc, "emc"});
    if (!e.health.writable()) {
      d.reason = health_text(e.health);
      return;
    }
    const auto pinned = e.locked ? std::optional<std::uint64_t>(e.rate_hz) : std::nullopt;
    SelftestDomain* dp = &d;
    step({dp}, [&]() -> std::optional<ClockRequest> {
      const auto t = target(dp->domain, pinned, {dp});
      if (!t) return std::nullopt;
      ClockRequest req;
      req.emc_hz = *t;
      return req;
    });
  }

  SelftestDomain& add(const DomainRef& ref) {
    SelftestDomain d;
    d.domain = ref;
    r_.domains.push_back(d);
    return r_.domains.back();
  }

  std::optional<std::uint64_t> target(const DomainRef& ref, std::optional<std::uint64_t> pinned,
                                      const std::vector<SelftestDomain*>& ds) {
    const auto b = c_.bounds(ref);
    const auto t = b ? mid_target(*b, pinned) : std::nullopt;
    if (!t)
      for (auto* d : ds) d->reason = "no frequency lies within its bounds (table, nvpmodel caps, limits)";
    return t;
  }

  // Pins the request, waits for the domains to settle and restores, whatever happens in between.
  void step(const std::vector<SelftestDomain*>& ds,
            const std::function<std::optional<ClockRequest>()>& make) {
    if (!r_.restored) {
      for (auto* d : ds) d->reason = "not tested: restoring the previous domain was incomplete";
      return;
    }
    try {
      if (const auto req = make()) pin_and_settle(*req, ds);
    } catch (const std::exception& e) {
      for (auto* d : ds) {
        d->verdict = Verdict::Fail;
        d->reason = std::string("error: ") + e.what();
      }
    }
    restore(ds);
  }

  void pin_and_settle(const ClockRequest& req, const std::vector<SelftestDomain*>& ds) {
    const double t0 = k_.now_s();
    const ApplyReport ap = c_.set(req);
    for (const auto& n : ap.notes) r_.notes.push_back(n);
    std::vector<SelftestDomain*> waiting;
    for (auto* d : ds) {
      const DomainResult* res = ap.find(d->domain.id());
      if (!res) {
        d->reason = "the writer did not reach it";
        continue;
      }
      d->outcome = to_string(res->outcome);
      d->target = res->target;
      d->read_back = res->actual;
      if (res->outcome == Outcome::Applied || res->outcome == Outcome::Unchanged) {
        d->reason = res->message;  // e.g. the rate BPMP rounded to
        waiting.push_back(d);
      } else {
        d->reason = std::string(to_string(res->outcome)) + (res->message.empty() ? "" : ": " + res->message);
      }
    }
    settle(waiting, t0);
  }

  std::string current_path(const DomainRef& ref) const {
    const Board& b = c_.board();
    switch (ref.kind) {
      case DomainKind::Cpu:
        if (const auto* p = b.policy(ref.name)) return join(p->dir, "scaling_cur_freq");
        return "";
      case DomainKind::Gpu:
        return b.gpu.devfreq_dir.empty() ? "" : join(b.gpu.devfreq_dir, "cur_freq");
      case DomainKind::Emc:
        return b.emc.rate_path;
    }
    return "";
  }

  // Polls every domain's current clock until it agrees with its read-back, or the timeout passes.
  void settle(const std::vector<SelftestDomain*>& ds, double t0) {
    std::vector<SelftestDomain*> waiting = ds;
    for (;;) {
      const double now = k_.now_s();
      std::vector<SelftestDomain*> still;
      for (auto* d : waiting) {
        const std::string path = current_path(d->domain);
        const auto r = c_.io().read(path);
        d->current = r.ok() ? parse_u64(r.text) : std::nullopt;
        const double want = static_cast<double>(d->read_back);
        if (d->current && std::abs(static_cast<double>(*d->current) - want) <= o_.tolerance * want) {
          d->settled = true;
          d->settle_s = now - t0;
          d->verdict = Verdict::Pass;
        } else {
          still.push_back(d);
        }
      }
      waiting.swap(still);
      if (waiting.empty()) return;
      if (now - t0 >= o_.settle_timeout_s) break;
      k_.sleep_s(o_.poll_interval_s);
    }
    for (auto* d : waiting) {
      d->settle_s = k_.now_s() - t0;
      const std::string path = current_path(d->domain);
      d->reason = fmt::format(
          "did not settle within {:g} s: {} reads {} (read back {} {}); something else may be limiting it: "
          "nvpmodel, thermal or power throttling, another clock tool",
          o_.settle_timeout_s, path, d->current ? std::to_string(*d->current) : "nothing readable",
          d->read_back, unit(d->domain.kind));
    }
  }

  void restore(const std::vector<SelftestDomain*>& ds) {
    auto mark = [&](bool ok, const std::string& why) {
      for (auto* d : ds) {
        d->restored = ok;
        if (ok) continue;
        d->verdict = Verdict::Fail;
        d->reason += (d->reason.empty() ? "" : "; ") + why;
      }
    };
    try {
      const RestoreReport rr = c_.restore();
      if (rr.ok()) {
        mark(true, "");
        return;
      }
      r_.restored = false;
      r_.notes.push_back("restore incomplete (run `flame board restore`):\n" + to_text(rr));
      mark(false, "not restored");
    } catch (const std::exception& e) {
      r_.restored = false;
      r_.notes.push_back(std::string("restore failed (run `flame board restore`): ") + e.what());
      mark(false, "not restored");
    }
  }

  Controller& c_;
  const SelftestOptions& o_;
  const SelftestClock& k_;
  SelftestReport& r_;
};

}  // namespace

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    case Verdict::Skipped:
      return "skipped";
  }
  return "?";
}

bool SelftestReport::passed() const {
  bool any = false;
  for (const auto& d : domains) {
    if (d.verdict == Verdict::Fail || (d.verdict == Verdict::Pass && !d.restored)) return false;
    any = any || d.verdict == Verdict::Pass;
  }
  return any && restored;
}

std::optional<std::uint64_t> mid_target(const FrequencyBounds& b, std::optional<std::uint64_t> pinned) {
  if (b.floor > b.ceiling) return std::nullopt;
  if (b.table.empty()) {
    std::uint64_t v = b.floor + (b.ceiling - b.floor) / 2;
    if (pinned == v && b.ceiling > b.floor) v = b.floor + (b.ceiling - b.floor) / 4;
    return v;
  }
  std::vector<std::uint64_t> allowed;
  for (auto f : b.table)
    if (f >= b.floor && f <= b.ceiling) allowed.push_back(f);
  if (allowed.empty()) return std::nullopt;
  std::size_t i = allowed.size() / 2;
  if (pinned == allowed[i] && allowed.size() > 1) --i;
  return allowed[i];
}

SelftestReport run_selftest(Controller& c, const SelftestOptions& opts, const SelftestClock& clock) {
  if (c.has_baseline())
    throw SelftestError(
        fmt::format("{} holds clocks changed earlier (by {}) and not yet restored; run `flame board restore` "
                    "first",
                    c.baseline_file(), c.baseline()->owner));
  SelftestReport r;
  const Board& b = c.board();
  r.sysfs_root = b.sysfs_root;
  r.model = b.identity.model;
  r.soc = b.identity.soc;
  r.l4t = b.identity.l4t;
  r.options = opts;
  // Domains are added to r.domains while steps hold pointers to them: no reallocation.
  r.domains.reserve(b.cpu.size() + 2);
  Runner(c, opts, clock, r).run();
  return r;
}

nlohmann::json to_json(const SelftestReport& r) {
  auto domains = nlohmann::json::array();
  for (const auto& d : r.domains) {
    nlohmann::json j = {
        {"id", d.domain.id()},
        {"kind", to_string(d.domain.kind)},
        {"unit", unit(d.domain.kind)},
        {"result", to_string(d.verdict)},
        {"reason", d.reason},
        {"outcome", d.outcome},
        {"target", d.target},
        {"read_back", d.read_back},
        {"current", d.current ? nlohmann::json(*d.current) : nlohmann::json(nullptr)},
        {"settled", d.settled},
        {"settle_ms", std::round(d.settle_s * 1e4) / 10},
        {"restored", d.restored},
    };
    domains.push_back(std::move(j));
  }
  return {
      {"format", "flame-board-selftest"},
      {"passed", r.passed()},
      {"sysfs_root", r.sysfs_root},
      {"board", {{"model", r.model}, {"soc", r.soc}, {"l4t", r.l4t}}},
      {"settle_timeout_s", r.options.settle_timeout_s},
      {"tolerance", r.options.tolerance},
      {"restored", r.restored},
      {"domains", domains},
      {"notes", r.notes},
  };
}

std::string to_text(const SelftestReport& r) {
  std::string o =
      fmt::format("board: {} ({}, {}), sysfs root {}\n", r.model.empty() ? "unknown" : r.model,
                  r.soc.empty() ? "soc unknown" : r.soc, r.l4t.empty() ? "L4T unknown" : r.l4t, r.sysfs_root);
  std::size_t pass = 0, fail = 0, skipped = 0;
  for (const auto& d : r.domains) {
    o += fmt::format("{:<20} {:<7}", d.domain.id(), to_string(d.verdict));
    if (!d.outcome.empty()) {
      const char* u = unit(d.domain.kind);
      o += fmt::format(" target {} {}, read back {} {}", d.target, u, d.read_back, u);
      if (d.current) o += fmt::format(", current {} {}", *d.current, u);
      o += d.settled ? fmt::format(", settled in {:.1f} ms", d.settle_s * 1e3) : ", not settled";
      if (d.restored) o += ", restored";
    }
    if (!d.reason.empty()) o += (d.outcome.empty() ? " " : ": ") + d.reason;
    o += "\n";
    pass += d.verdict == Verdict::Pass;
    fail += d.verdict == Verdict::Fail;
    skipped += d.verdict == Verdict::Skipped;
  }
  for (const auto& n : r.notes) o += "note: " + n + "\n";
  o += fmt::format("selftest: {} ({} passed, {} failed, {} skipped{})\n", r.passed() ? "PASS" : "FAIL", pass,
                   fail, skipped, r.restored ? "; every clock restored" : "; clocks NOT fully restored");
  return o;
}

}  // namespace flame::board
