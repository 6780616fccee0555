#include "flame/board/detail/clock_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "flame/board/detail/nvpmodel.hpp"
#include "flame/board/detail/text.hpp"

namespace flame::board {

const char* to_string(DomainKind k) {
  switch (k) {
    case DomainKind::Cpu:
      return "cpu";
    case DomainKind::Gpu:
      return "gpu";
    case DomainKind::Emc:
      return "emc";
  }
  return "?";
}

std::string DomainRef::id() const {
  if (kind == DomainKind::Emc) return "emc";
  return std::string(to_string(kind)) + ":" + name;
}

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::Unchanged:
      return "unchanged";
    case Outcome::Planned:
      return "planned";
    case Outcome::Applied:
      return "applied";
    case Outcome::Mismatch:
      return "mismatch";
    case Outcome::Skipped:
      return "skipped";
    case Outcome::Dropped:
      return "dropped";
    case Outcome::Failed:
      return "failed";
  }
  return "?";
}

ClockRequest ClockRequest::from(const Clocks& c) {
  ClockRequest r;
  auto u = [](double v) { return static_cast<std::uint64_t>(std::llround(v)); };
  if (c.cpu_khz > 0) r.cpu_khz = u(c.cpu_khz);
  if (c.gpu_hz > 0) r.gpu_hz = u(c.gpu_hz);
  if (c.emc_hz > 0) r.emc_hz = u(c.emc_hz);
  return r;
}

bool ApplyReport::ok() const {
  for (const auto& d : domains)
    if (d.outcome == Outcome::Mismatch || d.outcome == Outcome::Dropped || d.outcome == Outcome::Failed)
      return false;
  return true;
}

std::size_t ApplyReport::write_count() const {
  std::size_t n = 0;
  for (const auto& d : domains) n += d.writes.size();
  return n;
}

const DomainResult* ApplyReport::find(const std::string& domain_id) const {
  for (const auto& d : domains)
    if (d.domain.id() == domain_id) return &d;
  return nullptr;
}

nlohmann::json to_json(const ApplyReport& r) {
  nlohmann::json j{{"ok", r.ok()}, {"writes", r.write_count()}, {"notes", r.notes}};
  j["domains"] = nlohmann::json::array();
  for (const auto& d : r.domains) {
    nlohmann::json dj{{"domain", d.domain.id()},
                      {"outcome", to_string(d.outcome)},
                      {"requested", d.requested},
                      {"target", d.target},
                      {"actual", d.actual}};
    if (d.error != ErrorClass::None) dj["error"] = to_string(d.error);
    if (!d.message.empty()) dj["message"] = d.message;
    dj["writes"] = nlohmann::json::array();
    for (const auto& w : d.writes) {
      nlohmann::json wj{{"path", w.path}, {"value", w.value}};
      if (w.error) wj["error"] = errno_name(w.error);
      if (w.attempts > 1) wj["attempts"] = w.attempts;
      dj["writes"].push_back(wj);
    }
    if (d.outcome == Outcome::Planned) {
      dj["planned"] = nlohmann::json::array();
      for (const auto& w : d.planned) dj["planned"].push_back({{"path", w.path}, {"value", w.value}});
    }
    j["domains"].push_back(dj);
  }
  return j;
}

std::string to_text(const ApplyReport& r) {
  std::string o;
  for (const auto& d : r.domains) {
    o += fmt::format("{:<20} {:<9}", d.domain.id(), to_string(d.outcome));
    if (d.target) o += fmt::format(" target {}", d.target);
    if (d.requested && d.requested != d.target) o += fmt::format(" (requested {})", d.requested);
    if (d.outcome == Outcome::Applied || d.outcome == Outcome::Mismatch)
      o += fmt::format(" read back {}", d.actual);
    if (!d.writes.empty()) o += fmt::format(", {} write{}", d.writes.size(), d.writes.size() == 1 ? "" : "s");
    if (!d.message.empty()) o += ": " + d.message;
    o += "\n";
    if (d.outcome == Outcome::Planned)
      for (const auto& w : d.planned) o += fmt::format("    would write {} <- {}\n", w.path, w.value);
  }
  for (const auto& n : r.notes) o += "note: " + n + "\n";
  return o;
}

namespace {

std::optional<std::uint64_t> read_u64(FileAccess& io, const std::string& path, int* err = nullptr) {
  auto r = io.read(path);
  if (err) *err = r.error;
  if (!r.ok()) return std::nullopt;
  auto v = parse_u64(r.text);
  if (!v && err) *err = EINVAL;
  return v;
}

struct RangeFiles {
  std::string min_path;
  std::string max_path;
};

}  // namespace

