#pragma once
// Discovery: builds a Board from a SysfsRoot by probing capabilities (which directories exist) rather
// than by board tables (docs/board-io.md, Discovery). Nothing here is fatal: a missing, unreadable or
// unwritable domain is described in its DomainHealth and in Board::notes.
#include <string>

#include "flame/board/board.hpp"
#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/sysfs_root.hpp"

namespace flame::board {

Board discover(const SysfsRoot& root, FileAccess& io);
// Convenience: real I/O under `sysfs_root`.
Board discover(const std::string& sysfs_root = "/");

}  // namespace flame::board
