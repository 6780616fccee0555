// The header-only C++ client (clients/cpp/flame/client.hpp): its JSON reader, the no-op paths
// without a daemon, and the protocol against flamed's real socket server and governor running
// in-process on a fake board. With FLAME_TEST_SOCKET set (tests/integration/cpp_client.sh), one
// more case drives a separately started flamed.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <flame/client.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "flame/policy/policy.hpp"
#include "policy_clock.hpp"
#include "transport/server.hpp"

using flame::detail::JsonMembers;

TEST_CASE("client: JSON reader finds top-level scalars and skips nested values") {
  const JsonMembers m(
      R"( {"id":7, "clocks":{"ok":false,"x":[1,{"y":"}"}]}, "note":"a \"quoted\" \\ }, {", "ok" : true,)"
      R"( "predicted_ms":27.5e0, "feasible":false, "neg":-3, "name":"caf\u00e9\n"} )");
  CHECK(m.boolean("ok") == true);
  CHECK(m.boolean("feasible") == false);
  CHECK(m.number("id") == 7);
  CHECK(m.number("predicted_ms") == Approx(27.5));
  CHECK(m.number("neg") == -3);
  CHECK(m.string("note") == std::string("a \"quoted\" \\ }, {"));
  CHECK(m.string("name") == std::string("caf\xc3\xa9\n"));
  CHECK(m.raw("clocks") == std::string_view(R"({"ok":false,"x":[1,{"y":"}"}]})"));
  CHECK_FALSE(m.raw("missing"));
  CHECK_FALSE(m.number("note"));
  CHECK_FALSE(m.boolean("id"));
}

TEST_CASE("client: JSON reader refuses malformed input without crashing") {
  for (const char* bad : {"", "[]", "{", R"({"ok")", R"({"ok":)", R"({"a":"unterminated)", R"({"a":{"b":1})",
                          "null", R"({"ok":tru)", R"({"s":"\u12"})", R"({"s":"\"})"}) {
    INFO(bad);
    const JsonMembers m(bad);
    CHECK_FALSE(m.boolean("ok").value_or(false));
    CHECK_FALSE(m.string("s"));
  }
  const flame::Reply r("not json");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("malformed reply") != std::string::npos);
}

TEST_CASE("client: request strings are escaped JSON") {
  const std::string s = flame::detail::json_string("a\"b\\c\n\x01");
  CHECK(s == R"("a\"b\\c\n\u0001")");
  CHECK(JsonMembers::decode(s) == std::string("a\"b\\c\n\x01"));
  CHECK(flame::detail::json_number(30) == "30");
  CHECK(flame::detail::json_number(0.25) == "0.25");
  CHECK(flame::detail::json_number(std::nan("")) == "null");
}

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char t[] = "/tmp/flame-client-XXXXXX";
    if (!::mkdtemp(t)) throw std::runtime_error("mkdtemp");
    path = t;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

flame::ClientOptions quick(const std::string& path) {
  flame::ClientOptions o;
  o.socket_path = path;
  o.timeout = std::chrono::milliseconds(300);
  o.retry_interval = std::chrono::milliseconds(0);
  o.warn = false;
  return o;
}

// A board with a small grid; it records what it was asked to apply.
class FakeBoard : public flame::policy::Actuator {
 public:
  const flame::ClockGrid& grid() const override { return grid_; }
  flame::Clocks apply(const flame::Clocks& target) override { return current_ = target; }
  void restore() override { current_ = {}; }
  flame::Clocks current() const override { return current_; }

 private:
  flame::ClockGrid grid_{{600000, 1200000}, {}, {3e8, 9e8}, {8e8, 2e9}};
  flame::Clocks current_{};
};

class FixedModel : public flame::model::LatencyModel {
 public:
  flame::Estimate estimate(const flame::Clocks& c, const flame::model::Workload&) const override {
    return {c.gpu_hz >= 9e8 ? 5.0 : 12.0, 10.0};
  }
  std::string kind() const override { return "fixed"; }
};

// flamed's own socket server and policy, on an io_context thread.
class InProcessDaemon {
 public:
  explicit InProcessDaemon(const std::filesystem::path& socket, const flamed::Config::Limits& limits = {})
      : policy_({}, board_, {}, plan), server_(io_, limits, policy_, clock_, [] {}) {
    spdlog::set_level(spdlog::level::warn);  // the server logs every connection at info
    policy_.set_models({{"resnet50", std::make_shared<FixedModel>()}});
    server_.listen(socket, 0600, "");
    thread_ = std::thread([this] { io_.run(); });
  }
  ~InProcessDaemon() {
    boost::asio::post(io_, [this] {
      server_.stop();
      io_.stop();
    });
    thread_.join();
  }