ClockWriter::ClockWriter(Board& board, SysfsRoot root, FileAccess& io, WriterOptions opts)
    : board_(board), root_(std::move(root)), io_(io), opts_(opts), nvpmodel_status_(board.nvpmodel.status) {}

DomainHealth* ClockWriter::health(const DomainRef& d) {
  switch (d.kind) {
    case DomainKind::Cpu:
      for (auto& p : board_.cpu)
        if (p.name == d.name) return &p.health;
      return nullptr;
    case DomainKind::Gpu:
      return &board_.gpu.health;
    case DomainKind::Emc:
      return &board_.emc.health;
  }
  return nullptr;
}

void ClockWriter::mark_failure(const DomainRef& d, int err, DomainResult& r) {
  r.error = classify(err);
  DomainHealth* h = health(d);
  switch (r.error) {
    case ErrorClass::DomainGone:
      r.outcome = Outcome::Failed;
      if (h)
        *h = {DomainStatus::Unavailable, "vanished: " + errno_name(err) + " (rediscover to use it again)"};
      break;
    case ErrorClass::NotPermitted:
      r.outcome = Outcome::Failed;
      if (h) *h = {DomainStatus::ObserveOnly, "write refused: " + errno_name(err)};
      break;
    case ErrorClass::Invalid:
      r.outcome = Outcome::Dropped;  // a bad value or an offline policy; the domain stays usable
      break;
    default:
      r.outcome = Outcome::Failed;
      break;
  }
  if (r.message.empty()) r.message = errno_name(err);
  spdlog::warn("board: {}: {} ({})", d.id(), r.message, to_string(r.error));
}

void ClockWriter::check_nvpmodel(ApplyReport& report) {
  auto now =
      io_.read(board_.nvpmodel.status_path.empty() ? kNvpmodelStatusPath : board_.nvpmodel.status_path);
  const std::string status = now.ok() ? std::string(trim(now.text)) : "";
  if (status == nvpmodel_status_) return;
  const std::string old = nvpmodel_status_;
  nvpmodel_status_ = status;
  auto caps = read_nvpmodel_caps(root_, io_);
  board_.nvpmodel.status = caps.status;
  board_.nvpmodel.mode_id = caps.mode_id;
  board_.nvpmodel.mode_name = caps.mode_name;
  board_.nvpmodel.emc_iso_cap_hz = caps.emc_iso_cap_hz;
  board_.nvpmodel.emc_max_hz = caps.emc_max_hz;
  for (auto& p : board_.cpu) {
    auto it = caps.max_by_dir.find(p.dir);
    p.nvpmodel_max_khz = it == caps.max_by_dir.end() ? std::nullopt : std::optional(it->second);
  }
  auto it = caps.max_by_dir.find(board_.gpu.devfreq_dir);
  board_.gpu.nvpmodel_max_hz = it == caps.max_by_dir.end() ? std::nullopt : std::optional(it->second);
  // nvpmodel just rewrote min/max: the values in place now are the new ceilings, not our old ones.
  reference_max_.clear();
  report.notes.push_back(
      fmt::format("nvpmodel status changed ('{}' -> '{}'): ceilings re-read", old, status));
  spdlog::info("board: nvpmodel status changed ('{}' -> '{}'), re-reading ceilings", old, status);
  if (nvpmodel_changed_) nvpmodel_changed_(old, status);
}

