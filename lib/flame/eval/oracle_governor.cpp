#include "flame/eval/oracle_governor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flame::eval {

OracleGovernor::OracleGovernor(const std::vector<sim::GridTable>& tables, const sim::SimOptions& sim)
    : sim_(sim) {
  for (const auto& t : tables) tables_.emplace(t.name(), t);
}

void OracleGovernor::reset(const BoardLevels& board) {
  Governor::reset(board);
  rng_ = sim::Rng(sim_.seed);  // in lockstep with the simulator: two normals per inference
  prev_ = board.max();         // a fresh tree runs at its ceilings
}

OracleGovernor::Cost OracleGovernor::cost(const sim::GridTable& t, const Target& prev, const Target& c,
                                          double lat_noise, double pow_noise) const {
  // Pieces: each changed domain switches after its delay; the inference progresses at the rate of
  // the clocks in effect (as in TableSimulator::run).
  struct Switch {
    double at;
    int domain;
  };
  std::vector<Switch> sw;
  if (c.cpu_khz != prev.cpu_khz) sw.push_back({sim_.cpu_delay_ms, 0});
  if (c.gpu_hz != prev.gpu_hz) sw.push_back({sim_.gpu_delay_ms, 1});
  if (c.emc_hz != prev.emc_hz) sw.push_back({sim_.emc_delay_ms, 2});
  std::sort(sw.begin(), sw.end(), [](const Switch& a, const Switch& b) { return a.at < b.at; });
  Target now = prev;
  double time = 0, progress = 0, energy_mj = 0;
  std::size_t k = 0;
  for (;;) {
    while (k < sw.size() && sw[k].at <= time) {
      if (sw[k].domain == 0) now.cpu_khz = c.cpu_khz;
      if (sw[k].domain == 1) now.gpu_hz = c.gpu_hz;
      if (sw[k].domain == 2) now.emc_hz = c.emc_hz;
      ++k;
    }
    const sim::GridPoint& p = t.at(t.snap(now));
    const double l = p.latency_s * 1000.0 * lat_noise, w = p.power_mw / 1000.0 * pow_noise;
    const double until = k < sw.size() ? sw[k].at : std::numeric_limits<double>::infinity();
    const double remaining = (1 - progress) * l;
    if (time + remaining <= until) {
      energy_mj += w * remaining;
      time += remaining;
      break;
    }
    progress += (until - time) / l;
    energy_mj += w * (until - time);
    time = until;
  }
  return {time, energy_mj / 1000.0};
}

Target OracleGovernor::decide(const Decision& d) {
  const sim::GridTable& t = tables_.at(d.model);
  // The simulator's draws for this inference (TableSimulator::run draws latency, then power).
  const double zl = rng_.normal(), zp = rng_.normal();
  const double sl = t.latency_noise().sigma * sim_.noise_scale, sp = t.power_noise().sigma * sim_.noise_scale;
  const double ln = std::exp(sl * zl - sl * sl / 2), pn = std::exp(sp * zp - sp * sp / 2);
  // A thermal throttle engaged now caps what any request gets (it does not foresee a trip during the
  // inference).
  auto in_effect = [&](Target c) {
    if (d.thermal_cap) {
      c.cpu_khz = std::min(c.cpu_khz, d.thermal_cap->cpu_khz);
      c.gpu_hz = std::min(c.gpu_hz, d.thermal_cap->gpu_hz);
    }
    return c;
  };
  const Target from = in_effect(prev_);
  Target best{}, fastest{};
  double best_e = std::numeric_limits<double>::infinity(), fastest_l = best_e;
  for (auto cpu : board_.cpu_khz)
    for (auto gpu : board_.gpu_hz)
      for (auto emc : board_.emc_hz) {
        const Target c{board_.cores, cpu, gpu, emc};
        const Target ce = in_effect(c);
        // Under a power cap, only points the cap leaves alone (no throttling to account for).
        if (sim_.power_cap_w && t.at(t.snap(ce)).power_mw > *sim_.power_cap_w * 1000.0) continue;
        const Cost k = cost(t, from, ce, ln, pn);
        if (k.latency_ms < fastest_l) fastest_l = k.latency_ms, fastest = c;
        if (k.latency_ms <= d.budget_ms && k.energy_j < best_e) best_e = k.energy_j, best = c;
      }
  if (fastest_l == std::numeric_limits<double>::infinity()) fastest = board_.min();  // cap below all
  prev_ = best_e < std::numeric_limits<double>::infinity() ? best : fastest;
  return prev_;
}

}  // namespace flame::eval
