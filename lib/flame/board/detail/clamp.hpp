#pragma once
// Clamping a requested frequency to what a domain allows: its table, the hardware range, the nvpmodel
// ceiling and configured limits. Pure functions, table-tested.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <vector>

namespace flame::board {

// Configured limits for one domain (same unit as the domain).
struct Limit {
  std::optional<std::uint64_t> min;
  std::optional<std::uint64_t> max;
};

struct FrequencyBounds {
  std::uint64_t floor = 0;
  std::uint64_t ceiling = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> table;  // ascending; empty = any value in [floor, ceiling]
};

// Bounds from the hardware range (0 = unknown), the table, any number of caps (nullopt or 0 = no cap)
// and a configured limit.
FrequencyBounds make_bounds(std::uint64_t hw_min, std::uint64_t hw_max, std::vector<std::uint64_t> table,
                            std::initializer_list<std::optional<std::uint64_t>> caps,
                            const Limit& limit = {});

// The frequency to set for a request. A request is a minimum speed (a deadline planner asks for the
// slowest clock that is fast enough), so an off-table request rounds *up* to the next allowed entry;
// requests above the ceiling get the highest allowed entry. nullopt if no entry lies within bounds.
std::optional<std::uint64_t> clamp_frequency(std::uint64_t request, const FrequencyBounds& b);
std::optional<std::uint64_t> highest_frequency(const FrequencyBounds& b);

// For restoring a saved value: bring it into [floor, ceiling] without snapping to the table (a saved
// value need not be a table entry: nvpmodel writes e.g. 1200000).
std::uint64_t clamp_value(std::uint64_t v, const FrequencyBounds& b);

}  // namespace flame::board
