#include "flame/board/detail/identifying.hpp"

#include <algorithm>
#include <cctype>

#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

namespace {

bool hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool mac_at(std::string_view t, std::size_t i) {
  if (i + 17 > t.size()) return false;
  const char sep = t[i + 2];
  if (sep != ':' && sep != '-') return false;
  for (std::size_t g = 0; g < 6; ++g) {
    const std::size_t p = i + g * 3;
    if (!hex(t[p]) || !hex(t[p + 1])) return false;
    if (g < 5 && t[p + 2] != sep) return false;
  }
  return true;
}

}  // namespace

bool contains_mac_address(std::string_view text) {
  for (std::size_t i = 0; i + 17 <= text.size(); ++i)
    if (mac_at(text, i)) return true;
  return false;
}

std::string identifying_name(std::string_view path) {
  const std::string name = lower(basename(path));
  if (name.find("serial") != std::string::npos) return "serial number";
  // Per-chip and per-device unique ids (the Tegra ECID, UUIDs).
  for (const char* id : {"ecid", "uuid", "unique_id", "soc_uid"})
    if (name.find(id) != std::string::npos) return "unique id";
  for (const char* mac : {"mac-address", "mac_address", "macaddr", "ether-mac"})
    if (name.find(mac) != std::string::npos) return "MAC address";
  if (name == "address" && lower(path).find("/net/") != std::string::npos) return "MAC address";
  return "";
}

std::string identifying_content(std::string_view bytes) {
  return contains_mac_address(bytes) ? "MAC address" : "";
}

}  // namespace flame::board
