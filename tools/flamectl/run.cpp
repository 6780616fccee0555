#include "run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>

#include "format.hpp"

namespace flamectl {
namespace {

volatile sig_atomic_t g_child = 0;

// Signals from other processes are passed on to the child. A terminal's ^C already reaches the
// child through the process group, so it is not sent twice (sudo does the same).
void forward(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && (sig != SIGINT && sig != SIGQUIT ? true : info->si_code == SI_USER))
    ::kill(g_child, sig);
}

void install_forwarding() {
  struct sigaction sa {};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
}

void reset_signals() {
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) std::signal(sig, SIG_DFL);
}

// Starts argv; returns the pid, or -errno if exec failed (reported through a CLOEXEC pipe).
pid_t spawn(const std::vector<std::string>& command) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return -errno;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return -e;
  }
  if (pid == 0) {
    reset_signals();
    std::vector<char*> argv;
    for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    const int e = errno;
    [[maybe_unused]] const auto n = ::write(pipefd[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(pipefd[1]);
  int e = 0;
  ssize_t n;
  while ((n = ::read(pipefd[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  ::close(pipefd[0]);
  if (n == static_cast<ssize_t>(sizeof e)) {
    ::waitpid(pid, nullptr, 0);
    return -e;
  }
  return pid;
}

// Waits for the child, calling tick() every `interval` (lease renewals).
int wait_child(pid_t pid, const std::function<std::chrono::milliseconds()>& tick,
               std::chrono::milliseconds interval) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto next = std::chrono::steady_clock::now() + interval;
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      status = 0;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      interval = tick();
      next = now + interval;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    if (pidfd < 0) wait = std::min<long>(wait, 50);  // no pidfd (kernel < 5.3): poll the child
    pollfd p{pidfd, POLLIN, 0};
    ::poll(pidfd >= 0 ? &p : nullptr, pidfd >= 0 ? 1 : 0, static_cast<int>(std::max<long>(wait, 1)));
  }
  if (pidfd >= 0) ::close(pidfd);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int run_command(const Globals& g, const RunOptions& o) {
  Globals quiet = g;
  quiet.json = false;  // the child owns stdout; flamectl speaks on stderr only
  DaemonLink link(quiet);
  Lease lease(link, o.args);
  std::optional<nlohmann::json> begun;
  std::string note;
  if (link.hello("flamectl run")) {
    begun = lease.begin();
    if (begun && !begun->value("ok", false)) {
      note = "flamed refused the request: " + begun->value("error", std::string("?"));
      std::fprintf(stderr, "flamectl: %s\n", note.c_str());
      if (o.strict) return kDaemonError;
      begun.reset();
    }
  }
  if (!begun) {
    if (note.empty()) note = link.unreachable_message();
    if (o.strict) return begun ? kDaemonError : kUnreachable;
    std::fprintf(stderr, "flamectl: running %s without a deadline hint\n", o.command.front().c_str());
  } else if (o.verbose && !g.json) {
    std::fprintf(stderr, "%s", format_begin(*begun).c_str());
  }

  install_forwarding();
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = spawn(o.command);
  if (pid < 0) {
    std::fprintf(stderr, "flamectl: cannot run %s: %s\n", o.command.front().c_str(), std::strerror(-pid));
    if (begun) lease.end(std::nullopt);
    return -pid == ENOENT ? 127 : 126;
  }
  g_child = pid;
  bool renew_failed = false;
  const int code = wait_child(
      pid,
      [&] {
        if (begun && !renew_failed && !lease.renew()) {
          renew_failed = true;
          std::fprintf(stderr, "flamectl: lost the request to flamed (%s); the command goes on\n",
                       link.unreachable_message().c_str());
        }
        return lease.renew_interval();
      },
      lease.renew_interval());
  g_child = 0;
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::optional<nlohmann::json> ended;
  // Without a latency, flamed releases the request without counting a deadline or recalibrating
  // (docs/protocol.md). A failed command's wall time says nothing about the model either.
  const bool report = o.report_latency && code == 0;
  if (begun && !renew_failed) ended = lease.end(report ? std::optional<double>(latency_ms) : std::nullopt);
  const bool reported = report && ended && ended->value("ok", false);
  if (g.json) {
    nlohmann::json summary = {{"exit_code", code},
                              {"latency_ms", latency_ms},
                              {"latency_reported", reported},
                              {"held", begun.has_value()}};
    if (begun) summary["begin"] = *begun;
    if (ended) summary["end"] = *ended;
    if (!note.empty()) summary["note"] = note;
    std::fprintf(stderr, "%s\n", summary.dump().c_str());
  } else if (o.verbose) {
    const char* outcome = !(ended && ended->value("ok", false)) ? ""
                          : reported                            ? "; request ended, latency reported"
                                                                : "; request ended, no latency reported";
    std::fprintf(stderr, "flamectl: %s exited with %d after %.1f ms%s\n", o.command.front().c_str(), code,
                 latency_ms, outcome);
  }
  return code;
}

}  // namespace flamectl
