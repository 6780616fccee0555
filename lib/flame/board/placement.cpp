#include "flame/board/placement.hpp"

#include <algorithm>
#include <iterator>

namespace flame::board {

Placement place_request(std::uint64_t request, const FrequencyBounds& b) {
  using Kind = Placement::Kind;
  const auto lowest = clamp_frequency(0, b);
  const auto highest = highest_frequency(b);
  if (!lowest || !highest) return {};
  if (request < *lowest) return {Kind::BelowRange, std::nullopt, lowest};
  if (request > *highest) return {Kind::AboveRange, highest, std::nullopt};
  if (b.table.empty()) return {Kind::Exact, std::nullopt, std::nullopt};
  // lowest and highest are table entries, so the request's neighbours within them are too.
  const auto it = std::lower_bound(b.table.begin(), b.table.end(), request);
  if (*it == request) return {Kind::Exact, std::nullopt, std::nullopt};
  return {Kind::Between, *std::prev(it), *it};
}

}  // namespace flame::board
