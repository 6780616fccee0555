#pragma once
// Board self-test (`flame board selftest`, docs/board-io.md, "Bring-up kit"): can flame drive this
// board? Each controllable domain kind (the CPU policies together, the GPU, the EMC) is pinned once at
// a mid-table value through the Controller (baseline first, the writer's ordering and verification),
// its current clock (scaling_cur_freq, devfreq cur_freq, EMC rate) is polled until it agrees with the
// read-back or a timeout passes, and the baseline is restored before the next kind, also when a step
// failed or threw. Time comes in as a parameter.
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/board/controller.hpp"
#include "flame/board/detail/clamp.hpp"

namespace flame::board {

struct SelftestOptions {
  double settle_timeout_s = 2;  // per domain kind, from the write
  double poll_interval_s = 0.01;
  double tolerance = 0.01;  // relative difference accepted between read-back and current clock
};

// The caller's monotonic clock, in seconds from any origin, and a sleep.
struct SelftestClock {
  std::function<double()> now_s;
  std::function<void(double)> sleep_s;
};

enum class Verdict { Pass, Fail, Skipped };
const char* to_string(Verdict v);

struct SelftestDomain {
  DomainRef domain;  // id(): "cpu:policy0", "gpu:17000000.gpu", "emc"
  Verdict verdict = Verdict::Fail;
  std::string reason;                    // why it failed or was skipped; notes (BPMP rounding) on a pass
  std::string outcome;                   // the writer's outcome ("applied", "failed", ...), "" if not written
  std::uint64_t target = 0;              // the mid-table value, after clamping (kHz for CPU, Hz otherwise)
  std::uint64_t read_back = 0;           // the pinned value read back (EMC: the rate BPMP set)
  std::optional<std::uint64_t> current;  // the last current-clock reading
  bool settled = false;
  double settle_s = 0;  // from the write to the first agreeing reading (or to giving up)
  bool restored = false;
};

struct SelftestReport {
  std::string sysfs_root;
  std::string model, soc, l4t;
  SelftestOptions options;
  std::vector<SelftestDomain> domains;
  std::vector<std::string> notes;
  bool restored = true;  // every restore completed
  // At least one domain passed, none failed, everything restored (each passed domain and the report).
  bool passed() const;
};

// Refusals before anything is written (a baseline from an earlier `flame board set` is waiting).
class SelftestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the test on the controller's board; leaves it as it was (restore after every domain kind).
SelftestReport run_selftest(Controller& c, const SelftestOptions& opts, const SelftestClock& clock);

// The value a domain is tested at: the middle allowed entry of its table (or the middle of its range
// without one), a neighbour if the domain is already pinned there (so that something is written).
// nullopt when nothing is allowed. Pure.
std::optional<std::uint64_t> mid_target(const FrequencyBounds& b, std::optional<std::uint64_t> pinned);

nlohmann::json to_json(const SelftestReport& r);
std::string to_text(const SelftestReport& r);

}  // namespace flame::board
