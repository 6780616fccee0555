#pragma once
// Small files the daemon owns (calibration state, metrics): read whole, written atomically and
// durably (flame/io/atomic_write.hpp) so a crash never leaves half a file. Writing creates the
// directory.
#include <filesystem>
#include <string>

namespace flamed {

std::string read_file(const std::filesystem::path& path);
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace flamed
