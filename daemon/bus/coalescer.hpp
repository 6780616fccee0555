#pragma once
// Turns a burst of "something changed" pokes into at most one action per interval: the first poke
// after a quiet interval fires on the next loop turn; pokes within the interval after a firing are
// merged into one firing at its end. flamed uses it to keep PropertiesChanged at <= 10 Hz however
// many requests a second it serves.
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace flamed {

class Coalescer {
 public:
  using Clock = std::chrono::steady_clock;

  Coalescer(boost::asio::io_context& io, Clock::duration min_interval, std::function<void()> action);
  ~Coalescer();
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  void poke();
  void cancel();  // drops a pending firing
  bool pending() const { return pending_; }

  // When a poke at `now` fires, given the last firing (pure; Clock::time_point{} = never).
  static Clock::time_point due(Clock::time_point now, Clock::time_point last, Clock::duration min_interval);

 private:
  boost::asio::steady_timer timer_;
  Clock::duration min_interval_;
  std::function<void()> action_;
  Clock::time_point last_{};
  bool pending_ = false;
  uint64_t generation_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace flamed
