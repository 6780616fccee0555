#pragma once
// Write planning: which attributes to write, in which order, so that every intermediate state is valid
// under both kernels' rules (docs/board-io.md, "Setting clocks"). Pure and deterministic; the executor does
// the I/O.
//
//  * min/max pairs (cpufreq, devfreq): to raise, write max first; otherwise write min first. On 4.9 a
//    crossing write fails with EINVAL; on 5.10+ it is silently clamped and leaves a stale request.
//  * EMC: the rate only takes effect while mrq_rate_locked = 1, so lock before writing the rate.
#include <cstdint>
#include <string>
#include <vector>

namespace flame::board {

struct PlannedWrite {
  std::string path;
  std::string value;  // without the trailing newline

  bool operator==(const PlannedWrite&) const = default;
};

// From the current (cur_lo, cur_hi) to (lo, hi), lo <= hi. Writes of values already in place are
// skipped unless `force` (used to overwrite a stale QoS request that the effective values hide).
std::vector<PlannedWrite> plan_range(const std::string& min_path, const std::string& max_path,
                                     std::uint64_t cur_lo, std::uint64_t cur_hi, std::uint64_t lo,
                                     std::uint64_t hi, bool force = false);

// Pin the EMC at `rate`: lock first (if not locked), then the rate (if different, or forced).
std::vector<PlannedWrite> plan_emc_rate(const std::string& lock_path, const std::string& rate_path,
                                        bool cur_locked, std::uint64_t cur_rate, std::uint64_t rate,
                                        bool force = false);

// Put the EMC back: if it is to stay locked, lock then rate; if it was unlocked, write the saved rate
// while still locked (so the clock does not jump to a stale override) and then unlock, handing the
// rate back to DVFS.
std::vector<PlannedWrite> plan_emc_restore(const std::string& lock_path, const std::string& rate_path,
                                           bool cur_locked, std::uint64_t cur_rate, bool base_locked,
                                           std::uint64_t base_rate);

}  // namespace flame::board
