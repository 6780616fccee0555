#include "flame/board/detail/write_executor.hpp"

#include <spdlog/spdlog.h>

#include <thread>

namespace flame::board {

std::vector<WriteRecord> execute_writes(FileAccess& io, const std::vector<PlannedWrite>& plan,
                                        const RetryPolicy& retry) {
  std::vector<WriteRecord> out;
  for (const auto& w : plan) {
    WriteRecord rec{w.path, w.value, 0, 0};
    auto backoff = retry.backoff;
    for (;;) {
      ++rec.attempts;
      rec.error = io.write(w.path, w.value + "\n");
      if (classify(rec.error) != ErrorClass::Busy || rec.attempts >= retry.busy_attempts) break;
      spdlog::debug("board: {} <- {}: {}, retrying", w.path, w.value, errno_name(rec.error));
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    if (rec.error == 0) {
      spdlog::debug("board: {} <- {}", w.path, w.value);
    } else {
      spdlog::warn("board: write {} <- {} failed: {} ({})", w.path, w.value, errno_name(rec.error),
                   to_string(classify(rec.error)));
    }
    out.push_back(rec);
    if (rec.error != 0) break;
  }
  return out;
}

const WriteRecord* first_failure(const std::vector<WriteRecord>& records) {
  for (const auto& r : records)
    if (r.error != 0) return &r;
  return nullptr;
}

}  // namespace flame::board
