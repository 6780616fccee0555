#pragma once
// ClockControl over the board layer: writes go through flame::board::Controller (controller lock,
// baseline saved before the first write, ordered and verified writes), and current() reads what
// the hardware reports running: each writable CPU policy's scaling_cur_freq (the slowest one, so a
// policy lagging behind is seen), the GPU devfreq cur_freq and the EMC rate.
#include "flame/board/controller.hpp"
#include "flame/profile/detail/profile_hardware.hpp"

namespace flame::profile {

class BoardClockControl final : public ClockControl {
 public:
  explicit BoardClockControl(board::Controller& controller);
  Clocks apply(const Clocks& target) override;
  Clocks current() override;
  void restore() override;

 private:
  board::Controller& controller_;
  board::SysfsFileAccess io_;
};

// Board power (mW) from the INA3221 rails: the total rail (VDD_IN / POM_5V_IN) if the board has
// one, else the sum of the readable rails; nullopt when none can be read.
std::optional<double> read_board_power_mw(const board::Board& b, board::FileAccess& io);

class RailPowerMeter final : public PowerMeter {
 public:
  RailPowerMeter(const board::Board& board, board::FileAccess& io) : board_(board), io_(io) {}
  std::optional<double> read_mw() override { return read_board_power_mw(board_, io_); }

 private:
  const board::Board& board_;
  board::FileAccess& io_;
};

}  // namespace flame::profile