std::optional<FrequencyBounds> ClockWriter::bounds(const DomainRef& d) {
  switch (d.kind) {
    case DomainKind::Cpu: {
      const CpuPolicy* p = board_.policy(d.name);
      if (!p) return std::nullopt;
      std::optional<std::uint64_t> ref;
      if (auto it = reference_max_.find(d.id()); it != reference_max_.end())
        ref = it->second;
      else
        ref = read_u64(io_, join(p->dir, "scaling_max_freq"));
      return make_bounds(p->cpuinfo_min_khz, p->cpuinfo_max_khz, p->available_khz, {p->nvpmodel_max_khz, ref},
                         opts_.limits.cpu_khz);
    }
    case DomainKind::Gpu: {
      const GpuDevice& g = board_.gpu;
      if (g.available_hz.empty()) return std::nullopt;
      std::optional<std::uint64_t> ref;
      if (auto it = reference_max_.find(d.id()); it != reference_max_.end())
        ref = it->second;
      else
        ref = read_u64(io_, join(g.devfreq_dir, "max_freq"));
      return make_bounds(g.available_hz.front(), g.available_hz.back(), g.available_hz,
                         {g.nvpmodel_max_hz, ref}, opts_.limits.gpu_hz);
    }
    case DomainKind::Emc: {
      const EmcClock& e = board_.emc;
      std::optional<std::uint64_t> iso;
      if (!board_.nvpmodel.emc_iso_cap_path.empty()) iso = read_u64(io_, board_.nvpmodel.emc_iso_cap_path);
      auto hw_max = read_u64(io_, e.max_path).value_or(e.max_hz);
      return make_bounds(e.min_hz, hw_max, e.available_hz, {iso, board_.nvpmodel.emc_max_hz},
                         opts_.limits.emc_hz);
    }
  }
  return std::nullopt;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> ClockWriter::read_both(const DomainRef& d,
                                                                              const std::string& first,
                                                                              const std::string& second,
                                                                              const char* what,
                                                                              DomainResult& r) {
  int err = 0;
  const auto a = read_u64(io_, first, &err);
  const auto b = a ? read_u64(io_, second, &err) : std::nullopt;
  if (a && b) return std::pair{*a, *b};
  r.message = fmt::format("cannot read {}: {}", what, errno_name(err));
  mark_failure(d, err, r);
  return std::nullopt;
}

std::optional<std::uint64_t> ClockWriter::target_within_bounds(const DomainRef& d,
                                                               const std::optional<FrequencyBounds>& b,
                                                               std::optional<std::uint64_t> value, bool max,
                                                               const char* noun, DomainResult& r) {
  std::optional<std::uint64_t> target;
  if (b) target = value ? clamp_frequency(*value, *b) : (max ? highest_frequency(*b) : std::nullopt);
  if (!target) {
    r.outcome = Outcome::Dropped;
    r.error = ErrorClass::Invalid;
    r.message = b ? fmt::format("no {} allowed within [{}, {}]", noun, b->floor, b->ceiling) : "no bounds";
    spdlog::warn("board: {}: target dropped: {}", d.id(), r.message);
    return std::nullopt;
  }
  r.target = *target;
  return target;
}

bool ClockWriter::stops_before_writing(const DomainRef& d, bool dry_run, DomainResult& r) {
  if (dry_run) {
    r.outcome = Outcome::Planned;
    return true;
  }
  if (before_write_ && !before_write_(d)) {
    r.outcome = Outcome::Failed;
    r.message = "baseline could not be saved; not writing";
    return true;
  }
  return false;
}

DomainResult ClockWriter::apply_range(const DomainRef& d, std::optional<std::uint64_t> value, bool max,
                                      bool dry_run) {
  DomainResult r;
  r.domain = d;
  r.requested = value.value_or(0);
  DomainHealth* h = health(d);
  if (!h || !h->writable()) {
    r.outcome = Outcome::Skipped;
    r.message = h ? std::string(to_string(h->status)) + (h->reason.empty() ? "" : ": " + h->reason)
                  : "unknown domain";
    return r;
  }
  RangeFiles f;
  if (d.kind == DomainKind::Cpu) {
    const std::string dir = board_.policy(d.name)->dir;
    f = {join(dir, "scaling_min_freq"), join(dir, "scaling_max_freq")};
  } else {
    f = {join(board_.gpu.devfreq_dir, "min_freq"), join(board_.gpu.devfreq_dir, "max_freq")};
  }

  const auto cur = read_both(d, f.min_path, f.max_path, "current min/max", r);
  if (!cur) return r;
  const auto [cur_lo, cur_hi] = *cur;
  if (!reference_max_.count(d.id())) reference_max_[d.id()] = cur_hi;  // pre-write ceiling

  const auto target = target_within_bounds(d, bounds(d), value, max, "frequency", r);
  if (!target) return r;
  r.planned = plan_range(f.min_path, f.max_path, cur_lo, cur_hi, *target, *target);
  if (r.planned.empty()) {
    r.outcome = Outcome::Unchanged;
    r.actual = *target;
    return r;
  }
  if (stops_before_writing(d, dry_run, r)) return r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto recs = execute_writes(io_, r.planned, opts_.retry);
    r.writes.insert(r.writes.end(), recs.begin(), recs.end());
    if (const auto* bad = first_failure(recs)) {
      r.message = fmt::format("write {} <- {}: {}", bad->path, bad->value, errno_name(bad->error));
      mark_failure(d, bad->error, r);
      return r;
    }
    auto lo = read_u64(io_, f.min_path);
    auto hi = read_u64(io_, f.max_path);
    if (lo && hi && *lo == *target && *hi == *target) {
      r.outcome = Outcome::Applied;
      r.actual = *target;
      r.message.clear();
      return r;
    }
    r.actual = lo.value_or(0);
    r.message = fmt::format("read back min {} max {}", lo ? std::to_string(*lo) : "?",
                            hi ? std::to_string(*hi) : "?");
    if (!lo || !hi) break;
    // A stale QoS request (5.10+) can hide behind equal effective values; rewrite both, in order.
    r.planned = plan_range(f.min_path, f.max_path, *lo, *hi, *target, *target, /*force=*/true);
  }
  r.outcome = Outcome::Mismatch;
  spdlog::warn("board: {}: {} after writing {}", d.id(), r.message, *target);
  return r;
}