 private:
  static flame::policy::Decision plan(const flame::model::LatencyModel& m, const flame::model::Workload& w,
                                      const flame::ClockGrid& g, double target_ms) {
    flame::Clocks c{g.cpu_khz.front(), 0, g.gpu_hz.front(), g.emc_hz.front()};
    if (m.estimate(c, w).latency_ms > target_ms) c = g.max();
    const double ms = m.estimate(c, w).latency_ms;
    return {c, ms, 10.0, ms <= target_ms, 2};
  }

  boost::asio::io_context io_;
  FakeBoard board_;
  flame::policy::Policy policy_;
  flamed::PolicyClock clock_{false};
  flamed::Server server_;
  std::thread thread_;
};

nlohmann::json status_of(flame::Client& c) {
  const auto r = c.status();
  REQUIRE(r);
  REQUIRE(r->ok);
  return nlohmann::json::parse(r->raw);
}

// The active requests the daemon shows this client (one page is all of them here).
nlohmann::json requests_of(flame::Client& c) {
  const auto r = c.requests(1000);
  REQUIRE(r);
  REQUIRE(r->ok);
  return nlohmann::json::parse(r->raw)["requests"];
}

// The latency the daemon last received for resnet50, from its calibration bucket: the measured /
// predicted ratio times the uncorrected prediction (the begin's predicted_ms over its factor).
double reported_ms(flame::Client& c, const flame::Reply& begin) {
  const auto bucket = status_of(c)["calibration"]["resnet50"];
  return bucket["last_ratio"].get<double>() * *begin.number("predicted_ms") / *begin.number("calibration");
}

// How long the fake device takes to finish what a scope queued.
constexpr auto kSync = std::chrono::milliseconds(80);

}  // namespace

TEST_CASE("client: without a daemon every call is a no-op") {
  TempDir dir;
  const auto path = (dir.path / "absent.sock").string();
  flame::Client c(quick(path));
  CHECK_FALSE(c.available());
  CHECK_FALSE(c.status());
  CHECK(c.last_failure() == flame::Unavailable::Absent);
  CHECK(c.last_error() == "flamed is not running (no socket at " + path + ")");
  bool ran = false;
  bool synced = false;
  {
    flame::DeadlineScope d(c, "resnet50", 30, {}, [&] { synced = true; });
    CHECK_FALSE(d.active());
    CHECK_FALSE(d.reply());
    ran = true;
  }
  CHECK(ran);
  CHECK_FALSE(synced);  // nothing is reported, so the application is not made to wait
}

TEST_CASE("client: a socket that refuses or never answers is a no-op too") {
  TempDir dir;
  const auto path = (dir.path / "s.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  {
    flame::Client c(quick(path));
    CHECK_FALSE(c.hello("test"));
    CHECK(c.last_failure() == flame::Unavailable::Refused);
  }
  REQUIRE(::listen(fd, 4) == 0);  // the kernel accepts, nobody answers
  {
    flame::ClientOptions o = quick(path);
    o.retry_interval = std::chrono::hours(1);
    flame::Client c(o);
    const auto t0 = std::chrono::steady_clock::now();
    flame::DeadlineScope d(c, "resnet50", 30);
    CHECK_FALSE(d.active());
    CHECK(c.last_failure() == flame::Unavailable::Timeout);
    // After a failure the client stays quiet for retry_interval instead of waiting again.
    CHECK_FALSE(c.status());
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));
  }
  ::close(fd);
}

