#pragma once
// flame/client.hpp: a header-only, dependency-free C++20 client for flamed (docs/protocol.md).
//
//   {
//     flame::DeadlineScope d("resnet50", 30.0);  // begin: flamed sets the clocks, then returns
//     run_inference();
//   }                                            // end: reports the measured latency
//
// GPU runtimes return before the device has finished; give DeadlineScope a sync callback (e.g.
// one that calls cudaStreamSynchronize) so that the latency ends when the work does.
//
// The application must work the same without the daemon: when the socket is absent, refuses,
// denies access or stops answering, every call is a no-op (one warning on stderr, silenced by
// FLAME_CLIENT_QUIET=1) and the client retries the connection at most every few seconds.
// FLAME_SOCKET overrides the socket path. Client is thread-safe; DeadlineScope is not shared.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace flame {

inline constexpr const char* kDefaultSocketPath = "/run/flame/flamed.sock";

inline std::string default_socket_path() {
  const char* env = std::getenv("FLAME_SOCKET");
  return env && *env ? env : kDefaultSocketPath;
}

// Why the daemon could not be reached; callers such as flamectl turn it into advice.
enum class Unavailable { None, Absent, Refused, Denied, Timeout, Closed, Other };

namespace detail {

// Reads the top-level members of one JSON object without building a tree: enough for flamed's
// replies, whose interesting members (ok, error, predicted_ms, feasible, id) are scalars.
class JsonMembers {
 public:
  explicit JsonMembers(std::string_view text) : s_(text) {}

  // The raw text of the member's value (a string keeps its quotes), or nothing.
  std::optional<std::string_view> raw(std::string_view key) const {
    size_t i = 0;
    ws(i);
    if (i >= s_.size() || s_[i] != '{') return std::nullopt;
    ++i;
    for (;;) {
      ws(i);
      if (i >= s_.size() || s_[i] == '}') return std::nullopt;
      const size_t k0 = i;
      if (!skip_string(i)) return std::nullopt;
      const auto name = decode(s_.substr(k0, i - k0));
      ws(i);
      if (i >= s_.size() || s_[i] != ':') return std::nullopt;
      ++i;
      ws(i);
      const size_t v0 = i;
      if (!skip_value(i)) return std::nullopt;
      if (name && *name == key) return s_.substr(v0, i - v0);
      ws(i);
      if (i < s_.size() && s_[i] == ',') ++i;
    }
  }

  std::optional<bool> boolean(std::string_view key) const {
    const auto v = raw(key);
    if (v == "true") return true;
    if (v == "false") return false;
    return std::nullopt;
  }

  std::optional<double> number(std::string_view key) const {
    const auto v = raw(key);
    if (!v || v->empty() || !(v->front() == '-' || (v->front() >= '0' && v->front() <= '9')))
      return std::nullopt;
    double d = 0;
    const auto r = std::from_chars(v->data(), v->data() + v->size(), d);
    if (r.ec != std::errc() || r.ptr != v->data() + v->size()) return std::nullopt;
    return d;
  }

  std::optional<std::string> string(std::string_view key) const {
    const auto v = raw(key);
    return v ? decode(*v) : std::nullopt;
  }

  // Decodes a quoted JSON string (escapes included); nothing if it is not one.
  static std::optional<std::string> decode(std::string_view q) {
    if (q.size() < 2 || q.front() != '"' || q.back() != '"') return std::nullopt;
    std::string out;
    for (size_t i = 1; i + 1 < q.size(); ++i) {
      char c = q[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++i + 1 >= q.size()) return std::nullopt;  // a backslash before the closing quote
      switch (q[i]) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (i + 4 >= q.size()) return std::nullopt;
          unsigned cp = 0;
          const auto r = std::from_chars(q.data() + i + 1, q.data() + i + 5, cp, 16);
          if (r.ec != std::errc() || r.ptr != q.data() + i + 5) return std::nullopt;
          i += 4;
          // Surrogate pairs are rare in model names; an unpaired half becomes U+FFFD.
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          out += q[i];
          break;  // \" \\ \/
      }
    }
    return out;
  }