DomainResult ClockWriter::apply_emc(std::optional<std::uint64_t> value, bool max, bool dry_run) {
  const DomainRef d{DomainKind::Emc, "emc"};
  DomainResult r;
  r.domain = d;
  r.requested = value.value_or(0);
  EmcClock& e = board_.emc;
  if (!e.health.writable()) {
    r.outcome = Outcome::Skipped;
    r.message =
        std::string(to_string(e.health.status)) + (e.health.reason.empty() ? "" : ": " + e.health.reason);
    return r;
  }
  const auto lock_rate = read_both(d, e.lock_path, e.rate_path, "EMC lock/rate", r);
  if (!lock_rate) return r;
  const auto [lock, rate] = *lock_rate;
  const auto b = bounds(d);
  const auto target = target_within_bounds(d, b, value, max, "rate", r);
  if (!target) return r;
  // Without a rate table BPMP rounds to a supported rate; remember what it did so a repeat request is
  // recognised as unchanged instead of rewritten every time.
  const auto known = emc_rounding_.find(*target);
  const std::uint64_t expect = known != emc_rounding_.end() ? known->second : *target;
  const bool locked = lock != 0;
  if (locked && rate == expect) {
    r.outcome = Outcome::Unchanged;
    r.actual = rate;
    return r;
  }
  r.planned = plan_emc_rate(e.lock_path, e.rate_write_path, locked, rate, *target);
  if (stops_before_writing(d, dry_run, r)) return r;
  r.writes = execute_writes(io_, r.planned, opts_.retry);
  if (const auto* bad = first_failure(r.writes)) {
    r.message = fmt::format("write {} <- {}: {}", bad->path, bad->value, errno_name(bad->error));
    mark_failure(d, bad->error, r);
    return r;
  }
  auto lock_now = read_u64(io_, e.lock_path);
  auto rate_now = read_u64(io_, e.rate_path);
  r.actual = rate_now.value_or(0);
  if (!lock_now || *lock_now == 0 || !rate_now) {
    r.outcome = Outcome::Mismatch;
    r.message = "EMC lock did not take effect";
  } else if (*rate_now == *target) {
    r.outcome = Outcome::Applied;
  } else if (e.available_hz.empty() && *rate_now >= e.min_hz && (!b || *rate_now <= b->ceiling)) {
    r.outcome = Outcome::Applied;
    r.message = fmt::format("BPMP set the nearest supported rate, {}", *rate_now);
    emc_rounding_[*target] = *rate_now;
  } else {
    r.outcome = Outcome::Mismatch;
    r.message = fmt::format("read back rate {}", *rate_now);
  }
  if (r.outcome == Outcome::Mismatch) spdlog::warn("board: emc: {} after writing {}", r.message, *target);
  return r;
}

ApplyReport ClockWriter::apply(const ClockRequest& req, bool dry_run) {
  ApplyReport report;
  check_nvpmodel(report);
  if (req.cpu_khz || req.max)
    for (const auto& p : board_.cpu)
      report.domains.push_back(apply_range({DomainKind::Cpu, p.name}, req.cpu_khz, req.max, dry_run));
  // A GPU without a devfreq device has no name yet; report it as plain "gpu".
  const DomainRef gpu{DomainKind::Gpu, board_.gpu.name.empty() ? "gpu" : board_.gpu.name};
  if (req.gpu_hz || (req.max && !board_.gpu.devfreq_dir.empty()))
    report.domains.push_back(apply_range(gpu, req.gpu_hz, req.max, dry_run));
  if (req.emc_hz || req.max) report.domains.push_back(apply_emc(req.emc_hz, req.max, dry_run));
  return report;
}

}  // namespace flame::board
