#include "flame/board/detail/clamp.hpp"

#include <algorithm>

namespace flame::board {

FrequencyBounds make_bounds(std::uint64_t hw_min, std::uint64_t hw_max, std::vector<std::uint64_t> table,
                            std::initializer_list<std::optional<std::uint64_t>> caps, const Limit& limit) {
  FrequencyBounds b;
  b.table = std::move(table);
  std::sort(b.table.begin(), b.table.end());
  b.floor = hw_min;
  if (limit.min) b.floor = std::max(b.floor, *limit.min);
  if (hw_max > 0) b.ceiling = hw_max;
  for (const auto& c : caps)
    if (c && *c > 0) b.ceiling = std::min(b.ceiling, *c);
  if (limit.max) b.ceiling = std::min(b.ceiling, *limit.max);
  return b;
}

std::optional<std::uint64_t> clamp_frequency(std::uint64_t request, const FrequencyBounds& b) {
  if (b.floor > b.ceiling) return std::nullopt;
  const std::uint64_t want = std::clamp(request, b.floor, b.ceiling);
  if (b.table.empty()) return want;
  auto it = std::lower_bound(b.table.begin(), b.table.end(), want);
  if (it != b.table.end() && *it <= b.ceiling) return *it;
  return highest_frequency(b);
}

std::optional<std::uint64_t> highest_frequency(const FrequencyBounds& b) {
  if (b.floor > b.ceiling) return std::nullopt;
  if (b.table.empty())
    return b.ceiling == std::numeric_limits<std::uint64_t>::max() ? std::nullopt : std::optional(b.ceiling);
  auto it = std::upper_bound(b.table.begin(), b.table.end(), b.ceiling);
  if (it == b.table.begin()) return std::nullopt;
  --it;
  if (*it < b.floor) return std::nullopt;
  return *it;
}

std::uint64_t clamp_value(std::uint64_t v, const FrequencyBounds& b) {
  if (b.floor > b.ceiling) return std::min(v, b.ceiling);
  return std::clamp(v, b.floor, b.ceiling);
}

}  // namespace flame::board
