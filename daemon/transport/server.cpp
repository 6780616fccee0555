#include "transport/server.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <variant>

#include "transport/protocol.hpp"

namespace flamed {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, local::socket socket, uint64_t client)
      : server_(server),
        socket_(std::move(socket)),
        client_(client),
        peer_(peer_of(socket_.native_handle())),
        timer_(socket_.get_executor()) {
    tokens_ = server_.limits_.rate_burst;
    last_refill_ = std::chrono::steady_clock::now();
  }

  void start() {
    if (peer_)
      spdlog::info("client {} connected: pid {} uid {} gid {}", client_, peer_->pid, peer_->uid, peer_->gid);
    idle_since_ = std::chrono::steady_clock::now();
    read();
  }

  void refuse(const std::string& why) {
    auto self = shared_from_this();
    reply_ = error_reply(nullptr, why).dump() + "\n";
    asio::async_write(socket_, asio::buffer(reply_), [self](auto, auto) { self->close(); });
  }

  void close() {
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(local::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  uint64_t client() const { return client_; }
  // A peer the kernel did not describe counts as an unprivileged user of its own (no uid shares it).
  uid_t uid() const { return peer_ ? peer_->uid : static_cast<uid_t>(-1); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Wait { ForRequest, ForLine, ForReply };

  // Reads until a whole line is buffered. Partial lines are kept in buffer_ across reads, so that
  // a line's first byte starts the line timeout and only a whole line ends the idle wait.
  void read() {
    const auto nl = std::find(buffer_.begin(), buffer_.end(), '\n');
    if (nl != buffer_.end()) {
      std::string line(buffer_.begin(), nl);
      buffer_.erase(buffer_.begin(), nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) return read();  // blank: nothing to answer
      return respond(handle(line));
    }
    if (buffer_.size() >= server_.limits_.max_line_bytes) {  // the line outgrew max_line_bytes
      server_.policy_.count_rejected();
      reply_ = error_reply(nullptr, "request line too long").dump() + "\n";
      auto self = shared_from_this();
      asio::async_write(socket_, asio::buffer(reply_), [self](auto, auto) { self->drain(); });
      return;
    }
    if (buffer_.empty())
      arm(Wait::ForRequest, idle_since_ + ms(server_.limits_.idle_timeout_ms));
    else if (wait_ != Wait::ForLine)
      arm(Wait::ForLine, Clock::now() + ms(server_.limits_.line_timeout_ms));
    auto self = shared_from_this();
    const size_t room = std::min(chunk_.size(), server_.limits_.max_line_bytes - buffer_.size());
    socket_.async_read_some(asio::buffer(chunk_.data(), room),
                            [self](const boost::system::error_code& ec, size_t n) {
                              if (ec) return self->finish();
                              self->buffer_.insert(self->buffer_.end(), self->chunk_.begin(),
                                                   self->chunk_.begin() + static_cast<std::ptrdiff_t>(n));
                              self->read();
                            });
  }

  static Clock::duration ms(double v) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(v));
  }

  // One timer per connection: it closes the connection when the current wait (for a request, for
  // the rest of a line, for the client to take a reply) passes its deadline. Setting a later
  // deadline only records it: the pending wait fires first, sees the deadline moved and waits again.
  // So a busy connection costs a timer operation every line_timeout_ms, not two per request.
  void arm(Wait wait, Clock::time_point deadline) {
    wait_ = wait;
    deadline_ = deadline;
    if (timer_pending_ && timer_.expiry() <= deadline) return;
    wait_timer();
  }

  void wait_timer() {
    timer_.expires_at(deadline_);  // cancels a pending wait for a later deadline
    timer_pending_ = true;
    auto self = shared_from_this();
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // replaced by a wait for an earlier deadline
      self->timer_pending_ = false;
      if (ec || !self->socket_.is_open()) return;
      if (Clock::now() < self->deadline_) return self->wait_timer();
      self->timed_out();
    });
  }

  void timed_out() {
    auto& limits = server_.limits_;
    if (wait_ == Wait::ForRequest) {
      // A held request is not silently lost to the idle timeout: its connection stays until the
      // request ends or expires (request_expiry_ms), and is idle from then on.
      if (server_.policy_.active_requests(client_) > 0) {
        idle_since_ = Clock::now();
        return arm(Wait::ForRequest, idle_since_ + ms(limits.idle_timeout_ms));
      }
      ++server_.counters_.closed_idle;
      spdlog::info("client {}: closing: no request for {} ms (limits.idle_timeout_ms)", client_,
                   limits.idle_timeout_ms);
    } else {
      ++server_.counters_.closed_line_timeout;
      spdlog::warn("client {}: closing: {} not through within {} ms (limits.line_timeout_ms)", client_,
                   wait_ == Wait::ForLine ? "a request line" : "a reply", limits.line_timeout_ms);
    }
    finish();
  }

  bool take_token() {
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min(server_.limits_.rate_burst, tokens_ + dt * server_.limits_.rate_per_s);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // Root and the admin group see every client's requests; others those of their own uid.
  RequestScope scope() {
    if (!peer_) return RequestScope::Own;
    if (admin_checked_for_ != server_.admin_group_ || !admin_) {
      admin_ = is_admin(*peer_, server_.admin_group_);
      admin_checked_for_ = server_.admin_group_;
    }
    return *admin_ ? RequestScope::All : RequestScope::Own;
  }

  nlohmann::json status(const Status& r, flame::policy::TimeMs now) {
    flame::policy::Policy& g = server_.policy_;
    const RequestScope sc = scope();
    const uid_t me = uid();
    auto visible = [&](uint64_t client) {
      if (sc == RequestScope::All) return true;
      const auto u = server_.uid_of(client);
      return u && *u == me && peer_;
    };
    if (r.requests) return to_json(g.requests(now, visible, r.after, r.limit), sc);
    const size_t own = sc == RequestScope::All ? 0 : g.requests(now, visible, std::nullopt, 0).total;
    return to_json(g.status(now), server_.sessions_.size(),
                   server_.degraded_ ? server_.degraded_() : std::vector<std::string>{}, own, sc);
  }

  nlohmann::json handle(const std::string& line) {
    flame::policy::Policy& g = server_.policy_;
    if (!take_token()) {
      if (++throttled_ > 1000) close_after_reply_ = true;  // a client that ignores errors is cut off
      g.count_rejected();
      return error_reply(nullptr, "rate limit exceeded");
    }
    throttled_ = 0;
    const Parsed p = parse_request(line);
    if (!p.request) {
      g.count_rejected();
      return error_reply(p.id, p.error);
    }
    try {
      return std::visit(
          [&](const auto& r) -> nlohmann::json {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, Hello>) {
              app_ = r.app;
              return {{"ok", true}, {"proto", kProtocolVersion}, {"daemon", "flamed"}, {"client", client_}};
            } else {
              // A status without a time reads the state as of the latest one.
              const RequestTime t = std::is_same_v<T, Status> && !r.t_ms
                                        ? RequestTime{server_.clock_.now(), {}}
                                        : server_.clock_.request(r.t_ms);
              if (!t.at) {
                g.count_rejected();
                return error_reply(p.id, t.error);
              }
              const auto now = t.at;
              // What fell due before this request happens first (expiry, the idle policy).
              g.advance(*now);
              if constexpr (std::is_same_v<T, Begin>) {
                auto out = to_json(g.begin(client_, r, *now));
                server_.on_change_();
                return out;
              } else if constexpr (std::is_same_v<T, End>) {
                auto out = to_json(g.end(client_, r, *now));
                server_.on_change_();
                return out;
              } else {
                return status(r, *now);
              }
            }
          },
          *p.request);
    } catch (const std::exception& e) {
      spdlog::error("client {}: request failed: {}", client_, e.what());
      return error_reply(p.id, std::string("internal error: ") + e.what());
    }
  }

  void respond(const nlohmann::json& reply) {
    auto self = shared_from_this();
    // Replies quote client text; the parser admits only valid UTF-8, but never let a stray byte
    // (e.g. a quote cut short) turn into an exception in the event loop: replace it.
    reply_ = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    // A client that does not read its reply holds the connection no longer than a slow line would.
    arm(Wait::ForReply, Clock::now() + ms(server_.limits_.line_timeout_ms));
    asio::async_write(socket_, asio::buffer(reply_), [self](const boost::system::error_code& ec, size_t) {
      if (ec || self->close_after_reply_) return self->finish();
      self->idle_since_ = Clock::now();
      self->read();
    });
  }

  // After refusing a line, read and discard what the client is still sending before closing:
  // closing with unread data would reset the connection and the client could lose our reply.
  void drain() {
    boost::system::error_code ec;
    socket_.shutdown(local::socket::shutdown_send, ec);
    if (drained_ == 0) arm(Wait::ForLine, Clock::now() + ms(server_.limits_.line_timeout_ms));
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(chunk_), [self](const boost::system::error_code& e, size_t n) {
      self->drained_ += n;
      if (e || self->drained_ > (1u << 20)) return self->finish();
      self->drain();
    });
  }

  void finish() {
    close();
    server_.closed(shared_from_this());
  }

  Server& server_;
  local::socket socket_;
  uint64_t client_;
  std::optional<Peer> peer_;
  asio::steady_timer timer_;
  Wait wait_ = Wait::ForRequest;
  Clock::time_point deadline_{}, idle_since_{};
  bool timer_pending_ = false;
  std::string buffer_;  // received, not yet answered: at most max_line_bytes
  std::array<char, 4096> chunk_{};
  std::string reply_;
  std::string app_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_;
  int throttled_ = 0;
  bool close_after_reply_ = false;
  size_t drained_ = 0;
  std::optional<bool> admin_;
  std::string admin_checked_for_;
};

