#pragma once
// Identifying data that must not leave a board in a snapshot (`flame board snapshot`, docs/board-io.md,
// "Bring-up kit"): serial numbers and MAC addresses. Pure: a path and its bytes in, a reason out.
#include <string>
#include <string_view>

namespace flame::board {

// Why the file at in-root `path` is identifying by its name alone ("serial number", "MAC address"), or
// "" if its name says nothing: device-tree serial-number, any *serial*, ECID/UUID-style unique ids,
// MAC properties (mac-address, local-mac-address, ether-mac) and `address` under a net directory.
std::string identifying_name(std::string_view path);

// Why these bytes are identifying ("MAC address"), or "": any MAC-shaped value, six pairs of hex
// digits joined by ':' or '-' (e.g. "48:b0:2d:12:34:56"), wherever it appears in the text.
std::string identifying_content(std::string_view bytes);

bool contains_mac_address(std::string_view text);

}  // namespace flame::board
