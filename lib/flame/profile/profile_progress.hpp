#pragma once
// The progress line of `flame profile`: a bar, combinations done, the ETA of this run and the
// projected time exhaustive profiling of the same grid would take at the same mean time per
// combination. Pure text; the CLI decides where it goes.
#include <string>

#include "flame/profile/detail/profile_runner.hpp"

namespace flame::profile {

// "1 h 05 min", "3 min 20 s", "42 s", "2 d 3 h".
std::string duration_text(double seconds);

std::string progress_line(const ProfileProgress& p, std::size_t exhaustive_steps, int bar_width = 24);

}  // namespace flame::profile