TEST_CASE("client: protocol against flamed's server and governor") {
  TempDir dir;
  const auto path = (dir.path / "flamed.sock").string();
  InProcessDaemon daemon(path);
  flame::Client c(quick(path));

  const auto hello = c.hello("catch2");
  REQUIRE(hello);
  CHECK(hello->ok);
  CHECK(hello->number("proto") == 1);
  CHECK(hello->string("daemon") == std::string("flamed"));

  SECTION("begin and end") {
    const auto b = c.begin(7, "resnet50", 30);
    REQUIRE(b);
    CHECK(b->ok);
    CHECK(b->number("id") == 7);
    CHECK(b->boolean("feasible") == true);
    CHECK(b->number("predicted_ms") == Approx(12.0));
    CHECK(requests_of(c).size() == 1);
    const auto e = c.end(7, 11.0);
    REQUIRE(e);
    CHECK(e->ok);
    CHECK(e->member("calibration"));
    CHECK(requests_of(c).empty());
  }
  SECTION("a scope holds the request and reports its latency") {
    {
      flame::DeadlineScope d(c, "resnet50", 10);
      REQUIRE(d.active());
      CHECK(d.reply()->number("predicted_ms") == Approx(5.0));  // needed the fast GPU clock
      const auto s = status_of(c);
      CHECK(s["active_requests"] == 1);
      const auto mine = requests_of(c);
      REQUIRE(mine.size() == 1);
      CHECK(mine[0]["id"] == d.id());
      CHECK(s["applied"]["gpu_hz"] == 9e8);
    }
    const auto s = status_of(c);
    CHECK(s["active_requests"] == 0);
    CHECK(s["counters"]["ends"] == 1);
    // The latency was reported: counted as met or missed (a loaded machine can miss 10 ms).
    CHECK(s["counters"]["deadline_met"].get<int>() + s["counters"]["deadline_missed"].get<int>() == 1);
  }
  SECTION("a scope left by an exception ends without a latency") {
    try {
      flame::DeadlineScope d(c, "resnet50", 30);
      REQUIRE(d.active());
      throw std::runtime_error("inference failed");
    } catch (const std::runtime_error&) {
    }
    const auto s = status_of(c);
    CHECK(s["active_requests"] == 0);
    CHECK(s["counters"]["ends"] == 1);
    CHECK(s["counters"]["deadline_met"] == 0);
    CHECK(s["counters"]["deadline_missed"] == 0);
  }
  SECTION("the sync callback is part of the latency") {
    std::optional<flame::Reply> begun;
    int syncs = 0;
    {
      // An empty scope on a device that needs kSync to finish: without the sync, ~0 ms.
      flame::DeadlineScope d(c, "resnet50", 50, {}, [&] {
        ++syncs;
        std::this_thread::sleep_for(kSync);
      });
      REQUIRE(d.active());
      begun = d.reply();
    }
    CHECK(syncs == 1);
    CHECK(reported_ms(c, *begun) >= 80.0);
    const auto s = status_of(c);
    CHECK(s["counters"]["deadline_missed"] == 1);  // 80 ms against a 50 ms deadline
    CHECK(s["counters"]["deadline_met"] == 0);
  }
  SECTION("finish() syncs, reports and ends once") {
    int syncs = 0;
    flame::DeadlineScope d(c, "resnet50", 1000, {}, [&] {
      ++syncs;
      std::this_thread::sleep_for(kSync);
    });
    REQUIRE(d.active());
    d.finish();
    REQUIRE(d.latency_ms());
    CHECK(*d.latency_ms() >= 80.0);
    CHECK(reported_ms(c, *d.reply()) == Approx(*d.latency_ms()).epsilon(1e-6));
    CHECK(requests_of(c).empty());
    d.finish();
    CHECK(syncs == 1);
    CHECK(status_of(c)["counters"]["ends"] == 1);
  }
  SECTION("a failing sync ends the request without a latency") {
    int syncs = 0;
    const auto failing = [&] {
      ++syncs;
      throw std::runtime_error("device lost");
    };
    {
      flame::DeadlineScope d(c, "resnet50", 30, {}, failing);
      REQUIRE(d.active());
      CHECK_THROWS_WITH(d.finish(), "device lost");
      CHECK_FALSE(d.latency_ms());
    }
    {
      flame::DeadlineScope d(c, "resnet50", 30, {}, failing);  // the destructor cannot throw
      REQUIRE(d.active());
    }
    CHECK(syncs == 2);
    const auto s = status_of(c);
    CHECK(s["active_requests"] == 0);
    CHECK(s["counters"]["ends"] == 2);
    CHECK(s["counters"]["deadline_met"] == 0);
    CHECK(s["counters"]["deadline_missed"] == 0);
  }
  SECTION("no sync when the scope is left by an exception or discarded") {
    int syncs = 0;
    const auto count = [&] { ++syncs; };
    try {
      flame::DeadlineScope d(c, "resnet50", 30, {}, count);
      throw std::runtime_error("inference failed");
    } catch (const std::runtime_error&) {
    }
    {
      flame::DeadlineScope d(c, "resnet50", 30, {}, count);
      d.discard();
    }
    CHECK(syncs == 0);
    CHECK(status_of(c)["counters"]["ends"] == 2);
  }
  SECTION("the daemon's refusal leaves the scope inactive") {
    flame::DeadlineScope d(c, "no-such-model", 30);
    CHECK_FALSE(d.active());
    REQUIRE(d.reply());
    CHECK_FALSE(d.reply()->ok);
    CHECK(d.reply()->error.find("unknown model") != std::string::npos);
  }
  SECTION("threads share one client") {
    std::vector<std::thread> threads;
    std::atomic<int> active{0};
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          flame::DeadlineScope d(c, "resnet50", 30);
          active += d.active();
        }
      });
    for (auto& t : threads) t.join();
    CHECK(active == 200);
    const auto s = status_of(c);
    CHECK(s["active_requests"] == 0);
    CHECK(s["counters"]["ends"] == 200);
  }
}

