#pragma once
// The board layer behind the policy: an Actuator that sets clocks through flame::board::Controller
// (controller lock, baseline before the first write, ordered verified writes) and exposes the board's
// frequency tables, narrowed by the configured domain limits.
#include <memory>

#include "config/config.hpp"
#include "flame/board/controller.hpp"
#include "flame/board/description.hpp"
#include "flame/policy/actuator.hpp"

namespace flamed {

// What the actuator needs from the configuration. The paths are fixed for its life (restart-only
// keys); the domains and dry_run follow a reload (set_domains).
struct BoardActuatorOptions {
  std::filesystem::path sysfs_root = "/";
  std::filesystem::path runtime_dir = "/run/flame";
  std::filesystem::path board_file;  // empty: discover the board from sysfs_root
  std::filesystem::path lock_dir;    // empty: flame::board::default_lock_dir() (tests name their own)
  DomainLimits cpu, gpu, emc;
  bool dry_run = false;

  static BoardActuatorOptions from(const Config& c);
};

class BoardActuator : public flame::policy::Actuator {
 public:
  // Takes the controller lock and restores a baseline left behind by a crashed predecessor (or, when
  // that baseline cannot be used, gives the board a safe restore and says so at WARN).
  explicit BoardActuator(const BoardActuatorOptions& options);

  const flame::ClockGrid& grid() const override { return grid_; }
  flame::Clocks apply(const flame::Clocks& target) override;
  void restore() override;
  flame::Clocks current() const override;

  const flame::board::Board& board() const { return controller_.board(); }
  // New domain limits and dry_run (the paths stay). True when anything changed: the caller then
  // re-applies its holds (Policy::reapply_now).
  bool set_domains(const BoardActuatorOptions& next);
  // The board as its description names it (model files name the board they were fitted on); "" when
  // no description applies.
  std::string board_name() const { return description_ ? description_->name : ""; }
  // What the grid holds at its current value for lack of information, one line each.
  const std::vector<std::string>& held() const { return held_; }

 private:
  void build_grid();
  // board_file, else the shipped description that matches the board, logged either way.
  void choose_description();
  void read_back();  // last_ from the board, keeping the last known value of a domain it cannot read

  BoardActuatorOptions o_;
  std::optional<flame::board::BoardDescription> description_;
  flame::board::Controller controller_;
  flame::ClockGrid grid_;
  std::vector<std::string> held_;
  flame::Clocks last_;  // what the board runs, as last written or read
};

// `flamed --restore`: put back <runtime_dir>/baseline.json alone (ExecStopPost=). True on success,
// also after a safe restore of an unusable baseline (logged at WARN); false when another process
// holds the board (its pid named) or a write failed.
bool restore_baseline(const Config& config);

}  // namespace flamed