 private:
  void ws(size_t& i) const {
    while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) ++i;
  }
  bool skip_string(size_t& i) const {
    if (i >= s_.size() || s_[i] != '"') return false;
    for (++i; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == '"') {
        ++i;
        return true;
      }
    }
    return false;
  }
  bool skip_value(size_t& i) const {
    if (i >= s_.size()) return false;
    if (s_[i] == '"') return skip_string(i);
    if (s_[i] == '{' || s_[i] == '[') {
      int depth = 0;
      while (i < s_.size()) {
        const char c = s_[i];
        if (c == '"') {
          if (!skip_string(i)) return false;
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++i;
        if (depth == 0) return true;
      }
      return false;
    }
    const size_t start = i;
    while (i < s_.size() && s_[i] != ',' && s_[i] != '}' && s_[i] != ']' && s_[i] != ' ' && s_[i] != '\n')
      ++i;
    return i > start;
  }

  std::string_view s_;
};

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";  // the daemon then answers with a clear error
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace detail

// One reply line from flamed.
struct Reply {
  std::string raw;
  bool ok = false;
  std::string error;  // the daemon's reason when !ok

  explicit Reply(std::string line) : raw(std::move(line)) {
    const detail::JsonMembers m(raw);
    ok = m.boolean("ok").value_or(false);
    if (!ok) error = m.string("error").value_or("malformed reply: " + raw);
  }
  std::optional<double> number(std::string_view key) const { return detail::JsonMembers(raw).number(key); }
  std::optional<bool> boolean(std::string_view key) const { return detail::JsonMembers(raw).boolean(key); }
  std::optional<std::string> string(std::string_view key) const {
    return detail::JsonMembers(raw).string(key);
  }
  std::optional<std::string_view> member(std::string_view key) const {
    return detail::JsonMembers(raw).raw(key);
  }
};

struct ClientOptions {
  std::string socket_path = default_socket_path();
  std::chrono::milliseconds timeout{2000};         // per request; the daemon sets clocks before it answers
  std::chrono::milliseconds retry_interval{5000};  // after a failure, stay quiet this long
  bool warn = std::getenv("FLAME_CLIENT_QUIET") == nullptr;  // one line on stderr the first time
  std::string app;                                           // sent in hello
};

class Client {
 public:
  explicit Client(ClientOptions options = {}) : o_(std::move(options)) {}
  explicit Client(std::string socket_path) : Client(options_for(std::move(socket_path))) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { disconnect(); }

  // The process-wide client that DeadlineScope uses by default.
  static Client& shared() {
    static Client client;
    return client;
  }

  const std::string& socket_path() const { return o_.socket_path; }

  // Sends one request line (a JSON object) and returns the reply; nothing if the daemon is not
  // reachable (see last_failure()). A timeout drops the connection, which releases its requests.
  std::optional<Reply> request(std::string_view json_line) {
    std::lock_guard lock(mutex_);
    const bool reused = fd_ >= 0;
    if (!ensure_connected()) return std::nullopt;
    const std::string line = std::string(json_line) + '\n';
    std::string reply;
    if (send_all(line) && read_line(reply)) return Reply(std::move(reply));
    // flamed closes idle connections (limits.idle_timeout_ms) and a restart closes all of them
    // while the (activation) socket stays: a connection that worked before gets one fresh try,
    // transparently. A daemon that does not answer in time gets none.
    if (reused && failure_ != Unavailable::Timeout) {
      close_fd();
      failed_once_ = false;
      if (!ensure_connected()) return std::nullopt;
      if (send_all(line) && read_line(reply)) return Reply(std::move(reply));
    }
    drop(failure_ == Unavailable::None ? Unavailable::Closed : failure_, "the daemon closed the connection");
    return std::nullopt;
  }

