#pragma once
// Where a requested clock lies among the values a domain allows, to tell an operator what
// clamp_frequency (clamp.hpp) does with it. Pure, table-tested.
#include <cstdint>
#include <optional>

#include "flame/board/detail/clamp.hpp"

namespace flame::board {

// Exact: allowed as is; Between: off the table, rounded up to `above`; BelowRange / AboveRange:
// moved to the lowest (`above`) or highest (`below`) allowed value; NoneAllowed: nothing is.
struct Placement {
  enum class Kind { Exact, Between, BelowRange, AboveRange, NoneAllowed };
  Kind kind = Kind::NoneAllowed;
  std::optional<std::uint64_t> below;  // the highest allowed value under the request
  std::optional<std::uint64_t> above;  // the lowest allowed value over it
};
Placement place_request(std::uint64_t request, const FrequencyBounds& b);

}  // namespace flame::board