TEST_CASE("client: reconnects when the daemon comes back") {
  TempDir dir;
  const auto path = (dir.path / "flamed.sock").string();
  flame::Client c(quick(path));
  CHECK_FALSE(c.status());
  {
    InProcessDaemon daemon(path);
    CHECK(c.status());
  }
  {
    // Restarted between two calls: the old connection is dead, one fresh try reaches the new one.
    InProcessDaemon restarted(path);
    CHECK(c.status());
  }
  CHECK_FALSE(c.status());
  CHECK(c.last_failure() == flame::Unavailable::Absent);
  InProcessDaemon again(path);
  CHECK(c.status());
}

TEST_CASE("client: flamed closed the idle connection: one transparent reconnect", "[fair]") {
  TempDir dir;
  const auto path = (dir.path / "s.sock").string();
  flamed::Config::Limits limits;
  limits.idle_timeout_ms = 100;
  InProcessDaemon daemon(path, limits);
  flame::ClientOptions o = quick(path);
  o.retry_interval = std::chrono::seconds(60);  // a failure would silence the client for the test
  o.timeout = std::chrono::seconds(5);
  flame::Client c(o);
  const auto first = c.hello("idle");
  REQUIRE(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // The daemon closed the connection meanwhile: the scope still begins and ends on a new one.
  {
    flame::DeadlineScope d(c, "resnet50", 30);
    CHECK(d.active());
    // Held past the idle timeout: a connection with an active request is not closed.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  CHECK(c.last_failure() == flame::Unavailable::None);
  const auto again = c.hello("idle");
  REQUIRE(again);
  CHECK(again->number("client") != first->number("client"));
  CHECK(status_of(c)["counters"]["ends"] == 1);
}

TEST_CASE("client: a separately started flamed with a short idle timeout (FLAME_TEST_IDLE_MS)", "[fair]") {
  const char* socket = std::getenv("FLAME_TEST_SOCKET");
  const char* idle = std::getenv("FLAME_TEST_IDLE_MS");
  if (!socket || !idle) return;  // run by tests/integration/clients.sh against the real binary
  flame::ClientOptions o = quick(socket);
  o.timeout = std::chrono::seconds(5);
  o.retry_interval = std::chrono::seconds(60);
  flame::Client c(o);
  const auto first = c.hello("catch2-idle");
  REQUIRE(first);
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * std::atoi(idle)));
    flame::DeadlineScope d(c, "resnet50", 1000);
    CHECK(d.active());
  }
  CHECK(c.last_failure() == flame::Unavailable::None);
  const auto again = c.hello("catch2-idle");
  REQUIRE(again);
  CHECK(again->number("client") != first->number("client"));  // flamed had closed the first
}

TEST_CASE("client: a separately started flamed (FLAME_TEST_SOCKET)") {
  const char* socket = std::getenv("FLAME_TEST_SOCKET");
  if (!socket) return;  // run by tests/integration/cpp_client.sh against the real binary
  const char* model_env = std::getenv("FLAME_TEST_MODEL");
  const std::string model = model_env ? model_env : "resnet50";
  flame::ClientOptions o = quick(socket);
  o.timeout = std::chrono::seconds(5);
  flame::Client c(o);
  REQUIRE(c.hello("catch2"));
  {
    flame::DeadlineScope d(c, model, 1000);
    REQUIRE(d.active());
    CHECK(requests_of(c).size() >= 1);
  }
  {
    flame::DeadlineScope d(c, "no-such-model", 30);
    CHECK_FALSE(d.active());
  }
}
