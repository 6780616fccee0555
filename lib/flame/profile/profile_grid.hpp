#pragma once
// The clock grid to profile on: the frequency tables of the discovered board, with a board
// description filling in what sysfs does not list (EMC rates are not in debugfs). A domain that is
// not writable, or has no table, is profiled at its current clock only (it is then not a knob of
// the fitted model). Pure: works on a discovered Board value.
#include <optional>
#include <string>
#include <vector>

#include "flame/board/board.hpp"
#include "flame/board/description.hpp"
#include "flame/clocks/clock_grid.hpp"

namespace flame::profile {

struct ProfileGrid {
  ClockGrid grid;
  std::vector<std::string> notes;  // domains fixed at their current clock, and why
};

ProfileGrid profile_grid(const board::Board& board,
                         const std::optional<board::BoardDescription>& description);

}  // namespace flame::profile
