// flame bench socket: load a running flamed over its socket from N concurrent clients and report
// round-trip latency percentiles and throughput (docs/benchmarks.md). Requests alternate
// begin/end; every reply is checked.
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "command.hpp"

namespace {

struct Args {
  std::string socket = "/run/flame/flamed.sock";
  int clients = 16;
  int requests = 2000;  // per client
  std::string model = "resnet50";
  double deadline_ms = 30;
  bool json = false;
};

class Line {
 public:
  explicit Line(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long");
    std::strcpy(a.sun_path, path.c_str());
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error(fmt::format("cannot connect to {}: {}", path, std::strerror(errno)));
  }
  ~Line() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string call(const std::string& line) {
    for (size_t done = 0; done < line.size();) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n <= 0) throw std::runtime_error("write to flamed failed");
      done += size_t(n);
    }
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string r = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return r;
      }
      char tmp[4096];
      const ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) throw std::runtime_error("flamed closed the connection");
      buf_.append(tmp, size_t(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

void run(const Args& a) {
  std::vector<std::vector<double>> rtts(size_t(a.clients));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < a.clients; ++c)
    threads.emplace_back([&, c] {
      try {
        Line line(a.socket);
        auto& out = rtts[size_t(c)];
        out.reserve(size_t(a.requests));
        for (int i = 0; i < a.requests; ++i) {
          const bool begin = i % 2 == 0;
          const std::string req =
              begin ? fmt::format(R"({{"op":"begin","id":{},"model":"{}","deadline_ms":{}}})", i / 2, a.model,
                                  a.deadline_ms)
                    : fmt::format(R"({{"op":"end","id":{}}})", i / 2);
          const auto s = std::chrono::steady_clock::now();
          const std::string reply = line.call(req + "\n");
          out.push_back(
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count());
          if (!nlohmann::json::parse(reply).value("ok", false)) ++failures;
        }
      } catch (const std::exception& e) {
        fmt::print(stderr, "client {}: {}\n", c, e.what());
        failures += a.requests;
      }
    });
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> all;
  for (const auto& v : rtts) all.insert(all.end(), v.begin(), v.end());
  if (all.empty()) throw std::runtime_error("no request completed");
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, size_t(p * double(all.size() - 1)))]; };
  const double rate = double(all.size()) / secs;
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"clients", a.clients},
                                      {"requests", all.size()},
                                      {"failures", failures.load()},
                                      {"seconds", secs},
                                      {"requests_per_s", rate},
                                      {"p50_us", pct(0.5)},
                                      {"p99_us", pct(0.99)}}
                           .dump());
  } else {
    fmt::print(
        "{} clients x {} requests: {:.0f} requests/s, round trip p50 {:.0f} us, p99 {:.0f} us, {} failed\n",
        a.clients, a.requests, rate, pct(0.5), pct(0.99), failures.load());
  }
  if (failures.load() > 0) throw flame::cli::Exit{1};
}

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* bench = flame::cli::group(root, "bench", "Measure flame's performance");
  auto* sock = bench->add_subcommand("socket", "Load a running flamed with concurrent begin/end clients");
  auto a = std::make_shared<Args>();
  sock->add_option("--socket", a->socket, "flamed socket")->capture_default_str();
  sock->add_option("--clients", a->clients, "Concurrent connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  sock->add_option("--requests", a->requests, "Requests per client")
      ->capture_default_str()
      ->check(CLI::Range(2, 10000000));
  sock->add_option("--model", a->model, "Model name")->capture_default_str();
  sock->add_option("--deadline-ms", a->deadline_ms, "Deadline of every begin")->capture_default_str();
  sock->add_flag("--json", a->json, "Print JSON");
  sock->callback([a] { run(*a); });
});

}  // namespace
