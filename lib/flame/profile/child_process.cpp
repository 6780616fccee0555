#include "flame/profile/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace flame::profile {
namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos && extra.count(entry.substr(0, eq))) continue;
    out.push_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(std::string(k).append("=").append(v));
  return out;
}

CommandResult status_of(int status) {
  CommandResult r;
  if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  } else {
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

// The read end of the captured stdout: drained without blocking, closed on every way out.
class OutputPipe {
 public:
  explicit OutputPipe(int fd) : fd_(fd) {}
  ~OutputPipe() {
    if (fd_ >= 0) ::close(fd_);
  }
  OutputPipe(const OutputPipe&) = delete;
  OutputPipe& operator=(const OutputPipe&) = delete;
  // Hands over what can be read now. A child that left the pipe to a process of its own keeps it
  // open after exiting: reading stops at "nothing now", never waits for the end.
  void drain(const CommandRunner::OutputSink& sink) {
    if (fd_ < 0) return;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        sink(std::string_view(buf, static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {  // every writer closed it
        ::close(fd_);
        fd_ = -1;
      }
      return;
    }
  }

 private:
  int fd_;
};

}  // namespace

CommandResult ChildProcessRunner::run(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env,
                                      const std::function<bool()>& tick, const OutputSink& stdout_sink) {
  if (argv.empty()) return {.error = "no command given"};
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> envs = merged_environment(env);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int output[2] = {-1, -1};  // the command's stdout, when captured; read without blocking
  if (stdout_sink && ::pipe2(output, O_CLOEXEC) != 0)
    return {.error = fmt::format("pipe: {}", std::strerror(errno))};
  OutputPipe out(output[0]);
  int report[2];  // the child writes errno here if exec fails; close-on-exec tells success
  if (::pipe2(report, O_CLOEXEC) != 0) {
    if (output[1] >= 0) ::close(output[1]);
    return {.error = fmt::format("pipe: {}", std::strerror(errno))};
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    if (output[1] >= 0) ::close(output[1]);
    return {.error = fmt::format("fork: {}", std::strerror(errno))};
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (output[1] >= 0) ::dup2(output[1], STDOUT_FILENO);  // dup2 clears close-on-exec
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    const int err = errno;
    [[maybe_unused]] auto n = ::write(report[1], &err, sizeof err);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before any kill(-pid)
  ::close(report[1]);
  if (output[1] >= 0) ::close(output[1]);
  if (output[0] >= 0) ::fcntl(output[0], F_SETFL, ::fcntl(output[0], F_GETFL) | O_NONBLOCK);
  int exec_errno = 0;
  ssize_t got;
  do got = ::read(report[0], &exec_errno, sizeof exec_errno);
  while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return {.error = fmt::format("cannot run '{}': {}", argv[0], std::strerror(exec_errno))};
  }

  using clock = std::chrono::steady_clock;
  bool stopping = false;
  clock::time_point stop_at{};
  bool killed = false;
  for (;;) {
    int st = 0;
    const pid_t w = ::waitpid(pid, &st, WNOHANG);
    out.drain(stdout_sink);
    if (w == pid) {
      out.drain(stdout_sink);  // what it wrote just before exiting
      CommandResult r = status_of(st);
      r.stopped = stopping;
      return r;
    }
    if (w < 0 && errno != EINTR) return {.error = fmt::format("waitpid: {}", std::strerror(errno))};
    if (!stopping && !tick()) {
      stopping = true;
      stop_at = clock::now();
      ::kill(-pid, SIGINT);
    }
    if (stopping && !killed && clock::now() - stop_at > std::chrono::duration<double>(grace_s_)) {
      ::kill(-pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(tick_s_));
  }
}

}  // namespace flame::profile
