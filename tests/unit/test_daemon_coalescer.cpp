// The PropertiesChanged rate limiter (daemon/bus/coalescer.hpp).
#include <catch2/catch.hpp>

#include "bus/coalescer.hpp"

using namespace flamed;
using namespace std::chrono_literals;
using Clock = Coalescer::Clock;

TEST_CASE("coalescer: due time", "[daemon][dbus]") {
  const auto t = Clock::time_point(10s);
  CHECK(Coalescer::due(t, Clock::time_point{}, 100ms) == t);  // never fired: now
  CHECK(Coalescer::due(t, t - 1s, 100ms) == t);               // quiet for long: now
  CHECK(Coalescer::due(t, t - 30ms, 100ms) == t + 70ms);      // just fired: at the end of the interval
}

TEST_CASE("coalescer: a burst fires at most once per interval and the last poke is never lost",
          "[daemon][dbus]") {
  boost::asio::io_context io;
  std::vector<Clock::time_point> fired;
  Coalescer c(io, 100ms, [&] { fired.push_back(Clock::now()); });

  // The first poke fires on the next loop turn.
  c.poke();
  CHECK(c.pending());
  io.run_for(20ms);
  REQUIRE(fired.size() == 1);
  CHECK_FALSE(c.pending());

  // Poke every 2 ms for 500 ms: at most one firing per 100 ms.
  boost::asio::steady_timer ticker(io);
  const auto start = Clock::now();
  std::function<void()> tick = [&] {
    c.poke();
    if (Clock::now() - start > 500ms) return;
    ticker.expires_after(2ms);
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  io.restart();
  io.run_for(800ms);
  const auto in_burst = fired.size() - 1;
  CHECK(in_burst >= 4);
  CHECK(in_burst <= 7);  // 500 ms of pokes (+ the trailing one) at <= 10 Hz
  for (size_t i = 1; i < fired.size(); ++i) CHECK(fired[i] - fired[i - 1] >= 99ms);
  CHECK_FALSE(c.pending());  // the trailing poke was honoured, nothing left behind
  CHECK(fired.back() >= start + 500ms);
}

TEST_CASE("coalescer: cancel drops the pending firing", "[daemon][dbus]") {
  boost::asio::io_context io;
  int fired = 0;
  Coalescer c(io, 50ms, [&] { ++fired; });
  c.poke();
  c.cancel();
  io.run_for(100ms);
  CHECK(fired == 0);
  c.poke();
  io.restart();
  io.run_for(100ms);
  CHECK(fired == 1);
}