Server::Server(asio::io_context& io, const Config::Limits& limits, flame::policy::Policy& policy,
               PolicyClock& clock, Hook on_change, Reasons degraded)
    : io_(io),
      limits_(limits),
      policy_(policy),
      clock_(clock),
      on_change_(std::move(on_change)),
      degraded_(std::move(degraded)),
      acceptor_(io),
      accept_pause_(io) {}

namespace {

void set_file_access(const std::filesystem::path& file, const std::filesystem::path& shown, uint32_t mode,
                     const std::string& group_name) {
  if (::chmod(file.c_str(), mode) != 0)
    spdlog::warn("cannot chmod {}: {}", shown.string(), std::strerror(errno));
  if (group_name.empty()) return;
  if (const struct group* gr = ::getgrnam(group_name.c_str())) {
    if (::chown(file.c_str(), static_cast<uid_t>(-1), gr->gr_gid) != 0)
      spdlog::warn("cannot give {} to group {}: {}", shown.string(), group_name, std::strerror(errno));
  } else {
    spdlog::warn("socket group '{}' does not exist; {} keeps its group", group_name, shown.string());
  }
}

}  // namespace

bool Server::set_access(uint32_t mode, const std::string& group) {
  if (bound_path_.empty()) return false;
  set_file_access(bound_path_, bound_path_, mode, group);
  return true;
}

