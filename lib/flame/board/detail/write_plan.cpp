#include "flame/board/detail/write_plan.hpp"

namespace flame::board {

std::vector<PlannedWrite> plan_range(const std::string& min_path, const std::string& max_path,
                                     std::uint64_t cur_lo, std::uint64_t cur_hi, std::uint64_t lo,
                                     std::uint64_t hi, bool force) {
  std::vector<PlannedWrite> out;
  const bool write_min = force || cur_lo != lo;
  const bool write_max = force || cur_hi != hi;
  auto min_w = PlannedWrite{min_path, std::to_string(lo)};
  auto max_w = PlannedWrite{max_path, std::to_string(hi)};
  if (lo > cur_hi) {
    // Raising past the current max: (cur_lo, hi) is valid because cur_lo <= cur_hi < lo <= hi.
    out.push_back(max_w);
    out.push_back(min_w);
  } else {
    // (lo, cur_hi) is valid because lo <= cur_hi; then (lo, hi).
    if (write_min) out.push_back(min_w);
    if (write_max) out.push_back(max_w);
  }
  return out;
}

std::vector<PlannedWrite> plan_emc_rate(const std::string& lock_path, const std::string& rate_path,
                                        bool cur_locked, std::uint64_t cur_rate, std::uint64_t rate,
                                        bool force) {
  std::vector<PlannedWrite> out;
  if (!cur_locked) out.push_back({lock_path, "1"});
  if (force || !cur_locked || cur_rate != rate) out.push_back({rate_path, std::to_string(rate)});
  return out;
}

std::vector<PlannedWrite> plan_emc_restore(const std::string& lock_path, const std::string& rate_path,
                                           bool cur_locked, std::uint64_t cur_rate, bool base_locked,
                                           std::uint64_t base_rate) {
  std::vector<PlannedWrite> out;
  if (base_locked) return plan_emc_rate(lock_path, rate_path, cur_locked, cur_rate, base_rate);
  if (!cur_locked) return out;  // already under DVFS
  if (cur_rate != base_rate) out.push_back({rate_path, std::to_string(base_rate)});
  out.push_back({lock_path, "0"});
  return out;
}

}  // namespace flame::board
