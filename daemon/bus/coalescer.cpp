#include "bus/coalescer.hpp"

#include <algorithm>

namespace flamed {

Coalescer::Coalescer(boost::asio::io_context& io, Clock::duration min_interval, std::function<void()> action)
    : timer_(io), min_interval_(min_interval), action_(std::move(action)) {}

Coalescer::~Coalescer() {
  cancel();
}

Coalescer::Clock::time_point Coalescer::due(Clock::time_point now, Clock::time_point last,
                                            Clock::duration min_interval) {
  if (last == Clock::time_point{}) return now;
  return std::max(now, last + min_interval);
}

void Coalescer::poke() {
  if (pending_) return;  // merged into the firing already scheduled
  pending_ = true;
  timer_.expires_at(due(Clock::now(), last_, min_interval_));
  timer_.async_wait(
      [this, alive = std::weak_ptr<int>(alive_), gen = ++generation_](const boost::system::error_code& ec) {
        // A cancelled wait whose completion was already queued must not fire either.
        if (alive.expired() || ec || gen != generation_) return;
        pending_ = false;
        last_ = Clock::now();
        action_();
      });
}

void Coalescer::cancel() {
  pending_ = false;
  ++generation_;
  timer_.cancel();
}

}  // namespace flamed
