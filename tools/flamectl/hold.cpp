#include "hold.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "format.hpp"

namespace flamectl {
namespace {

// A directory only this user can use: $XDG_RUNTIME_DIR/flamectl, else /tmp/flamectl-UID.
std::optional<std::string> holder_dir(std::string& why) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir =
      xdg && *xdg ? std::string(xdg) + "/flamectl" : fmt::format("/tmp/flamectl-{}", ::getuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    why = fmt::format("cannot create {}: {}", dir, std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid() ||
      (st.st_mode & 077) != 0) {
    why = fmt::format("{} is not a private directory of this user; remove it", dir);
    return std::nullopt;
  }
  return dir;
}

std::optional<std::string> holder_path(int64_t id, std::string& why) {
  const auto dir = holder_dir(why);
  if (!dir) return std::nullopt;
  return fmt::format("{}/{}.sock", *dir, id);
}

int unix_socket(const std::string& path, bool listen_on, int& err) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    err = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
  if (listen_on ? (::bind(fd, sa, sizeof addr) != 0 || ::listen(fd, 4) != 0)
                : ::connect(fd, sa, sizeof addr) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_line(int fd, int timeout_ms) {
  std::string line;
  char c;
  while (line.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    if (::read(fd, &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  return line;
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0 && errno != EINTR) return;
    if (n > 0) off += static_cast<size_t>(n);
  }
}

// The holder: keeps the daemon connection, renews the request, and ends it when asked.
[[noreturn]] void hold(DaemonLink& link, Lease& lease, int listener, const std::string& path,
                       double max_hold_s) {
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(max_hold_s));
  auto next_renew = std::chrono::steady_clock::now() + lease.renew_interval();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= give_up) break;
    if (now >= next_renew) {
      if (!lease.renew()) break;  // the daemon went away: nothing left to hold
      next_renew = now + lease.renew_interval();
    }
    const auto wait = std::min(next_renew, give_up) - now;
    pollfd p{listener, POLLIN, 0};
    const int n = ::poll(
        &p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1);
    if (n <= 0) continue;
    const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    const std::string cmd = read_line(c, 2000);  // "end" or "end <latency_ms>"
    if (cmd.rfind("end", 0) != 0) {
      ::close(c);
      continue;
    }
    std::optional<double> latency;
    if (cmd.size() > 4) latency = std::strtod(cmd.c_str() + 4, nullptr);
    const auto r = link.client().end(lease.args().id, latency);
    write_all(
        c, (r ? r->raw : nlohmann::json{{"ok", false}, {"error", link.unreachable_message()}}.dump()) + "\n");
    ::close(c);
    break;
  }
  ::unlink(path.c_str());
  ::_exit(0);
}

}  // namespace

int begin_command(const Globals& g, HoldOptions o) {
  if (!o.id_given) o.args.id = ::getpid();
  std::string why;
  const auto path = holder_path(o.args.id, why);
  if (!path) {
    report_error(g, why, "holder");
    return kUsage;
  }
  int err = 0;
  if (const int probe = unix_socket(*path, false, err); probe >= 0) {
    ::close(probe);
    report_error(g, fmt::format("request {} is already held by another 'flamectl begin'", o.args.id), "busy");
    return kUsage;
  }
  ::unlink(path->c_str());  // a stale socket of a holder that died

  DaemonLink link(g);
  if (!link.hello("flamectl begin")) return kUnreachable;
  Lease lease(link, o.args);
  const auto r = lease.begin();
  if (!r) return kUnreachable;
  if (!r->value("ok", false)) {
    if (g.json)
      std::printf("%s\n", r->dump().c_str());
    else
      std::fprintf(stderr, "flamectl: flamed refused the request: %s\n",
                   r->value("error", std::string("?")).c_str());
    return kDaemonError;
  }
  const int listener = unix_socket(*path, true, err);
  if (listener < 0) {
    report_error(g, fmt::format("cannot listen on {}: {}", *path, std::strerror(err)), "holder");
    return kUsage;
  }
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    report_error(g, fmt::format("fork: {}", std::strerror(errno)), "holder");
    return kUsage;
  }
  if (pid == 0) {
    ::setsid();
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; ++fd) ::dup2(devnull, fd);  // the caller's pipes must not stay open
    hold(link, lease, listener, *path, o.max_hold_s);
  }
  ::close(listener);
  if (g.json) {
    nlohmann::json out = *r;
    out["holder_pid"] = pid;
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s", format_begin(*r).c_str());
    std::printf(
        "held by process %d for at most %g s; release with: flamectl end --id %lld [--latency-ms MS]\n", pid,
        o.max_hold_s, static_cast<long long>(o.args.id));
  }
  return kOk;
}

int end_command(const Globals& g, int64_t id, std::optional<double> latency_ms) {
  std::string why;
  const auto path = holder_path(id, why);
  if (!path) {
    report_error(g, why, "holder");
    return kUsage;
  }
  int err = 0;
  const int fd = unix_socket(*path, false, err);
  if (fd < 0) {
    report_error(
        g,
        fmt::format("no request {} is held by 'flamectl begin' (it ended, expired or was never begun)", id),
        "not-held");
    return kDaemonError;
  }
  write_all(fd, latency_ms ? fmt::format("end {}\n", *latency_ms) : std::string("end\n"));
  const std::string line = read_line(fd, static_cast<int>(g.timeout_s * 1000) + 1000);
  ::close(fd);
  const auto r = nlohmann::json::parse(line, nullptr, false);
  if (!r.is_object()) {
    report_error(g, "the holder of request " + std::to_string(id) + " did not answer", "holder");
    return kUnreachable;
  }
  if (g.json) std::printf("%s\n", r.dump().c_str());
  if (!r.value("ok", false)) {
    if (!g.json) std::fprintf(stderr, "flamectl: %s\n", r.value("error", std::string("?")).c_str());
    return kDaemonError;
  }
  if (!g.json) std::printf("%s", format_end(r).c_str());
  return kOk;
}

}  // namespace flamectl
