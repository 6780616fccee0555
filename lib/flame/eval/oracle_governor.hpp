#pragma once
// The oracle: offline, perfect knowledge. For every request it knows the measured table of every
// operating point, the noise the simulator will draw for this very inference (it replays the
// simulator's seeded stream) and the actuation delays, and picks the operating point of lowest energy
// whose latency meets what is left of the deadline (the fastest point when none does). It is a
// per-request bound: it does not trade one request's energy against a later one's queueing.
#include <map>
#include <string>
#include <vector>

#include "flame/eval/governor.hpp"
#include "flame/sim/rng.hpp"
#include "flame/sim/table_sim.hpp"

namespace flame::eval {

class OracleGovernor : public Governor {
 public:
  // Same tables and simulator options as the run it will take part in.
  OracleGovernor(const std::vector<sim::GridTable>& tables, const sim::SimOptions& sim);
  std::string name() const override { return "oracle"; }
  void reset(const BoardLevels& board) override;
  Target decide(const Decision& d) override;

  // Latency and energy of one inference at `c` when `prev` was in effect before the start (the
  // simulator's piecewise progress), with the given noise factors.
  struct Cost {
    double latency_ms = 0, energy_j = 0;
  };
  Cost cost(const sim::GridTable& t, const Target& prev, const Target& c, double lat_noise,
            double pow_noise) const;

 private:
  std::map<std::string, sim::GridTable> tables_;
  sim::SimOptions sim_;
  sim::Rng rng_{1};
  Target prev_{};
};

}  // namespace flame::eval
