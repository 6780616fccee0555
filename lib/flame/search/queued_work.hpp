#pragma once
// Work queued ahead of a request on an accelerator the apps share (one GPU: inferences of different
// apps run one after the other or time-slice). Used by flamed (daemon/arbiter) and by its in-process
// copy in `flame eval` so that both budget a request for what the queue leaves of its deadline.
#include <span>

namespace flame::search {

struct QueuedRequest {
  double predicted_ms = 0;  // its predicted latency at its own clocks (after calibration)
  double elapsed_ms = 0;    // since it began (its start, or its announcement if not started yet)
};

// The requests ahead, as a busy first-in first-out server drains them: their predicted work minus
// the time served since the earliest of them began, never below 0. The board runs at least each
// request's own clocks, so this is an upper estimate.
double queued_work_ms(std::span<const QueuedRequest> ahead);

}  // namespace flame::search
