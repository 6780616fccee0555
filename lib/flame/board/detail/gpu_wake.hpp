#pragma once
// GPU wake: on JetPack 5/6 nvgpu registers the GPU's devfreq device only once the GPU has powered up
// (nvgpu os/linux/scale.c; docs/board-io.md, "GPU wake"), so right after boot, before any CUDA work, there is
// nothing to set. jetson_clocks handles this by writing railgate_enable = 0 (which powers the GPU up),
// rescanning /sys/class/devfreq, and writing the old railgate value back. We do the same, with the railgate
// value saved to the baseline before the write so a crash in between cannot leave the rail un-gated.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/write_executor.hpp"

namespace flame::board {

struct GpuWakeOptions {
  // Registration follows the power-up within milliseconds; rescan up to `polls` times, `interval` apart.
  int polls = 20;
  std::chrono::milliseconds interval{10};
  RetryPolicy retry;
};

struct GpuWakeResult {
  bool attempted = false;   // railgate_enable was written
  bool registered = false;  // the GPU devfreq device was found afterwards
  int rescans = 0;
  std::string message;  // one line for logs and `flame board set`
  std::vector<WriteRecord> writes;
};

struct GpuWakeSteps {
  std::function<bool()> save;    // snapshot railgate_enable before the first write; false vetoes
  std::function<bool()> rescan;  // rediscover; true once the GPU devfreq device is registered
  std::function<void(std::chrono::milliseconds)> sleep;  // between rescans (tests pass a no-op)
};

// `railgate_path` is the GPU device's railgate_enable (in-root path). The old value is written back
// whether or not the devfreq device appeared.
GpuWakeResult wake_gpu(FileAccess& io, const std::string& railgate_path, const GpuWakeSteps& steps,
                       const GpuWakeOptions& opts = {});

}  // namespace flame::board