Server::~Server() {
  stop();
}

void Server::listen(const std::filesystem::path& path, uint32_t mode, const std::string& group_name) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  // Bind and listen under a temporary name, then rename: a client that sees the socket file can
  // always connect (no window between bind and listen).
  const std::filesystem::path tmp = path.string() + ".new";
  std::filesystem::remove(tmp, ec);
  acceptor_.open(local());
  acceptor_.bind(local::endpoint(tmp.string()));
  acceptor_.listen(asio::socket_base::max_listen_connections);
  set_file_access(tmp, path, mode, group_name);
  std::filesystem::rename(tmp, path);  // replaces a stale socket from a previous instance
  bound_path_ = path;
  spdlog::info("listening on {}", path.string());
  accept();
}

void Server::adopt(int fd) {
  acceptor_.assign(local(), fd);
  spdlog::info("listening on the socket passed by systemd (fd {})", fd);
  accept();
}

void Server::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      auto s = std::make_shared<Session>(*this, std::move(socket), next_client_++);
      const auto held = per_uid_.find(s->uid());
      const size_t of_uid = held == per_uid_.end() ? 0 : held->second;
      if (sessions_.size() >= limits_.max_connections) {
        ++counters_.refused_max_connections;
        spdlog::warn("refusing client {}: {} connections already", s->client(), sessions_.size());
        s->refuse("too many connections");
      } else if (of_uid >= limits_.max_connections_per_uid) {
        // The user's own connections are full; other users keep theirs (docs/protocol.md, "Limits").
        ++counters_.refused_per_uid;
        spdlog::warn("refusing client {}: uid {} holds {} connections already", s->client(), s->uid(),
                     of_uid);
        s->refuse(fmt::format("too many connections from uid {} (limits.max_connections_per_uid {})",
                              s->uid(), limits_.max_connections_per_uid));
      } else {
        sessions_.insert(s);
        client_uid_[s->client()] = s->uid();
        ++per_uid_[s->uid()];
        s->start();
      }
    } else {
      return accept_failed(ec);
    }
    accept();
  });
}

