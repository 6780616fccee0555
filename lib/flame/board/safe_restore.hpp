#pragma once
// Safe restore: what a board gets when its baseline is lost (the file cannot be read, is not JSON or
// not a baseline). Without the values from before our writes, flame puts the board into a state that
// unpins every clock and never raises a ceiling (docs/board-io.md, "Safe restore"):
//   - each active CPU policy's and the GPU's min goes to its lowest table entry (the hardware minimum
//     when the driver has no table);
//   - each max goes to the current nvpmodel mode's cap: the highest table entry not above
//     min(cap, hardware maximum), as the writer snaps caps; the top of the table when the mode leaves
//     the domain uncapped (MAX_FREQ -1); left as it is when the cap cannot be known (no nvpmodel.conf,
//     an unknown mode, a conf that does not name the domain);
//   - governors go to the L4T defaults, schedutil (cpufreq) and nvhost_podgov (the GPU's devfreq), when
//     the domain lists them; otherwise they are left as they are;
//   - the EMC lock is released (mrq_rate_locked / T210 clk_state = 0), handing the rate back to DVFS.
// Offline, observe-only, deferred and unavailable domains are not touched; nor is the GPU's
// railgate_enable (a GPU wake writes its saved value back at once).
#include <string>
#include <vector>

#include "flame/board/baseline.hpp"
#include "flame/board/board.hpp"
#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/write_executor.hpp"

namespace flame::board {

inline constexpr const char* kDefaultCpuGovernor = "schedutil";
inline constexpr const char* kDefaultGpuGovernor = "nvhost_podgov";

// The safe state as a baseline, from a discovered board alone (pure): restoring it with
// restore_baseline() writes the rules above with the ordinary ordering, verification and idempotence.
// `notes` hears what is left as it is, and why.
Baseline safe_baseline(const Board& board, std::vector<std::string>* notes = nullptr);

// Moves the unusable baseline `file` aside (flame::io::move_aside: kept for inspection, never
// deleted), says so at WARN, and applies safe_baseline(board). `why` is the BaselineUnreadable
// message. The report has safe = true; ok() when every domain reached its safe state.
RestoreReport recover_unreadable_baseline(const std::string& file, const std::string& why, const Board& board,
                                          FileAccess& io, const RetryPolicy& retry = {});

}  // namespace flame::board
