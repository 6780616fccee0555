#pragma once
// Arbitration between overlapping requests: every active request holds the clocks its search
// chose, and the board runs at the per-domain maximum of the holds, which satisfies all of them
// (latency is non-increasing in every clock). Pure: time comes in as a parameter.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flame/clocks/clocks.hpp"
#include "flame/policy/time.hpp"

namespace flame::policy {

struct Hold {
  uint64_t client = 0;
  int64_t id = 0;
  Clocks clocks;
  TimeMs expires = 0;
  TimeMs began = 0;    // its latest begin: the start of its inference (served time counts from here)
  TimeMs arrived = 0;  // its first begin: its place in the accelerator's queue (a renewal keeps it)
  std::string model;
  std::string calibration_key;
  double model_ms = 0;      // uncorrected prediction at the chosen clocks
  double predicted_ms = 0;  // after the calibration factor
  double deadline_ms = 0;
  bool feasible = true;
  // Another hold raised some domain above this one's choice while it was active: its measured
  // latency then says nothing about its prediction, so it does not recalibrate the model.
  bool arbitrated = false;
};

class Arbiter {
 public:
  // Adds a hold, replacing an existing one with the same client and id.
  void add(Hold hold);
  std::optional<Hold> remove(uint64_t client, int64_t id);
  std::vector<Hold> remove_client(uint64_t client);
  std::vector<Hold> expire(TimeMs now);

  const Hold* find(uint64_t client, int64_t id) const;  // null when not active
  std::optional<Clocks> combined() const;               // none when nothing is active
  void mark_arbitrated(const Clocks& combined);         // every hold whose clocks differ from it
  std::optional<TimeMs> next_expiry() const;
  // Predicted work ahead, in ms, of a request that joined the accelerator's queue at `arrived`:
  // the holds that arrived no later (first come, first served), drained as flame::search::queued_work_ms
  // does. (client, id) itself is excluded (a repeated begin renews its own hold).
  double queued_ms(uint64_t client, int64_t id, TimeMs arrived, TimeMs now) const;
  size_t count(uint64_t client) const;
  const std::vector<Hold>& holds() const { return holds_; }

 private:
  std::vector<Hold> holds_;
};

}  // namespace flame::policy
