#pragma once
// The clock grid a board description offers (simulation and offline fitting; on a board the
// daemon reads the tables from sysfs instead).
#include "flame/board/description.hpp"
#include "flame/clocks/clock_grid.hpp"

namespace flame::board {

// Throws std::invalid_argument naming the board when a domain has no frequency table.
ClockGrid clock_grid(const BoardDescription& d);

}  // namespace flame::board
