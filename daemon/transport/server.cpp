#include "transport/server.hpp"

#include <grp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

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
      : server_(server), socket_(std::move(socket)), client_(client), buffer_(server.limits_.max_line_bytes) {
    tokens_ = server_.limits_.rate_burst;
    last_refill_ = std::chrono::steady_clock::now();
  }

  void start() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
      spdlog::info("client {} connected: pid {} uid {} gid {}", client_, cred.pid, cred.uid, cred.gid);
    read();
  }

  void refuse(const std::string& why) {
    auto self = shared_from_this();
    reply_ = error_reply(nullptr, why).dump() + "\n";
    asio::async_write(socket_, asio::buffer(reply_), [self](auto, auto) { self->close(); });
  }

  void close() {
    boost::system::error_code ec;
    socket_.shutdown(local::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  uint64_t client() const { return client_; }

 private:
  void read() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, buffer_, '\n', [self](const boost::system::error_code& ec, size_t n) {
      if (ec == asio::error::not_found) {  // the line outgrew max_line_bytes
        self->server_.policy_.count_rejected();
        self->reply_ = error_reply(nullptr, "request line too long").dump() + "\n";
        asio::async_write(self->socket_, asio::buffer(self->reply_), [self](auto, auto) { self->drain(); });
        return;
      }
      if (ec) return self->finish();
      std::string line(asio::buffers_begin(self->buffer_.data()),
                       asio::buffers_begin(self->buffer_.data()) + n - 1);
      self->buffer_.consume(n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos)
        return self->read();  // blank line: nothing to answer
      self->respond(self->handle(line));
    });
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
                return to_json(g.status(*now), server_.sessions_.size(),
                               server_.degraded_ ? server_.degraded_() : std::vector<std::string>{});
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
    asio::async_write(socket_, asio::buffer(reply_), [self](const boost::system::error_code& ec, size_t) {
      if (ec || self->close_after_reply_) return self->finish();
      self->read();
    });
  }

  // After refusing a line, read and discard what the client is still sending before closing:
  // closing with unread data would reset the connection and the client could lose our reply.
  void drain() {
    boost::system::error_code ec;
    socket_.shutdown(local::socket::shutdown_send, ec);
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(discard_), [self](const boost::system::error_code& e, size_t n) {
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
  asio::streambuf buffer_;
  std::string reply_;
  std::string app_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_;
  int throttled_ = 0;
  bool close_after_reply_ = false;
  std::array<char, 4096> discard_{};
  size_t drained_ = 0;
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
      if (sessions_.size() >= limits_.max_connections) {
        spdlog::warn("refusing client {}: {} connections already", s->client(), sessions_.size());
        s->refuse("too many connections");
      } else {
        sessions_.insert(s);
        s->start();
      }
    } else {
      return accept_failed(ec);
    }
    accept();
  });
}

void Server::accept_failed(const boost::system::error_code& ec) {
  ++accept_failures_;
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
                 resources ? "; pausing accepts for 100 ms at a time" : "", accept_failures_);
  }
  if (!resources) return accept();
  accept_pause_.expires_after(std::chrono::milliseconds(100));
  accept_pause_.async_wait([this](const boost::system::error_code& e) {
    if (!e && acceptor_.is_open()) accept();
  });
}

void Server::closed(const std::shared_ptr<Session>& s) {
  if (sessions_.erase(s) == 0) return;
  spdlog::info("client {} disconnected", s->client());
  policy_.disconnect(s->client(), clock_.now());
  on_change_();
}

void Server::stop() {
  boost::system::error_code ec;
  if (acceptor_.is_open()) acceptor_.close(ec);
  accept_pause_.cancel();
  for (const auto& s : std::set<std::shared_ptr<Session>>(sessions_)) s->close();
  sessions_.clear();
  if (!bound_path_.empty()) {
    std::error_code fec;
    std::filesystem::remove(bound_path_, fec);
    bound_path_.clear();
  }
}

}  // namespace flamed
