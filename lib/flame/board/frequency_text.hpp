#pragma once
// Clock values as an operator types and reads them: "612M", "1.2G", "1190400k", "306000000Hz" or a
// plain number in the option's own unit (kHz for CPU clocks, Hz for GPU and EMC clocks, as sysfs has
// them: docs/board-io.md). Pure functions, table-tested.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flame::board {

enum class FrequencyUnit { Hz, kHz };

struct FrequencyTextError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A positive frequency in `unit`. A suffix (k, M, G, with or without "Hz", any case; or Hz alone)
// scales the number, which may then have decimals; a plain number is in `unit`. Throws
// FrequencyTextError, naming the text, for anything else, zero, a value that is not a whole
// number of `unit` or one beyond 64 bits.
std::uint64_t parse_frequency(std::string_view text, FrequencyUnit unit);

// `value` (in `unit`) exactly, in the largest unit that keeps it at 1 or more: "612 MHz",
// "1.1904 GHz", "999 Hz". parse_frequency reads it back to `value`.
std::string frequency_text(std::uint64_t value, FrequencyUnit unit);

}  // namespace flame::board
