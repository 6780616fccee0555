#include "flame/board/detail/gpu_wake.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "flame/board/detail/text.hpp"

namespace flame::board {

GpuWakeResult wake_gpu(FileAccess& io, const std::string& railgate_path, const GpuWakeSteps& steps,
                       const GpuWakeOptions& opts) {
  GpuWakeResult res;
  auto old = io.read(railgate_path);
  if (!old.ok()) {
    res.message = fmt::format("cannot read {}: {}", railgate_path, errno_name(old.error));
    return res;
  }
  const std::string saved(trim(old.text));
  if (!parse_u64(saved)) {
    res.message = fmt::format("{} reads '{}', not a number", railgate_path, saved);
    return res;
  }
  if (steps.save && !steps.save()) {
    res.message = "the railgate value could not be saved to the baseline; not powering the GPU up";
    return res;
  }
  res.attempted = true;
  res.writes = execute_writes(io, {{railgate_path, "0"}}, opts.retry);
  if (const auto* bad = first_failure(res.writes)) {
    res.message = fmt::format("write {} <- 0: {}", bad->path, errno_name(bad->error));
    return res;
  }
  for (int i = 0; i < std::max(1, opts.polls) && !res.registered; ++i) {
    if (i > 0 && steps.sleep) steps.sleep(opts.interval);
    ++res.rescans;
    res.registered = steps.rescan && steps.rescan();
  }
  // Back to the user's railgating policy; devfreq stays registered once the GPU has been up.
  if (saved != "0") {
    auto back = execute_writes(io, {{railgate_path, saved}}, opts.retry);
    res.writes.insert(res.writes.end(), back.begin(), back.end());
    if (const auto* bad = first_failure(back))
      spdlog::warn("board: could not put {} back to {}: {} (the baseline has it)", railgate_path, saved,
                   errno_name(bad->error));
  }
  res.message =
      res.registered
          ? fmt::format("GPU powered up once ({} <- 0, then {}); devfreq registered after {} rescan(s)",
                        railgate_path, saved, res.rescans)
          : fmt::format("GPU devfreq still not registered after powering up ({} rescans)", res.rescans);
  return res;
}

}  // namespace flame::board
