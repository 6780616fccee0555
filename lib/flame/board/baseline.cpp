#include "flame/board/baseline.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "flame/board/detail/clamp.hpp"
#include "flame/board/detail/text.hpp"
#include "flame/board/detail/write_plan.hpp"
#include "flame/io/atomic_write.hpp"

namespace flame::board {

const SavedAttribute* SavedDomain::attribute(const std::string& role) const {
  for (const auto& a : attributes)
    if (a.role == role) return &a;
  return nullptr;
}

SavedAttribute* SavedDomain::attribute(const std::string& role) {
  for (auto& a : attributes)
    if (a.role == role) return &a;
  return nullptr;
}

const SavedDomain* Baseline::find(const std::string& id) const {
  for (const auto& d : domains)
    if (d.id == id) return &d;
  return nullptr;
}

nlohmann::json to_json(const Baseline& b) {
  nlohmann::json j{{"format", "flame-baseline"},
                   {"version", b.version},
                   {"created_at", b.created_at},
                   {"pid", b.pid},
                   {"owner", b.owner},
                   {"sysfs_root", b.sysfs_root},
                   {"board", {{"model", b.board_model}, {"soc", b.soc}, {"l4t", b.l4t}}},
                   {"nvpmodel",
                    {{"status", b.nvpmodel_status},
                     {"status_path", b.nvpmodel_status_path},
                     {"emc_iso_cap_path", b.emc_iso_cap_path}}}};
  j["domains"] = nlohmann::json::array();
  for (const auto& d : b.domains) {
    nlohmann::json dj{{"id", d.id}, {"kind", d.kind}, {"dir", d.dir}, {"bounds", d.bounds}};
    dj["attributes"] = nlohmann::json::array();
    for (const auto& a : d.attributes) {
      nlohmann::json aj{{"role", a.role}, {"path", a.path}, {"value", a.value}};
      if (!a.write_path.empty()) aj["write_path"] = a.write_path;
      dj["attributes"].push_back(aj);
    }
    j["domains"].push_back(dj);
  }
  return j;
}

Baseline baseline_from_json(const nlohmann::json& j) {
  auto fail = [](const std::string& what) { throw std::runtime_error("malformed baseline: " + what); };
  if (!j.is_object() || j.value("format", "") != "flame-baseline")
    fail("not a flame baseline (format field)");
  Baseline b;
  b.version = j.value("version", 0);
  if (b.version != kBaselineVersion)
    fail(fmt::format("version {} is not supported (expected {})", b.version, kBaselineVersion));
  try {
    b.created_at = j.value("created_at", "");
    b.pid = j.value("pid", 0);
    b.owner = j.value("owner", "");
    b.sysfs_root = j.at("sysfs_root").get<std::string>();
    if (j.contains("board")) {
      b.board_model = j["board"].value("model", "");
      b.soc = j["board"].value("soc", "");
      b.l4t = j["board"].value("l4t", "");
    }
    if (j.contains("nvpmodel")) {
      b.nvpmodel_status = j["nvpmodel"].value("status", "");
      b.nvpmodel_status_path = j["nvpmodel"].value("status_path", "");
      b.emc_iso_cap_path = j["nvpmodel"].value("emc_iso_cap_path", "");
    }
    for (const auto& dj : j.at("domains")) {
      SavedDomain d;
      d.id = dj.at("id").get<std::string>();
      d.kind = dj.at("kind").get<std::string>();
      d.dir = dj.value("dir", "");
      if (d.kind != "cpu" && d.kind != "gpu" && d.kind != "emc" && d.kind != kGpuPowerKind)
        fail("unknown domain kind '" + d.kind + "'");
      if (dj.contains("bounds")) d.bounds = dj["bounds"].get<std::map<std::string, std::string>>();
      for (const auto& aj : dj.at("attributes")) {
        SavedAttribute a;
        a.role = aj.at("role").get<std::string>();
        a.path = aj.at("path").get<std::string>();
        a.write_path = aj.value("write_path", "");
        a.value = aj.at("value").get<std::string>();
        if (a.path.empty() || a.path.front() != '/')
          fail("attribute path must be absolute: '" + a.path + "'");
        d.attributes.push_back(std::move(a));
      }
      b.domains.push_back(std::move(d));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(e.what());
  }
  return b;
}

std::string baseline_path(const std::string& runtime_dir) {
  return join(runtime_dir, "baseline.json");
}

namespace {

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void save_baseline(const Baseline& b, const std::string& path) {
  io::write_file_atomically(path, to_json(b).dump(2) + "\n");
}

std::optional<Baseline> load_baseline(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw BaselineUnreadable(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  // An ifstream opens a directory and reads nothing: say so rather than "not valid JSON".
  if (std::filesystem::is_directory(path))
    throw BaselineUnreadable(fmt::format("cannot read {}: {}", path, std::strerror(EISDIR)));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw BaselineUnreadable(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  try {
    return baseline_from_json(j);
  } catch (const std::exception& e) {
    throw BaselineUnreadable(fmt::format("{}: {}", path, e.what()));
  }
}

void remove_baseline(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(fmt::format("cannot remove {}: {}", path, std::strerror(errno)));
  // Best effort: the file is gone either way; the directory fsync makes the removal durable.
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  io::posix_file_calls().sync_directory(dir.empty() ? "." : dir.c_str());
}

Baseline new_baseline(const Board& board, const std::string& owner) {
  Baseline b;
  b.created_at = now_utc();
  b.pid = static_cast<int>(::getpid());
  b.owner = owner;
  b.sysfs_root = board.sysfs_root;
  b.board_model = board.identity.model;
  b.soc = board.identity.soc;
  b.l4t = board.identity.l4t;
  b.nvpmodel_status = board.nvpmodel.status;
  b.nvpmodel_status_path = board.nvpmodel.status_path;
  b.emc_iso_cap_path = board.nvpmodel.emc_iso_cap_path;
  return b;
}

SavedDomain domain_layout(const Board& board, const DomainRef& ref) {
  SavedDomain d;
  d.id = ref.id();
  d.kind = to_string(ref.kind);
  switch (ref.kind) {
    case DomainKind::Cpu: {
      const CpuPolicy* p = board.policy(ref.name);
      if (!p) throw std::runtime_error("unknown cpufreq policy " + ref.name);
      d.dir = p->dir;
      d.attributes = {{"min", join(p->dir, "scaling_min_freq"), "", ""},
                      {"max", join(p->dir, "scaling_max_freq"), "", ""},
                      {"governor", join(p->dir, "scaling_governor"), "", ""}};
      d.bounds = {{"hw_min", join(p->dir, "cpuinfo_min_freq")}, {"hw_max", join(p->dir, "cpuinfo_max_freq")}};
      break;
    }
    case DomainKind::Gpu: {
      const GpuDevice& g = board.gpu;
      d.dir = g.devfreq_dir;
      d.attributes = {{"min", join(g.devfreq_dir, "min_freq"), "", ""},
                      {"max", join(g.devfreq_dir, "max_freq"), "", ""},
                      {"governor", join(g.devfreq_dir, "governor"), "", ""}};
      d.bounds = {{"table", join(g.devfreq_dir, "available_frequencies")}};
      break;
    }
    case DomainKind::Emc: {
      const EmcClock& e = board.emc;
      d.dir = e.dir;
      d.attributes = {{"lock", e.lock_path, "", ""},
                      {"rate", e.rate_path, e.rate_write_path != e.rate_path ? e.rate_write_path : "", ""}};
      d.bounds = {{"hw_min", e.min_path}, {"hw_max", e.max_path}};
      break;
    }
  }
  return d;
}

SavedDomain capture_domain(const Board& board, const DomainRef& ref, FileAccess& io) {
  SavedDomain d = domain_layout(board, ref);
  std::vector<SavedAttribute> read;
  for (auto& a : d.attributes) {
    auto r = io.read(a.path);
    if (!r.ok()) {
      if (a.role == "governor") continue;  // optional: a domain without one restores its limits alone
      throw std::runtime_error(fmt::format("cannot snapshot {}: {}", a.path, errno_name(r.error)));
    }
    a.value = std::string(trim(r.text));
    read.push_back(std::move(a));
  }
  d.attributes = std::move(read);
  return d;
}

SavedDomain capture_gpu_power(const std::string& device_dir, FileAccess& io) {
  SavedDomain d;
  d.id = kGpuPowerKind;
  d.kind = kGpuPowerKind;
  d.dir = device_dir;
  const std::string path = join(device_dir, "railgate_enable");
  auto r = io.read(path);
  if (!r.ok()) throw std::runtime_error(fmt::format("cannot snapshot {}: {}", path, errno_name(r.error)));
  d.attributes.push_back({"railgate", path, "", std::string(trim(r.text))});
  return d;
}

void adopt_nvpmodel_change(Baseline& b, FileAccess& io, const std::string& new_status) {
  for (auto& d : b.domains) {
    if (d.kind != "cpu" && d.kind != "gpu") continue;
    for (const char* role : {"min", "max"}) {
      SavedAttribute* a = d.attribute(role);
      if (!a) continue;
      auto r = io.read(a->path);
      if (r.ok()) a->value = std::string(trim(r.text));
    }
  }
  b.nvpmodel_status = new_status;
}

bool RestoreReport::ok() const {
  for (const auto& d : domains)
    if (d.outcome == Outcome::Failed || d.outcome == Outcome::Mismatch || d.outcome == Outcome::Dropped)
      return false;
  return true;
}

std::size_t RestoreReport::write_count() const {
  std::size_t n = 0;
  for (const auto& d : domains) n += d.writes.size();
  return n;
}

nlohmann::json to_json(const RestoreReport& r) {
  nlohmann::json j{{"ok", r.ok()},         {"had_baseline", r.had_baseline}, {"baseline", r.baseline_path},
                   {"removed", r.removed}, {"writes", r.write_count()},      {"notes", r.notes}};
  if (r.safe) {
    j["safe_restore"] = true;
    j["unreadable"] = r.unreadable;
    j["moved_to"] = r.moved_to;
  }
  j["domains"] = nlohmann::json::array();
  for (const auto& d : r.domains) {
    nlohmann::json dj{{"domain", d.domain}, {"outcome", to_string(d.outcome)}};
    if (!d.message.empty()) dj["message"] = d.message;
    dj["writes"] = nlohmann::json::array();
    for (const auto& w : d.writes) {
      nlohmann::json wj{{"path", w.path}, {"value", w.value}};
      if (w.error) wj["error"] = errno_name(w.error);
      dj["writes"].push_back(wj);
    }
    j["domains"].push_back(dj);
  }
  return j;
}

std::string to_text(const RestoreReport& r) {
  if (!r.had_baseline && !r.safe)
    return fmt::format("nothing to restore: no baseline at {}\n", r.baseline_path);
  std::string o;
  if (r.safe)
    o += fmt::format(
        "baseline unreadable ({}); {}; safe restore (mins to the table minimum, maxes to the "
        "nvpmodel cap, default governors, EMC unlocked):\n",
        r.unreadable, r.moved_to.empty() ? "could not move it aside" : "moved to " + r.moved_to);
  for (const auto& d : r.domains) {
    o += fmt::format("{:<20} {:<9}", d.domain, to_string(d.outcome));
    if (!d.writes.empty()) o += fmt::format(" {} write{}", d.writes.size(), d.writes.size() == 1 ? "" : "s");
    if (!d.message.empty()) o += ": " + d.message;
    o += "\n";
  }
  for (const auto& n : r.notes) o += "note: " + n + "\n";
  if (r.safe)
    o += r.ok() ? "safe restore done\n" : "safe restore incomplete\n";
  else
    o += r.removed ? fmt::format("restored; removed {}\n", r.baseline_path)
                   : fmt::format("restore incomplete; kept {}\n", r.baseline_path);
  return o;
}

namespace {

std::optional<std::uint64_t> read_value(FileAccess& io, const std::string& path, int* err) {
  auto r = io.read(path);
  *err = r.error;
  if (!r.ok()) return std::nullopt;
  auto v = parse_u64(r.text);
  if (!v) *err = EINVAL;
  return v;
}

// Records a failed read or write in `res`; a vanished domain has nothing left to restore.
void note_error(RestoreResult& res, int err, const std::string& what) {
  if (classify(err) == ErrorClass::DomainGone) {
    res.outcome = Outcome::Skipped;
    res.message = fmt::format("{}: {}; the domain is gone, nothing to restore", what, errno_name(err));
  } else {
    res.outcome = Outcome::Failed;
    res.message = fmt::format("{}: {}", what, errno_name(err));
  }
  spdlog::warn("board: restore {}: {}", res.domain, res.message);
}

void restore_range(const SavedDomain& d, FileAccess& io, const RetryPolicy& retry, bool keep_limits,
                   RestoreResult& res) {
  const SavedAttribute* mn = d.attribute("min");
  const SavedAttribute* mx = d.attribute("max");
  if (mn && mx && !keep_limits) {
    auto base_lo = parse_u64(mn->value);
    auto base_hi = parse_u64(mx->value);
    if (!base_lo || !base_hi) {
      res.outcome = Outcome::Failed;
      res.message = "saved min/max are not numbers";
      return;
    }
    // Current hardware bounds: a saved value outside them cannot be written any more.
    FrequencyBounds b;
    int err = 0;
    if (auto it = d.bounds.find("table"); it != d.bounds.end()) {
      auto r = io.read(it->second);
      auto table = r.ok() ? parse_u64_list(r.text) : std::nullopt;
      if (table && !table->empty())
        b = make_bounds(*std::min_element(table->begin(), table->end()),
                        *std::max_element(table->begin(), table->end()), {}, {});
    } else {
      auto lo = d.bounds.count("hw_min") ? read_value(io, d.bounds.at("hw_min"), &err) : std::nullopt;
      auto hi = d.bounds.count("hw_max") ? read_value(io, d.bounds.at("hw_max"), &err) : std::nullopt;
      b = make_bounds(lo.value_or(0), hi.value_or(0), {}, {});
    }
    std::uint64_t hi = clamp_value(*base_hi, b);
    std::uint64_t lo = std::min(clamp_value(*base_lo, b), hi);
    if (lo != *base_lo || hi != *base_hi)
      res.message = fmt::format("saved {}..{} clamped to current bounds {}..{}", *base_lo, *base_hi, lo, hi);

    bool done = false;
    for (int attempt = 0; attempt < 2 && !done; ++attempt) {
      int lo_err = 0, hi_err = 0;
      auto cur_lo = read_value(io, mn->path, &lo_err);
      auto cur_hi = read_value(io, mx->path, &hi_err);
      // A value that reads but does not parse (a write torn by a crash) is overwritten; a file that
      // cannot be read at all is a real failure.
      for (int e : {lo_err, hi_err})
        if (e != 0 && e != EINVAL) return note_error(res, e, "cannot read current min/max");
      if (cur_lo && cur_hi && *cur_lo == lo && *cur_hi == hi) {
        done = true;
        break;
      }
      // Forced on the second pass: a stale QoS request may hide behind the effective values.
      const bool known = cur_lo && cur_hi;
      auto plan = plan_range(mn->path, mx->path, cur_lo.value_or(0), cur_hi.value_or(UINT64_MAX), lo, hi,
                             /*force=*/attempt > 0 || !known);
      auto recs = execute_writes(io, plan, retry);
      res.writes.insert(res.writes.end(), recs.begin(), recs.end());
      if (const auto* bad = first_failure(recs)) return note_error(res, bad->error, "write " + bad->path);
    }
    if (!done) {
      auto cur_lo = read_value(io, mn->path, &err);
      auto cur_hi = cur_lo ? read_value(io, mx->path, &err) : std::nullopt;
      if (!cur_lo || !cur_hi || *cur_lo != lo || *cur_hi != hi) {
        res.outcome = Outcome::Mismatch;
        res.message =
            fmt::format("read back {}..{}, expected {}..{}", cur_lo.value_or(0), cur_hi.value_or(0), lo, hi);
        spdlog::warn("board: restore {}: {}", res.domain, res.message);
        return;
      }
    }
  }
  if (const SavedAttribute* gov = d.attribute("governor")) {
    auto r = io.read(gov->path);
    if (!r.ok()) return note_error(res, r.error, "cannot read " + gov->path);
    if (trim(r.text) != gov->value) {
      auto recs = execute_writes(io, {{gov->path, gov->value}}, retry);
      res.writes.insert(res.writes.end(), recs.begin(), recs.end());
      if (const auto* bad = first_failure(recs)) return note_error(res, bad->error, "write " + bad->path);
    }
  }
  if (!res.writes.empty()) res.outcome = Outcome::Applied;
}

void restore_emc(const SavedDomain& d, const Baseline& b, FileAccess& io, const RetryPolicy& retry,
                 RestoreResult& res) {
  const SavedAttribute* lock = d.attribute("lock");
  const SavedAttribute* rate = d.attribute("rate");
  if (!lock || !rate) {
    res.outcome = Outcome::Failed;
    res.message = "baseline lacks the EMC lock or rate";
    return;
  }
  auto base_lock = parse_u64(lock->value);
  auto base_rate = parse_u64(rate->value);
  if (!base_lock || !base_rate) {
    res.outcome = Outcome::Failed;
    res.message = "saved EMC lock/rate are not numbers";
    return;
  }
  int err = 0;
  auto hw_min = d.bounds.count("hw_min") ? read_value(io, d.bounds.at("hw_min"), &err) : std::nullopt;
  auto hw_max = d.bounds.count("hw_max") ? read_value(io, d.bounds.at("hw_max"), &err) : std::nullopt;
  std::optional<std::uint64_t> iso;
  if (!b.emc_iso_cap_path.empty()) iso = read_value(io, b.emc_iso_cap_path, &err);
  const auto bounds = make_bounds(hw_min.value_or(0), hw_max.value_or(0), {}, {iso});
  const std::uint64_t want = clamp_value(*base_rate, bounds);
  if (want != *base_rate)
    res.message = fmt::format("saved rate {} clamped to current cap {}", *base_rate, want);

  // An unreadable current state (a write torn by a crash, a value the kernel no longer parses) must
  // not stop the restore: assume the opposite lock state at another rate, so every saved value is written.
  int cur_err = 0;
  auto cur_lock = read_value(io, lock->path, &cur_err);
  auto cur_rate = read_value(io, rate->path, &cur_err);
  const bool known = cur_lock && cur_rate;
  if (!known)
    res.message += (res.message.empty() ? "" : "; ") + std::string("EMC lock/rate unreadable (") +
                   errno_name(cur_err) + "), writing the saved values";
  const std::string& rate_write = rate->write_path.empty() ? rate->path : rate->write_path;
  auto plan = plan_emc_restore(lock->path, rate_write, known ? *cur_lock != 0 : *base_lock == 0,
                               known ? *cur_rate : want + 1, *base_lock != 0, want);
  auto recs = execute_writes(io, plan, retry);
  res.writes = recs;
  if (const auto* bad = first_failure(recs)) return note_error(res, bad->error, "write " + bad->path);
  auto now_lock = read_value(io, lock->path, &err);
  auto now_rate = read_value(io, rate->path, &err);
  if (!now_lock || (*now_lock != 0) != (*base_lock != 0)) {
    res.outcome = Outcome::Mismatch;
    res.message = "EMC lock state did not take effect";
    return;
  }
  // Unlocked, the rate belongs to DVFS again; only a locked rate must read back as saved.
  if (*base_lock != 0 && (!now_rate || *now_rate != want)) {
    res.outcome = Outcome::Mismatch;
    res.message = fmt::format("EMC rate reads {}, expected {}", now_rate.value_or(0), want);
    return;
  }
  if (!res.writes.empty()) res.outcome = Outcome::Applied;
}

// Attributes with no ordering rules (the GPU's railgate_enable): written back only if they differ.
void restore_plain(const SavedDomain& d, FileAccess& io, const RetryPolicy& retry, RestoreResult& res) {
  for (const auto& a : d.attributes) {
    auto r = io.read(a.path);
    if (!r.ok()) return note_error(res, r.error, "cannot read " + a.path);
    if (trim(r.text) == a.value) continue;
    auto recs = execute_writes(io, {{a.path, a.value}}, retry);
    res.writes.insert(res.writes.end(), recs.begin(), recs.end());
    if (const auto* bad = first_failure(recs)) return note_error(res, bad->error, "write " + bad->path);
  }
  if (!res.writes.empty()) res.outcome = Outcome::Applied;
}

}  // namespace

RestoreReport restore_baseline(const Baseline& b, FileAccess& io, const RetryPolicy& retry) {
  RestoreReport report;
  report.had_baseline = true;
  bool keep_limits = false;
  if (!b.nvpmodel_status_path.empty()) {
    auto r = io.read(b.nvpmodel_status_path);
    const std::string now = r.ok() ? std::string(trim(r.text)) : "";
    if (now != b.nvpmodel_status) {
      keep_limits = true;
      report.notes.push_back(
          fmt::format("nvpmodel status changed since the baseline ('{}' -> '{}'): keeping the CPU/GPU limits "
                      "nvpmodel set",
                      b.nvpmodel_status, now));
    }
  }
  for (const auto& d : b.domains) {
    RestoreResult res;
    res.domain = d.id;
    if (d.kind == "emc")
      restore_emc(d, b, io, retry, res);
    else if (d.kind == kGpuPowerKind)
      restore_plain(d, io, retry, res);
    else
      restore_range(d, io, retry, keep_limits, res);
    report.domains.push_back(std::move(res));
  }
  return report;
}

}  // namespace flame::board