void Server::accept_failed(const boost::system::error_code& ec) {
  ++counters_.accept_failures;
  // Out of descriptors or memory, the pending connection stays queued and accept fails again at
  // once: pause instead of spinning, and log once per interval, not per attempt.
  // errno values, compared and printed without the error category's virtual calls: under UBSan a
  // virtual call made with no descriptor left is misreported (its memory probe needs a pipe).
  const int err = ec.value();
  const bool resources = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
  const auto now = std::chrono::steady_clock::now();
  if (now - accept_logged_ >= std::chrono::seconds(10)) {
    accept_logged_ = now;
    spdlog::warn("accept failed: {}{} ({} failures so far; logged at most every 10 s)", std::strerror(err),
                 resources ? "; pausing accepts for 100 ms at a time" : "", counters_.accept_failures);
  }
  if (!resources) return accept();
  accept_pause_.expires_after(std::chrono::milliseconds(100));
  accept_pause_.async_wait([this](const boost::system::error_code& e) {
    if (!e && acceptor_.is_open()) accept();
  });
}

void Server::closed(const std::shared_ptr<Session>& s) {
  if (sessions_.erase(s) == 0) return;
  client_uid_.erase(s->client());
  if (auto it = per_uid_.find(s->uid()); it != per_uid_.end() && --it->second == 0) per_uid_.erase(it);
  spdlog::info("client {} disconnected", s->client());
  policy_.disconnect(s->client(), clock_.now());
  on_change_();
}

std::optional<uid_t> Server::uid_of(uint64_t client) const {
  const auto it = client_uid_.find(client);
  if (it == client_uid_.end()) return std::nullopt;
  return it->second;
}

void Server::stop() {
  boost::system::error_code ec;
  if (acceptor_.is_open()) acceptor_.close(ec);
  accept_pause_.cancel();
  for (const auto& s : std::set<std::shared_ptr<Session>>(sessions_)) s->close();
  sessions_.clear();
  client_uid_.clear();
  per_uid_.clear();
  if (!bound_path_.empty()) {
    std::error_code fec;
    std::filesystem::remove(bound_path_, fec);
    bound_path_.clear();
  }
}

}  // namespace flamed
