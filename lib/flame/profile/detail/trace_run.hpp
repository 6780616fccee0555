#pragma once
// What one profiled trace contributes to the layer-wise fit: per-segment host spans and device
// times (medians over the trace's iterations, as the trace reader attributes them) and the
// end-to-end time. The trace has no host clock around the final synchronize, so end-to-end is
// taken from the trace itself: iteration start to the later of the host end and the end of the
// last GPU op the iteration launched; the part after the host end is the sync wait.
#include <optional>
#include <string>
#include <vector>

#include "flame/model/coupling_calibration.hpp"
#include "flame/trace/trace_profile.hpp"

namespace flame::profile {

struct TraceRun {
  std::vector<std::string> names;            // segment names ("" for glue), for the model file
  std::vector<model::SegmentTraits> traits;  // per segment, parallel to names
  model::ProfiledRun run;
  int iterations = 0;
  // When the recorded iterations ran (Unix time), if the trace says; not kept in the journal.
  std::optional<trace::WallWindow> window;
};

// Throws std::runtime_error naming the trace when it has no segments or no end-to-end time.
TraceRun trace_run(const trace::TraceSummary& summary);

}  // namespace flame::profile
