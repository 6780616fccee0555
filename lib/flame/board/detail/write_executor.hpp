#pragma once
// Executes planned writes in order, one write(2) per attribute ("value\n"), retrying transient errors a
// bounded number of times and stopping at the first failure so no later write runs against a state the
// plan did not expect.
#include <chrono>
#include <string>
#include <vector>

#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/write_plan.hpp"

namespace flame::board {

struct WriteRecord {
  std::string path;
  std::string value;
  int error = 0;     // errno of the last attempt
  int attempts = 0;  // > 1 when EBUSY/EAGAIN was retried
};

struct RetryPolicy {
  int busy_attempts = 3;                 // total attempts for ErrorClass::Busy
  std::chrono::milliseconds backoff{5};  // doubled after each busy attempt
};

std::vector<WriteRecord> execute_writes(FileAccess& io, const std::vector<PlannedWrite>& plan,
                                        const RetryPolicy& retry = {});

// The first failed record, or nullptr.
const WriteRecord* first_failure(const std::vector<WriteRecord>& records);

}  // namespace flame::board
