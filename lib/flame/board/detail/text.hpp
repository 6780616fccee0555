#pragma once
// Parsing of sysfs/debugfs attribute text. The kernel's formats are loose in small ways (a trailing space
// before the newline, NUL-terminated device-tree strings, a missing final newline in hand-made trees), so
// every reader goes through these helpers instead of ad-hoc stream parsing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flame::board {

// Strips surrounding whitespace and NUL bytes.
std::string_view trim(std::string_view s);

// An unsigned decimal value, e.g. "1728000\n" or "1728000 ". Anything else (including "<unsupported>",
// "undefined", signs, or trailing garbage) is nullopt.
std::optional<std::uint64_t> parse_u64(std::string_view s);

// A signed decimal value (thermal readings may be negative: -256000 means "no sensor").
std::optional<std::int64_t> parse_i64(std::string_view s);

// Space-separated unsigned values ("115200 192000 \n"). nullopt if any token is not a number.
std::optional<std::vector<std::uint64_t>> parse_u64_list(std::string_view s);

// Space-separated words ("schedutil performance \n").
std::vector<std::string> parse_words(std::string_view s);

// A NUL-separated device-tree string list ("nvidia,p3767\0nvidia,tegra234\0").
std::vector<std::string> parse_dt_strings(std::string_view s);

// A CPU list in either kernel format: ranges ("0-3,5") or space-separated ("0 1 2 3"). Empty input is an
// empty list (an all-offline policy has an empty affected_cpus).
std::optional<std::vector<int>> parse_cpu_list(std::string_view s);

// "0-3,5" style, the inverse of parse_cpu_list for display.
std::string format_cpu_list(const std::vector<int>& cpus);

}  // namespace flame::board
