#include "flame/trace/detail/trace_time.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace flame::trace {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Rare forms (exponents, very long fractions are still fine above): go through a double.
std::optional<std::int64_t> via_double(std::string_view text) {
  double us = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), us);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  const double ns = std::round(us * 1000.0);
  if (!std::isfinite(ns) || std::fabs(ns) >= 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(ns);
}

}  // namespace

std::optional<std::int64_t> microseconds_text_to_ns(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_of("eE") != std::string_view::npos) return via_double(text);

  std::size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  if (i >= text.size() || !is_digit(text[i])) return std::nullopt;

  constexpr std::int64_t kMaxUs = std::numeric_limits<std::int64_t>::max() / 1000 - 1;
  std::int64_t us = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    us = us * 10 + (text[i] - '0');
    if (us > kMaxUs) return std::nullopt;
  }
  std::int64_t frac_ns = 0;
  int round_up = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (i >= text.size() || !is_digit(text[i])) return std::nullopt;
    int digits = 0;
    for (; i < text.size() && is_digit(text[i]); ++i, ++digits) {
      if (digits < 3) {
        frac_ns = frac_ns * 10 + (text[i] - '0');
      } else if (digits == 3) {
        round_up = text[i] >= '5' ? 1 : 0;  // half away from zero: later digits cannot lower it
      }
    }
    for (; digits < 3; ++digits) frac_ns *= 10;
  }
  if (i != text.size()) return std::nullopt;
  const std::int64_t ns = us * 1000 + frac_ns + round_up;
  return negative ? -ns : ns;
}

}  // namespace flame::trace
