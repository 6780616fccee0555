#include "flame/search/queued_work.hpp"

#include <algorithm>

namespace flame::search {

double queued_work_ms(std::span<const QueuedRequest> ahead) {
  double work = 0, served = 0;
  for (const auto& q : ahead) work += q.predicted_ms, served = std::max(served, q.elapsed_ms);
  return std::max(0.0, work - served);
}

}  // namespace flame::search
