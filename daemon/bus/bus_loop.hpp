#pragma once
// Drives an sd-bus connection from an Asio io_context (as sdbusplus does; sd_bus_get_fd(3)): a
// posix::stream_descriptor on a dup of sd_bus_get_fd() waits for what sd_bus_get_events() asks
// for, a steady_timer waits for sd_bus_get_timeout() (absolute CLOCK_MONOTONIC, which is what
// steady_clock is on Linux), and every wake-up runs sd_bus_process() until it returns 0, then
// re-arms. Nothing blocks the loop; a failed connection is reported once through on_error.
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <systemd/sd-bus.h>

#include <functional>
#include <memory>

namespace flamed {

class BusLoop {
 public:
  using ErrorHandler = std::function<void(int negative_errno)>;

  // Does not take ownership of bus, which must outlive this object. Throws std::system_error if
  // the connection has no usable fd.
  BusLoop(boost::asio::io_context& io, sd_bus* bus, ErrorHandler on_error);
  ~BusLoop();
  BusLoop(const BusLoop&) = delete;
  BusLoop& operator=(const BusLoop&) = delete;

  // Schedules a processing round: call after queueing messages outside an sd-bus callback (a
  // signal emitted from a timer), so that a partly written queue gets its POLLOUT wait.
  void kick();
  // Cancels every wait and closes the dup; the connection itself is left to its owner.
  void stop();
  bool stopped() const { return stopped_; }

 private:
  void process();
  void arm();
  void fail(int r);

  boost::asio::io_context& io_;
  sd_bus* bus_;
  ErrorHandler on_error_;
  boost::asio::posix::stream_descriptor fd_;
  boost::asio::steady_timer timer_;
  bool reading_ = false, writing_ = false, stopped_ = false, kicked_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // handlers outliving us do nothing
};

}  // namespace flamed
