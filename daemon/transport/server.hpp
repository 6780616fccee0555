#pragma once
// The Unix-socket front end: newline-delimited JSON, one request per line, every request answered.
// Each connection is a lease: when it closes, its requests are released. Per-connection limits
// (line size, token-bucket rate, idle and partial-line timeouts), a per-user and a global connection
// cap protect the daemon and its other clients from one client (docs/protocol.md, "Limits").
// clang-format off
#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without including it
#include <boost/asio.hpp>
// clang-format on
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "flame/policy/policy.hpp"
#include "policy_clock.hpp"
#include "state/metrics.hpp"
#include "transport/peer.hpp"

namespace flamed {

class Session;

class Server {
 public:
  using Hook = std::function<void()>;
  using Reasons = std::function<std::vector<std::string>()>;

  // on_change runs after every request or disconnect that reached the policy (the owner then asks the
  // policy when to wake, persists, announces on D-Bus); degraded gives the reasons `status` shows.
  Server(boost::asio::io_context& io, const Config::Limits& limits, flame::policy::Policy& policy,
         PolicyClock& clock, Hook on_change, Reasons degraded = {});
  ~Server();

  // Binds socket_path (removing a stale socket file), sets mode and group.
  void listen(const std::filesystem::path& socket_path, uint32_t mode, const std::string& group);
  // Mode and group of the bound socket file (a reload); false under socket activation (the socket
  // unit owns them).
  bool set_access(uint32_t mode, const std::string& group);
  // Adopts an already-listening socket passed by systemd (socket activation).
  void adopt(int fd);
  void stop();

  // Applied at once: the caps to the next connection, the timeouts to each connection's next wait.
  void set_limits(const Config::Limits& limits) { limits_ = limits; }
  // Members of this group see every client's requests in status (peer.hpp is_admin).
  void set_admin_group(std::string group) { admin_group_ = std::move(group); }
  size_t connections() const { return sessions_.size(); }
  // What the socket front end counted (accept failures, refusals, timeouts), for the metrics.
  const TransportCounters& counters() const { return counters_; }

 private:
  friend class Session;
  void accept();
  void accept_failed(const boost::system::error_code& ec);
  void closed(const std::shared_ptr<Session>& s);
  // The uid of a connected client (its requests are that user's), if it is still connected.
  std::optional<uid_t> uid_of(uint64_t client) const;

  boost::asio::io_context& io_;
  Config::Limits limits_;
  flame::policy::Policy& policy_;
  PolicyClock& clock_;
  Hook on_change_;
  Reasons degraded_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  TransportCounters counters_;
  std::string admin_group_;
  std::chrono::steady_clock::time_point accept_logged_{};
  std::set<std::shared_ptr<Session>> sessions_;
  std::unordered_map<uint64_t, uid_t> client_uid_;  // every session's peer uid, by client number
  std::map<uid_t, size_t> per_uid_;                 // connections per peer uid
  std::filesystem::path bound_path_;
  uint64_t next_client_ = 1;
};

}  // namespace flamed
