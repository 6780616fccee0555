#pragma once
// The Unix-socket front end: newline-delimited JSON, one request per line, every request answered.
// Each connection is a lease: when it closes, its requests are released. Per-connection limits
// (line size, token-bucket rate) and a global connection cap protect the daemon from clients.
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include "config.hpp"
#include "governor.hpp"

namespace flamed {

class Session;

class Server {
 public:
  using Hook = std::function<void()>;

  Server(boost::asio::io_context& io, const Config::Limits& limits, Governor& governor, Hook on_change);
  ~Server();

  // Binds socket_path (removing a stale socket file), sets mode and group.
  void listen(const std::filesystem::path& socket_path, uint32_t mode, const std::string& group);
  // Adopts an already-listening socket passed by systemd (socket activation).
  void adopt(int fd);
  void stop();

  void set_limits(const Config::Limits& limits) { limits_ = limits; }
  size_t connections() const { return sessions_.size(); }
  void schedule_expiry();

 private:
  friend class Session;
  void accept();
  void closed(const std::shared_ptr<Session>& s);

  boost::asio::io_context& io_;
  Config::Limits limits_;
  Governor& governor_;
  Hook on_change_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer expiry_;
  std::set<std::shared_ptr<Session>> sessions_;
  std::filesystem::path bound_path_;
  uint64_t next_client_ = 1;
};

}  // namespace flamed
