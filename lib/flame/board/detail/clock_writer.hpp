#pragma once
// ClockWriter: turns a clock request into verified sysfs writes. For every domain it re-reads the
// current state (nvpmodel or jetson_clocks may have changed it), clamps the request, plans the writes in
// a kernel-safe order, runs them with bounded retries, reads back and verifies, and classifies failures
// (docs/board-io.md, "Error classes"):
//   ENOENT/ENODEV -> the domain is gone (marked unavailable)
//   EACCES/EPERM/EROFS -> observe-only from now on
//   EINVAL -> the target is dropped and logged; the domain stays usable
//   EBUSY -> retried a bounded number of times
// Unchanged domains cause no writes at all.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flame/board/board.hpp"
#include "flame/board/detail/clamp.hpp"
#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/write_executor.hpp"
#include "flame/clocks/clocks.hpp"

namespace flame::board {

enum class DomainKind { Cpu, Gpu, Emc };
const char* to_string(DomainKind k);

struct DomainRef {
  DomainKind kind = DomainKind::Cpu;
  std::string name;  // cpufreq policy ("policy0"), devfreq device ("17000000.gpu") or "emc"
  // Stable identifier used in baselines and reports: "cpu:policy0", "gpu:17000000.gpu", "emc".
  std::string id() const;
  bool operator==(const DomainRef&) const = default;
};

// What to set. Units as sysfs: CPU kHz (applied to every writable policy), GPU and EMC Hz. A value is
// a pin (min = max); off-table values round up to the next allowed entry (see clamp.hpp).
struct ClockRequest {
  std::optional<std::uint64_t> cpu_khz;
  std::optional<std::uint64_t> gpu_hz;
  std::optional<std::uint64_t> emc_hz;
  bool max = false;  // domains without an explicit value go to their ceiling (like jetson_clocks)

  // From the model's operating point; zero fields are left alone. cpu_cores is not actuated: cores
  // online belong to nvpmodel (changing them can need a reboot).
  static ClockRequest from(const Clocks& c);
  bool empty() const { return !cpu_khz && !gpu_hz && !emc_hz && !max; }
};

// Configured limits per domain (e.g. from the daemon config), applied on top of the board's own.
struct Limits {
  Limit cpu_khz;
  Limit gpu_hz;
  Limit emc_hz;
};

enum class Outcome {
  Unchanged,  // already at the target: no writes
  Planned,    // dry run: writes computed, not executed
  Applied,    // written and verified
  Mismatch,   // written, but the read-back differs (after one forced retry)
  Skipped,    // domain not writable (offline, observe-only, unavailable)
  Dropped,    // target impossible or rejected with EINVAL; the domain is left as it was
  Failed,     // write failed otherwise (gone, not permitted, busy after retries, I/O error, no baseline)
};
const char* to_string(Outcome o);

struct DomainResult {
  DomainRef domain;
  Outcome outcome = Outcome::Skipped;
  std::uint64_t requested = 0;
  std::uint64_t target = 0;  // after clamping
  std::uint64_t actual = 0;  // read back (the pinned value; EMC rate)
  ErrorClass error = ErrorClass::None;
  std::string message;
  std::vector<PlannedWrite> planned;
  std::vector<WriteRecord> writes;
};

struct ApplyReport {
  std::vector<DomainResult> domains;
  std::vector<std::string> notes;
  // True when every requested writable domain reached its target (Unchanged, Planned or Applied).
  bool ok() const;
  std::size_t write_count() const;
  const DomainResult* find(const std::string& domain_id) const;
};
nlohmann::json to_json(const ApplyReport& r);
std::string to_text(const ApplyReport& r);

struct WriterOptions {
  Limits limits;
  RetryPolicy retry;
};

class ClockWriter {
 public:
  // Called before the first write to a domain; returning false vetoes the write (e.g. the baseline
  // could not be persisted, so the change could not be undone).
  using BeforeWrite = std::function<bool(const DomainRef&)>;
  // Called when the nvpmodel status changed since the last apply (a mode switch rewrote the limits).
  using NvpmodelChanged = std::function<void(const std::string& old_status, const std::string& new_status)>;

  ClockWriter(Board& board, SysfsRoot root, FileAccess& io, WriterOptions opts = {});

  void on_before_write(BeforeWrite hook) { before_write_ = std::move(hook); }
  void on_nvpmodel_change(NvpmodelChanged hook) { nvpmodel_changed_ = std::move(hook); }

  // The max a domain had before this controller first wrote to it (taken from the baseline). It is the
  // ceiling the user or nvpmodel chose; without it, the current max is used at first touch.
  void set_reference_max(const std::string& domain_id, std::uint64_t max) { reference_max_[domain_id] = max; }
  void clear_reference_max() { reference_max_.clear(); }

  ApplyReport apply(const ClockRequest& req, bool dry_run = false);

  // The bounds a domain's target is clamped to right now (reads ceilings afresh).
  std::optional<FrequencyBounds> bounds(const DomainRef& d);

  const Board& board() const { return board_; }

 private:
  void check_nvpmodel(ApplyReport& report);
  DomainResult apply_range(const DomainRef& d, std::optional<std::uint64_t> value, bool max, bool dry_run);
  DomainResult apply_emc(std::optional<std::uint64_t> value, bool max, bool dry_run);
  DomainHealth* health(const DomainRef& d);
  void mark_failure(const DomainRef& d, int err, DomainResult& r);
  // Two attributes read together; on failure the domain is marked and `r` says what was unreadable.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> read_both(const DomainRef& d,
                                                                   const std::string& first,
                                                                   const std::string& second,
                                                                   const char* what, DomainResult& r);
  // The request clamped into bounds `b` (the highest for `max`), set as r.target; without
  // one, `r` is final: Dropped, naming the bounds.
  std::optional<std::uint64_t> target_within_bounds(const DomainRef& d,
                                                    const std::optional<FrequencyBounds>& b,
                                                    std::optional<std::uint64_t> value, bool max,
                                                    const char* noun, DomainResult& r);
  // A dry run, or a baseline that could not be saved first: `r` is final, nothing is written.
  bool stops_before_writing(const DomainRef& d, bool dry_run, DomainResult& r);

  Board& board_;
  SysfsRoot root_;
  FileAccess& io_;
  WriterOptions opts_;
  BeforeWrite before_write_;
  NvpmodelChanged nvpmodel_changed_;
  std::map<std::string, std::uint64_t> reference_max_;
  std::map<std::uint64_t, std::uint64_t> emc_rounding_;  // requested -> rate BPMP actually set
  std::string nvpmodel_status_;
};

}  // namespace flame::board
