#pragma once
// Baseline: every attribute value the board layer may change, captured before its first write and
// persisted atomically to <runtime_dir>/baseline.json, so the board can be put back by any later
// process, after a crash (kill -9) included. The runtime directory (/run/flame) lives in tmpfs: like
// sysfs state it does not survive a reboot, so a baseline is never applied to a freshly booted board.
//
// A domain enters the baseline just before this layer first writes to it, with the values it had then;
// entries are never overwritten by later captures (a second `flame board set` keeps the original).
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/board/board.hpp"
#include "flame/board/detail/clock_writer.hpp"
#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/sysfs_root.hpp"
#include "flame/board/detail/write_executor.hpp"

namespace flame::board {

inline constexpr const char* kDefaultRuntimeDir = "/run/flame";
inline constexpr int kBaselineVersion = 1;
// The GPU's power state, saved when a deferred GPU is powered up once (gpu_wake.hpp).
inline constexpr const char* kGpuPowerKind = "gpu-power";

// One saved attribute. `role` says what it is to restore ordering: "min", "max", "governor" (cpu, gpu),
// "lock", "rate" (emc), "railgate" (gpu-power). The value is the attribute's text with surrounding whitespace
// removed.
struct SavedAttribute {
  std::string role;
  std::string path;
  std::string write_path;  // only when writes go elsewhere (T210 EMC: clk_update_rate)
  std::string value;
};

struct SavedDomain {
  std::string id;    // DomainRef::id(): "cpu:policy0", "gpu:17000000.gpu", "emc"
  std::string kind;  // "cpu", "gpu", "emc", "gpu-power"
  std::string dir;
  std::vector<SavedAttribute> attributes;
  // Where to read the current hardware bounds at restore time: "hw_min"/"hw_max" (cpu, emc) or
  // "table" (gpu available_frequencies).
  std::map<std::string, std::string> bounds;

  const SavedAttribute* attribute(const std::string& role) const;
  SavedAttribute* attribute(const std::string& role);
};

struct Baseline {
  int version = kBaselineVersion;
  std::string created_at;  // UTC, ISO 8601
  int pid = 0;             // process that created it
  std::string owner;       // "flame board set", "flamed", ...
  std::string sysfs_root = "/";
  std::string board_model;
  std::string soc;
  std::string l4t;
  std::string nvpmodel_status;  // at capture; a different status at restore means a mode switch
  std::string nvpmodel_status_path;
  std::string emc_iso_cap_path;
  std::vector<SavedDomain> domains;

  const SavedDomain* find(const std::string& id) const;
  bool contains(const std::string& id) const { return find(id) != nullptr; }
};

nlohmann::json to_json(const Baseline& b);
// Throws std::runtime_error with a clear message for a malformed or unknown-version file.
Baseline baseline_from_json(const nlohmann::json& j);

std::string baseline_path(const std::string& runtime_dir);
// Replaces `path` atomically and durably (flame/io/atomic_write.hpp); throws AtomicWriteError.
void save_baseline(const Baseline& b, const std::string& path);
// A baseline file that exists but cannot be used: it cannot be read, is not JSON, or is not a
// baseline this version understands. Its holder moves it aside and falls back to a safe restore
// (safe_restore.hpp) instead of failing, so a damaged file never keeps the clocks pinned.
class BaselineUnreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// nullopt when there is no file; throws BaselineUnreadable on an unreadable or malformed one.
std::optional<Baseline> load_baseline(const std::string& path);
// Removes the file (and fsyncs the directory). Missing file is fine.
void remove_baseline(const std::string& path);

// A new, empty baseline describing the board.
Baseline new_baseline(const Board& board, const std::string& owner);
// The attributes a domain's baseline holds (roles, paths, bounds) with empty values. Pure; throws
// std::runtime_error for an unknown cpufreq policy.
SavedDomain domain_layout(const Board& board, const DomainRef& ref);
// Reads the current values of a domain's attributes. Throws std::runtime_error if a value to be saved
// cannot be read (a domain we cannot snapshot must not be written).
SavedDomain capture_domain(const Board& board, const DomainRef& d, FileAccess& io);
// The GPU device's railgate_enable, before a wake writes it (domain id and kind "gpu-power").
SavedDomain capture_gpu_power(const std::string& device_dir, FileAccess& io);
// After an nvpmodel mode switch: the switch rewrote CPU/GPU min/max, so those become the values to
// return to (restoring the old mode's limits would fight nvpmodel). EMC lock/rate and governors stay.
void adopt_nvpmodel_change(Baseline& b, FileAccess& io, const std::string& new_status);

struct RestoreResult {
  std::string domain;
  Outcome outcome = Outcome::Unchanged;  // Unchanged, Applied, Mismatch, Failed, Skipped
  std::string message;
  std::vector<WriteRecord> writes;
};

struct RestoreReport {
  bool had_baseline = false;
  std::string baseline_path;
  std::vector<RestoreResult> domains;
  std::vector<std::string> notes;
  bool removed = false;  // the baseline file was deleted after a complete restore
  // The baseline could not be used (BaselineUnreadable): it was moved to `moved_to` and the board got
  // a safe restore instead (safe_restore.hpp); `unreadable` says why.
  bool safe = false;
  std::string unreadable;
  std::string moved_to;
  // Every domain restored (or gone: nothing left to restore).
  bool ok() const;
  std::size_t write_count() const;
};
nlohmann::json to_json(const RestoreReport& r);
std::string to_text(const RestoreReport& r);

// Puts every saved attribute back, using the same ordering rules as any other write and clamping to
// the *current* ceilings (hardware range, emc_iso_cap), since a mode switch may have happened. Writes
// only attributes whose value differs, so it is idempotent. Reads nothing but the baseline and the
// attributes (and bounds) it names.
RestoreReport restore_baseline(const Baseline& b, FileAccess& io, const RetryPolicy& retry = {});

}  // namespace flame::board