  std::optional<Reply> hello(std::string_view app) {
    return request(R"({"op":"hello","proto":1,"app":)" + detail::json_string(app) + "}");
  }
  std::optional<Reply> begin(int64_t id, std::string_view model, double deadline_ms,
                             std::optional<int> ctx = {}, std::optional<std::string_view> phase = {}) {
    std::string r = R"({"op":"begin","id":)" + std::to_string(id) + R"(,"model":)" +
                    detail::json_string(model) + R"(,"deadline_ms":)" + detail::json_number(deadline_ms);
    if (ctx) r += R"(,"ctx":)" + std::to_string(*ctx);
    if (phase) r += R"(,"phase":)" + detail::json_string(*phase);
    return request(r + "}");
  }
  std::optional<Reply> end(int64_t id, std::optional<double> latency_ms = {}) {
    std::string r = R"({"op":"end","id":)" + std::to_string(id);
    if (latency_ms) r += R"(,"latency_ms":)" + detail::json_number(*latency_ms);
    return request(r + "}");
  }
  // The summary: clocks, models, calibration, counters and request counts.
  std::optional<Reply> status() { return request(R"({"op":"status"})"); }
  // A page of the active requests this caller may see (its own user's; everyone's for root and the
  // admin group): "requests", "total", and "next" to pass as `after` for the page that follows.
  std::optional<Reply> requests(size_t limit = 100, std::string_view after = {}) {
    std::string r = R"({"op":"status","detail":"requests","limit":)" + std::to_string(limit);
    if (!after.empty()) r += R"(,"after":)" + detail::json_string(after);
    return request(r + "}");
  }

  // Request ids are unique per connection; one counter per client keeps them unique.
  int64_t next_id() { return next_id_.fetch_add(1); }

