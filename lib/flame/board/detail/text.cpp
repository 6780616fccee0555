#include "flame/board/detail/text.hpp"

#include <algorithm>
#include <charconv>

namespace flame::board {

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0';
}
}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> parse_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<std::vector<std::uint64_t>> parse_u64_list(std::string_view s) {
  std::vector<std::uint64_t> out;
  for (const auto& w : parse_words(s)) {
    auto v = parse_u64(w);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::vector<std::string> parse_dt_strings(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find('\0', i);
    if (j == std::string_view::npos) j = s.size();
    auto item = trim(s.substr(i, j - i));
    if (!item.empty()) out.emplace_back(item);
    i = j + 1;
  }
  return out;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view s) {
  std::vector<int> out;
  std::string text(trim(s));
  std::replace(text.begin(), text.end(), ',', ' ');
  for (const auto& w : parse_words(text)) {
    auto dash = w.find('-');
    if (dash == std::string::npos) {
      auto v = parse_u64(w);
      if (!v) return std::nullopt;
      out.push_back(static_cast<int>(*v));
    } else {
      auto a = parse_u64(std::string_view(w).substr(0, dash));
      auto b = parse_u64(std::string_view(w).substr(dash + 1));
      if (!a || !b || *a > *b || *b > 4096) return std::nullopt;
      for (auto c = *a; c <= *b; ++c) out.push_back(static_cast<int>(c));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  std::size_t i = 0;
  while (i < cpus.size()) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace flame::board
