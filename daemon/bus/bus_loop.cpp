#include "bus/bus_loop.hpp"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

namespace flamed {

namespace asio = boost::asio;

namespace {

int dup_bus_fd(sd_bus* bus) {
  const int fd = sd_bus_get_fd(bus);
  if (fd < 0) throw std::system_error(-fd, std::generic_category(), "sd_bus_get_fd");
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw std::system_error(errno, std::generic_category(), "dup of the D-Bus fd");
  return copy;
}

}  // namespace

BusLoop::BusLoop(asio::io_context& io, sd_bus* bus, ErrorHandler on_error)
    : io_(io), bus_(bus), on_error_(std::move(on_error)), fd_(io, dup_bus_fd(bus)), timer_(io) {
  kick();  // the first round may already have work: replies read during setup, queued writes
}

BusLoop::~BusLoop() {
  stop();
}

void BusLoop::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  timer_.cancel();
  fd_.cancel(ec);
  fd_.close(ec);
}

void BusLoop::kick() {
  if (stopped_ || kicked_) return;
  kicked_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    kicked_ = false;
    process();
  });
}

void BusLoop::fail(int r) {
  stop();
  if (on_error_) on_error_(r);  // last: the handler may destroy the connection (not this object)
}

void BusLoop::process() {
  if (stopped_) return;
  for (;;) {
    const int r = sd_bus_process(bus_, nullptr);
    if (r < 0) return fail(r);
    if (stopped_) return;  // a callback stopped us
    if (r == 0) break;
  }
  arm();
}

void BusLoop::arm() {
  const int events = sd_bus_get_events(bus_);
  if (events < 0) return fail(events);
  const auto alive = std::weak_ptr<int>(alive_);
  if ((events & POLLIN) && !reading_) {
    reading_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [this, alive](const boost::system::error_code& ec) {
                     if (alive.expired()) return;
                     reading_ = false;
                     if (ec != asio::error::operation_aborted) process();
                   });
  }
  if ((events & POLLOUT) && !writing_) {
    writing_ = true;
    fd_.async_wait(asio::posix::stream_descriptor::wait_write,
                   [this, alive](const boost::system::error_code& ec) {
                     if (alive.expired()) return;
                     writing_ = false;
                     if (ec != asio::error::operation_aborted) process();
                   });
  }
  uint64_t usec = UINT64_MAX;
  const int r = sd_bus_get_timeout(bus_, &usec);
  if (r < 0) return fail(r);
  if (usec == UINT64_MAX) {
    timer_.cancel();
    return;
  }
  // Absolute CLOCK_MONOTONIC microseconds; 0 means "process again right away".
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(usec)));
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (alive.expired() || ec) return;
    process();
  });
}

}  // namespace flamed