  bool available() {
    std::lock_guard lock(mutex_);
    return ensure_connected();
  }
  Unavailable last_failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
  }
  std::string last_error() const {
    std::lock_guard lock(mutex_);
    return why_;
  }
  void disconnect() {
    std::lock_guard lock(mutex_);
    close_fd();
  }

 private:
  static ClientOptions options_for(std::string path) {
    ClientOptions o;
    o.socket_path = std::move(path);
    return o;
  }

  bool ensure_connected() {
    if (fd_ >= 0) return true;
    const auto now = std::chrono::steady_clock::now();
    if (failed_once_ && now - last_attempt_ < o_.retry_interval) return false;
    last_attempt_ = now;
    if (!connect_socket()) {
      failed_once_ = true;
      if (o_.warn && !warned_.exchange(true))
        std::fprintf(stderr, "flame: %s; deadline hints are off (set FLAME_CLIENT_QUIET=1 to hide this)\n",
                     why_.c_str());
      return false;
    }
    failure_ = Unavailable::None;
    why_.clear();
    if (!o_.app.empty()) {
      std::string line = R"({"op":"hello","proto":1,"app":)" + detail::json_string(o_.app) + "}\n";
      if (!send_all(line) || !read_line(line)) {
        drop(Unavailable::Closed, "the daemon closed the connection");
        return false;
      }
    }
    return true;
  }

  bool connect_socket() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (o_.socket_path.size() >= sizeof addr.sun_path) {
      fail(Unavailable::Other, "socket path too long: " + o_.socket_path);
      return false;
    }
    std::memcpy(addr.sun_path, o_.socket_path.c_str(), o_.socket_path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      fail(Unavailable::Other, std::string("socket: ") + std::strerror(errno));
      return false;
    }
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int e = errno;
      close_fd();
      if (e == ENOENT || e == ENOTDIR)
        fail(Unavailable::Absent, "flamed is not running (no socket at " + o_.socket_path + ")");
      else if (e == ECONNREFUSED)
        fail(Unavailable::Refused, "flamed is not running (" + o_.socket_path + " refuses connections)");
      else if (e == EACCES || e == EPERM)
        fail(Unavailable::Denied,
             "permission denied on " + o_.socket_path +
                 " (join group 'flame': sudo usermod -aG flame $USER, then log in again)");
      else
        fail(Unavailable::Other, "cannot connect to " + o_.socket_path + ": " + std::strerror(e));
      return false;
    }
    buffer_.clear();
    return true;
  }

  void fail(Unavailable u, std::string why) {
    failure_ = u;
    why_ = std::move(why);
  }
  void drop(Unavailable u, std::string why) {
    close_fd();
    failed_once_ = true;
    last_attempt_ = std::chrono::steady_clock::now();
    if (failure_ == Unavailable::None || failure_ == u) fail(u, std::move(why));
    if (o_.warn && !warned_.exchange(true))
      std::fprintf(stderr, "flame: %s; deadline hints are off\n", why_.c_str());
  }
  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int remaining_ms(std::chrono::steady_clock::time_point deadline) const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
  }

  bool wait(short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      pollfd p{fd_, events, 0};
      const int n = ::poll(&p, 1, remaining_ms(deadline));
      if (n > 0) return true;
      if (n == 0) {
        fail(Unavailable::Timeout,
             "flamed did not answer within " + std::to_string(o_.timeout.count()) + " ms");
        return false;
      }
      if (errno != EINTR) return false;
    }
  }

  bool send_all(std::string_view data) {
    const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
    while (!data.empty()) {
      if (!wait(POLLOUT, deadline)) return false;
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  bool read_line(std::string& line) {
    const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      if (!wait(POLLIN, deadline)) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  ClientOptions o_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::string buffer_;
  Unavailable failure_ = Unavailable::None;
  std::string why_;
  bool failed_once_ = false;
  std::chrono::steady_clock::time_point last_attempt_{};
  std::atomic<bool> warned_{false};
  std::atomic<int64_t> next_id_{1};
};

// Holds a deadline request for its lifetime: begin on construction (the clocks are set when the
// constructor returns), end with the measured latency on destruction. If the scope is left by an
// exception, or discard() was called, end carries no latency, so a failed run cannot skew the
// daemon's calibration.
//
// The latency must be the device's: CUDA, TensorRT and most runtimes return once the work is
// queued. `sync`, when given, is called before the latency is taken, and should wait for the
// work the scope queued (cudaStreamSynchronize on the inference's stream, cudaDeviceSynchronize,
// ...). It is called only while the daemon holds the request and the scope ends normally.
class DeadlineScope {
 public:
  struct Workload {
    std::optional<int> ctx;  // SLM models: context length and phase ("prefill" or "decode")
    std::optional<std::string> phase;
  };
  using Sync = std::function<void()>;

  DeadlineScope(std::string_view model, double deadline_ms, Workload w = {}, Sync sync = {})
      : DeadlineScope(Client::shared(), model, deadline_ms, std::move(w), std::move(sync)) {}
  DeadlineScope(Client& client, std::string_view model, double deadline_ms, Workload w = {}, Sync sync = {})
      : client_(client),
        id_(client.next_id()),
        exceptions_(std::uncaught_exceptions()),
        sync_(std::move(sync)) {
    std::optional<std::string_view> phase;
    if (w.phase) phase = *w.phase;
    reply_ = client_.begin(id_, model, deadline_ms, w.ctx, phase);
    active_ = reply_ && reply_->ok;
    start_ = std::chrono::steady_clock::now();
  }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

  // A destructor must not throw: a failing sync ends the request without a latency here, and
  // only finish() lets the caller see the failure.
  ~DeadlineScope() {
    try {
      finish();
    } catch (...) {  // the request has ended; a caller who needs the error calls finish()
    }
  }

  // Ends the request now (the destructor then does nothing): waits for the device with `sync`,
  // then reports the latency. If `sync` throws, the request ends without a latency and the
  // exception propagates.
  void finish() {
    if (!active_ || finished_) return;
    finished_ = true;
    if (discarded_ || std::uncaught_exceptions() > exceptions_) {
      client_.end(id_);
      return;
    }
    if (sync_) {
      try {
        sync_();
      } catch (...) {
        client_.end(id_);
        throw;
      }
    }
    latency_ms_ = elapsed_ms();
    client_.end(id_, latency_ms_);
  }

  // True when the daemon accepted the request (its clocks are in force).
  bool active() const { return active_; }
  // The daemon's begin reply (clocks, predicted_ms, feasible), or nothing without a daemon.
  const std::optional<Reply>& reply() const { return reply_; }
  int64_t id() const { return id_; }
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }
  // The latency reported to the daemon by finish(), if one was.
  std::optional<double> latency_ms() const { return latency_ms_; }
  // End without reporting a latency (the work did not complete normally).
  void discard() { discarded_ = true; }

 private:
  Client& client_;
  int64_t id_;
  int exceptions_;
  Sync sync_;
  std::optional<Reply> reply_;
  bool active_ = false;
  bool discarded_ = false;
  bool finished_ = false;
  std::optional<double> latency_ms_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace flame
