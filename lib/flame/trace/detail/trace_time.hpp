#pragma once
// Chrome-trace timestamps are decimal microseconds ("ts": 4816217186168.500). Kineto writes
// nanosecond resolution into 16 significant digits, more than a double holds exactly, so the
// text is converted straight to integer nanoseconds.
#include <cstdint>
#include <optional>
#include <string_view>

namespace flame::trace {

// Decimal microseconds (optionally signed, fractional or with an exponent) to nanoseconds,
// rounded half away from zero. Empty optional when the text is not a JSON number or overflows.
std::optional<std::int64_t> microseconds_text_to_ns(std::string_view text);

}  // namespace flame::trace
