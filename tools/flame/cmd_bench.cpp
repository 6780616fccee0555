// flame bench socket: load a running flamed over its socket from N concurrent clients and report
// round-trip latency percentiles and throughput (docs/benchmarks.md). Valid requests alternate
// begin/end; --invalid-pct mixes in seeded random bad requests (malformed JSON, unknown op or model,
// bad fields...). Every reply is checked: ok for a valid request, an error for an invalid one.
// --rate paces the clients (open loop) to measure latency at a given load rather than at saturation.
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
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
  double invalid_pct = 0;  // share of requests that are deliberately invalid
  double rate = 0;         // total requests/s over all clients; 0 = as fast as replies come
  uint64_t seed = 1;
  bool json = false;
};

// Requests flamed must refuse without touching a clock; each fits on one line under the line cap.
std::string invalid_request(std::mt19937_64& rng, int64_t id) {
  switch (rng() % 14) {
    case 0:
      return R"({"op":"begin","id":)";  // truncated JSON
    case 1:
      return "not json at all";
    case 2:
      return fmt::format(R"({{"op":"fly","id":{}}})", id);
    case 3:
      return fmt::format(R"({{"op":"begin","id":{},"model":"no-such-model","deadline_ms":30}})", id);
    case 4:
      return fmt::format(R"({{"op":"begin","id":{},"model":"resnet50","deadline_ms":-5}})", id);
    case 5:
      return fmt::format(R"({{"op":"begin","id":{},"model":"resnet50"}})", id);
    case 6:
      return fmt::format(R"({{"op":"begin","id":"{}","model":"resnet50","deadline_ms":30}})", id);
    case 7:
      return fmt::format(R"({{"op":"begin","id":{},"model":"resnet50","deadline_ms":1e300}})", id);
    case 8:
      return fmt::format(R"({{"op":"end","id":{}}})", 1'000'000'000 + id);  // never begun
    case 9:
      return R"([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])";
    case 10:
      return "{\"op\":\"begin\",\"id\":1,\"model\":\"\xff\xfe\",\"deadline_ms\":30}";  // not UTF-8
    case 11:
      return fmt::format(R"({{"op":"begin","id":{},"model":"resnet50","deadline_ms":30,"phase":"warp"}})",
                         id);
    case 12:
      return "{}";
    default:
      return fmt::format(R"({{"op":"end","id":{},"latency_ms":"fast"}})", id);
  }
}

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
  std::atomic<int64_t> invalid_sent{0};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < a.clients; ++c)
    threads.emplace_back([&, c] {
      try {
        Line line(a.socket);
        std::mt19937_64 rng(a.seed * 1000003 + uint64_t(c));
        std::uniform_real_distribution<double> pct(0, 100);
        auto& out = rtts[size_t(c)];
        out.reserve(size_t(a.requests));
        // Paced clients start staggered so their sends do not all coincide.
        const auto period =
            a.rate > 0 ? std::chrono::duration<double>(a.clients / a.rate) : std::chrono::duration<double>(0);
        auto next =
            t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * c / a.clients);
        int64_t held = -1, next_id = 0;
        for (int i = 0; i < a.requests; ++i) {
          if (a.rate > 0) {
            std::this_thread::sleep_until(next);
            next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
          }
          const bool invalid = a.invalid_pct > 0 && pct(rng) < a.invalid_pct;
          std::string req;
          if (invalid) {
            req = invalid_request(rng, next_id);
            ++invalid_sent;
          } else if (held < 0) {
            held = next_id++;
            req = fmt::format(R"({{"op":"begin","id":{},"model":"{}","deadline_ms":{}}})", held, a.model,
                              a.deadline_ms);
          } else {
            req = fmt::format(R"({{"op":"end","id":{}}})", held);
            held = -1;
          }
          const auto s = std::chrono::steady_clock::now();
          const std::string reply = line.call(req + "\n");
          out.push_back(
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count());
          const auto j = nlohmann::json::parse(reply, nullptr, false);
          const bool ok = !j.is_discarded() && j.is_object() && j.value("ok", false);
          const bool refused =
              !j.is_discarded() && j.is_object() && !j.value("ok", true) && j.contains("error");
          if (invalid ? !refused : !ok) {
            if (failures++ < 5) fmt::print(stderr, "client {}: unexpected reply to {}: {}\n", c, req, reply);
          }
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
                                      {"invalid", invalid_sent.load()},
                                      {"seconds", secs},
                                      {"requests_per_s", rate},
                                      {"p50_us", pct(0.5)},
                                      {"p99_us", pct(0.99)}}
                           .dump());
  } else {
    fmt::print(
        "{} clients x {} requests ({} invalid): {:.0f} requests/s, round trip p50 {:.0f} us, p99 {:.0f} us, "
        "{} "
        "unexpected replies\n",
        a.clients, a.requests, invalid_sent.load(), rate, pct(0.5), pct(0.99), failures.load());
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
  sock->add_option("--invalid-pct", a->invalid_pct,
                   "Share of deliberately invalid requests (each must be refused)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sock->add_option("--rate", a->rate, "Total requests/s, paced over the clients (0: closed loop, saturating)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sock->add_option("--seed", a->seed, "Seed of the invalid mix")->capture_default_str();
  sock->add_flag("--json", a->json, "Print JSON");
  sock->callback([a] { run(*a); });
});

}  // namespace
