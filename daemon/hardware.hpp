#pragma once
// The board layer behind the governor: a ClockActuator that sets clocks through
// flame::board::Controller (controller lock, baseline before the first write, ordered verified
// writes) and exposes the board's frequency tables, narrowed by the configured domain limits.
#include <memory>

#include "config.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/description.hpp"
#include "governor.hpp"

namespace flamed {

class BoardActuator : public ClockActuator {
 public:
  // Takes the controller lock and restores a baseline left behind by a crashed predecessor.
  explicit BoardActuator(const Config& config);

  const flame::ClockGrid& grid() const override { return grid_; }
  flame::Clocks apply(const flame::Clocks& target) override;
  void restore() override;
  flame::Clocks current() const override;

  const flame::board::Board& board() const { return controller_.board(); }

 private:
  void build_grid();

  Config config_;
  std::optional<flame::board::BoardDescription> description_;
  flame::board::Controller controller_;
  flame::ClockGrid grid_;
  flame::Clocks last_;  // what the board runs, as last written or read
};

// `flamed --restore`: put back <runtime_dir>/baseline.json alone (ExecStopPost=). True on success.
bool restore_baseline(const Config& config);

}  // namespace flamed
