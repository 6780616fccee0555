#pragma once
// A state file that cannot be read is moved aside, never deleted: the operator can inspect it, and
// the program starts from a clean state (docs/reliability.md).
#include <filesystem>

namespace flame::io {

// Renames `file` to `<file>.unreadable`, or `<file>.unreadable.N` with the first free N, without
// replacing anything that exists; returns the new name. Throws std::filesystem::filesystem_error.
std::filesystem::path move_aside(const std::filesystem::path& file);

}  // namespace flame::io
