#include "flame/board/frequency_text.hpp"

#include <cctype>
#include <limits>
#include <utility>

namespace flame::board {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Hz per unit of the suffix; 0 for an unknown suffix.
std::uint64_t suffix_hz(std::string_view s) {
  if (ieq(s, "hz")) return 1;
  for (auto [prefix, hz] :
       {std::pair{'k', 1'000ULL}, std::pair{'m', 1'000'000ULL}, std::pair{'g', 1'000'000'000ULL}})
    if (!s.empty() && std::tolower(static_cast<unsigned char>(s[0])) == prefix &&
        (s.size() == 1 || ieq(s.substr(1), "hz")))
      return hz;
  return 0;
}

bool mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > kMax / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::uint64_t parse_frequency(std::string_view text, FrequencyUnit unit) {
  const std::string quoted = "'" + std::string(text) + "'";
  const char* const units = unit == FrequencyUnit::kHz ? "kHz" : "Hz";
  auto fail = [&](const std::string& why) -> std::uint64_t { throw FrequencyTextError(quoted + ": " + why); };
  std::size_t i = 0;
  std::uint64_t whole = 0;
  std::size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (!mul(whole, 10, whole) || whole > kMax - static_cast<std::uint64_t>(text[i] - '0'))
      return fail("too large");
    whole += static_cast<std::uint64_t>(text[i] - '0');
    ++i, ++digits;
  }
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    fraction = text.substr(start, i - start);
  }
  if (digits == 0 && fraction.empty())
    return fail(std::string("not a frequency; give a number in ") + units +
                " or one with a unit: 612M, 1.2G, 1190400k");
  std::string_view suffix = text.substr(i);
  if (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  const std::uint64_t per_unit = unit == FrequencyUnit::kHz ? 1000 : 1;
  const std::uint64_t scale = suffix.empty() ? per_unit : suffix_hz(suffix);
  if (scale == 0) return fail("unknown unit '" + std::string(suffix) + "' (use k, M, G or Hz)");
  // The value in Hz is whole * scale + fraction * scale / 10^len(fraction), exactly.
  std::uint64_t hz = 0;
  if (!mul(whole, scale, hz)) return fail("too large");
  std::uint64_t denominator = 1, numerator = 0;
  for (char c : fraction) {
    if (!mul(denominator, 10, denominator) || !mul(numerator, 10, numerator))
      return fail("too many decimals");
    numerator += static_cast<std::uint64_t>(c - '0');
  }
  std::uint64_t scaled = 0;
  if (!mul(numerator, scale, scaled)) return fail("too many decimals");
  if (scaled % denominator != 0) return fail("not a whole number of Hz");
  if (hz > kMax - scaled / denominator) return fail("too large");
  hz += scaled / denominator;
  if (hz % per_unit != 0) return fail(std::string("not a whole number of ") + units);
  if (hz == 0) return fail("a clock must be above zero");
  return hz / per_unit;
}

std::string frequency_text(std::uint64_t value, FrequencyUnit unit) {
  // kHz values fit in Hz for every clock a board has (below 18 EHz); larger ones keep kHz.
  const bool khz = unit == FrequencyUnit::kHz;
  if (khz && value > kMax / 1000) return std::to_string(value) + " kHz";
  const std::uint64_t hz = khz ? value * 1000 : value;
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1'000'000'000ULL, "GHz"}, {1'000'000ULL, "MHz"}, {1'000ULL, "kHz"}, {1ULL, "Hz"}};
  for (auto [per, name] : kUnits) {
    if (hz < per && per != 1) continue;
    std::string s = std::to_string(hz / per);
    if (const std::uint64_t rest = hz % per; rest != 0) {
      std::string frac = std::to_string(per + rest).substr(1);  // zero-padded to the unit's digits
      while (frac.back() == '0') frac.pop_back();
      s += "." + frac;
    }
    return s + " " + name;
  }
  return "0 Hz";
}

}  // namespace flame::board
