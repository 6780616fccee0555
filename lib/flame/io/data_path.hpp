#pragma once
// Where the data flame ships (measurements, board descriptions, example models) is found: as given
// (absolute or relative to the working directory), under $FLAME_DATA_DIR, under the installed data
// directory (/usr/share/flame), or under the source tree of a development build.
#include <filesystem>
#include <string>

namespace flame::io {

// Returns the first existing candidate, or `relative` unchanged when none exists (so the caller's
// open() reports the path the user asked for).
std::filesystem::path find_data(const std::string& relative);

}  // namespace flame::io
