// The D-Bus state mapping (daemon/bus/bus_state.hpp): JSON -> property values, domains, Degraded,
// the changed-property diff, and a snapshot of a governor on a fake actuator.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "bus/bus_state.hpp"
#include "flame/policy/policy.hpp"
#include "transport/protocol.hpp"

using namespace flamed;

namespace {

class FakeActuator : public flame::policy::Actuator {
 public:
  const flame::ClockGrid& grid() const override { return g; }
  flame::Clocks apply(const flame::Clocks& t) override {
    now = t;
    ++applies;
    return t;
  }
  void restore() override {
    now = baseline;
    ++restores;
  }
  flame::Clocks current() const override { return now; }

  flame::ClockGrid g{{1000, 2000}, {}, {100, 200, 300}, {7}};
  flame::Clocks baseline{1000, 0, 100, 7};
  flame::Clocks now = baseline;
  int applies = 0, restores = 0;
};

class ConstModel : public flame::model::LatencyModel {
 public:
  flame::Estimate estimate(const flame::Clocks& c, const flame::model::Workload&) const override {
    return {1e6 / c.cpu_khz + 1e4 / c.gpu_hz, 0};
  }
  std::string kind() const override { return "const"; }
};

flame::policy::Planner max_planner() {
  return [](const flame::model::LatencyModel&, const flame::model::Workload&, const flame::ClockGrid& g,
            double) {
    flame::policy::Decision d;
    d.clocks = g.max();
    d.model_ms = 1;
    d.feasible = true;
    return d;
  };
}

flame::board::CpuPolicy policy(const char* name, flame::board::DomainStatus st, const char* reason = "") {
  flame::board::CpuPolicy p;
  p.name = name;
  p.health.status = st;
  p.health.reason = reason;
  return p;
}

}  // namespace

TEST_CASE("bus state: clocks and calibration map as the socket's status shows them", "[daemon][dbus]") {
  const flame::Clocks clocks{1420800, 4, 918e6, 2133e6};
  const auto m = clock_map(clocks);
  // The same keys and values as the socket's clocks.
  const nlohmann::json socket_clocks = clocks_json(clocks);
  for (const auto& [k, v] : socket_clocks.items()) CHECK(m.at(k) == v.get<double>());
  REQUIRE(m.size() == 4);
  CHECK(m.at("cpu_khz") == 1420800);
  CHECK(m.at("cpu_cores") == 4);
  CHECK(m.at("gpu_hz") == 918e6);
  CHECK(m.at("emc_hz") == 2133e6);

  flame::calibrate::Calibrator cal;
  cal.observe("resnet50", 10, 12);
  cal.observe(flame::calibrate::Calibrator::key("llm", "decode", 300), 10, 8);
  const auto c = calibration_map(cal.states());
  REQUIRE(c.size() == 2);
  CHECK(c.at("resnet50") == Approx(cal.factor("resnet50")));
  CHECK(c.at("resnet50") > 1.0);
  CHECK(calibration_map({}).empty());
}

TEST_CASE("bus state: board label", "[daemon][dbus]") {
  flame::board::Identity id;
  CHECK(board_label(id) == "unknown");
  id.soc = "tegra234";
  CHECK(board_label(id) == "tegra234");
  id.model = "NVIDIA Jetson Orin Nano Developer Kit";
  CHECK(board_label(id) == "NVIDIA Jetson Orin Nano Developer Kit (tegra234)");
  id.l4t = "R36.4.3";
  CHECK(board_label(id) == "NVIDIA Jetson Orin Nano Developer Kit (tegra234, L4T R36.4.3)");
}

TEST_CASE("bus state: the CPU as one domain", "[daemon][dbus]") {
  using flame::board::DomainStatus;
  CHECK(cpu_health({}).status == DomainStatus::Unavailable);
  CHECK(cpu_health({}).reason == "no cpufreq policy found");
  const auto ok = cpu_health({policy("policy0", DomainStatus::Offline, "all CPUs offline"),
                              policy("policy1", DomainStatus::Active)});
  CHECK(ok.writable());
  CHECK(ok.reason.empty());
  const auto bad = cpu_health(
      {policy("policy0", DomainStatus::ObserveOnly, "not root"), policy("policy1", DomainStatus::Offline)});
  CHECK(bad.status == DomainStatus::ObserveOnly);
  CHECK(bad.reason == "policy0: not root; policy1: offline");
}

namespace {
std::string degraded_reason(bool enabled, bool dry_run, size_t models, const std::vector<DomainInfo>& d,
                            const std::string& fault = {}, const std::vector<std::string>& held = {}) {
  return fmt::format("{}", fmt::join(degraded_reasons(enabled, dry_run, models, d, fault, held), "; "));
}
}  // namespace

TEST_CASE("bus state: domains and Degraded", "[daemon][dbus]") {
  Config config;
  flame::ClockGrid grid{{1000.4, 2000}, {}, {5e8}, {1e9, 2e9}};

  SECTION("without board information") {
    const auto d = domain_infos(nullptr, grid, config);
    REQUIRE(d.size() == 3);
    CHECK(d[0] == DomainInfo{"cpu", "kHz", "unknown", "", false, {1000, 2000}});
    CHECK(d[1] == DomainInfo{"gpu", "Hz", "unknown", "", false, {500000000}});
    CHECK(d[2].frequencies == std::vector<uint64_t>{1000000000, 2000000000});
    CHECK(degraded_reason(true, false, 1, d).empty());
  }
  SECTION("with a board") {
    flame::board::Board b;
    b.cpu = {policy("policy0", flame::board::DomainStatus::Active)};
    b.gpu.health = {flame::board::DomainStatus::Active, ""};
    b.emc.health = {flame::board::DomainStatus::ObserveOnly, "debugfs is read-only"};
    auto d = domain_infos(&b, grid, config);
    CHECK(d[0].status == "active");
    CHECK(d[0].controlled);
    CHECK(d[1].status == "active");
    CHECK_FALSE(d[1].controlled);  // one selectable clock: nothing to choose
    CHECK(d[2] ==
          DomainInfo{"emc", "Hz", "observe-only", "debugfs is read-only", false, {1000000000, 2000000000}});
    CHECK(degraded_reason(true, false, 1, d) == "emc: observe-only (debugfs is read-only)");
    CHECK(degraded_reason(false, true, 0, d) ==
          "disabled; dry run; no models loaded; emc: observe-only (debugfs is read-only)");

    config.emc.enabled = false;  // the operator left EMC alone: not a degradation
    d = domain_infos(&b, grid, config);
    CHECK(d[2].status == "disabled");
    CHECK(d[2].reason == "domains.emc.enabled is false");
    CHECK(degraded_reason(true, false, 1, d).empty());

    b.gpu.health = {flame::board::DomainStatus::Deferred, ""};
    d = domain_infos(&b, grid, config);
    CHECK(degraded_reason(true, false, 1, d) == "gpu: deferred");
    CHECK(degraded_reason(true, false, 1, d, "release: gpu: Failed (Is a directory)") ==
          "clock write refused: release: gpu: Failed (Is a directory); gpu: deferred");
    CHECK(degraded_reason(true, false, 1, d, "", {"emc: held"}) == "gpu: deferred; emc: held");

    b.cpu = {policy("policy0", flame::board::DomainStatus::ObserveOnly)};  // nothing can be set
    d = domain_infos(&b, grid, config);
    CHECK_THAT(degraded_reason(true, false, 1, d),
               Catch::EndsWith("no clock is controllable: requests change nothing"));
  }
}

TEST_CASE("bus state: changed properties", "[daemon][dbus]") {
  BusState a;
  a.version = "1";
  a.board = "x";
  CHECK(changed_properties(a, a).empty());
  BusState b = a;
  b.version = "2";  // constant properties are never announced
  b.board = "y";
  CHECK(changed_properties(a, b).empty());
  b.active_requests = 1;
  b.clocks["gpu_hz"] = 1;
  b.enabled = false;
  b.degraded = "disabled";
  b.models = {"m"};
  b.calibration["m"] = 1.1;
  b.domains.push_back({});
  const auto names = changed_properties(a, b);
  std::vector<std::string> got(names.begin(), names.end());
  CHECK(got == std::vector<std::string>{"Domains", "CurrentClocks", "ActiveRequests", "Models", "Degraded",
                                        "Calibration", "Enabled"});
}

TEST_CASE("bus state: snapshot of the policy, and SetEnabled's policy hook", "[daemon][dbus]") {
  FakeActuator act;
  flame::policy::Policy g({}, act, {}, max_planner());
  g.set_models({{"resnet50", std::make_shared<ConstModel>()}});
  Config config;
  const flame::policy::TimeMs t0 = 0;

  BusState s = snapshot(config, g.status(t0), nullptr, act.grid());
  CHECK(s.board == "unknown");
  CHECK(s.models == std::vector<std::string>{"resnet50"});
  CHECK(s.active_requests == 0);
  CHECK(s.clocks.at("gpu_hz") == 100);  // what the board runs before any request
  CHECK(s.enabled);
  CHECK(s.degraded.empty());
  CHECK(s.domains.size() == 3);

  flame::policy::BeginRequest b;
  b.id = 1;
  b.model = "resnet50";
  b.deadline_ms = 30;
  REQUIRE(to_json(g.begin(7, b, t0))["ok"] == true);
  s = snapshot(config, g.status(t0), nullptr, act.grid());
  CHECK(s.active_requests == 1);
  CHECK(s.clocks.at("cpu_khz") == 2000);
  CHECK(s.clocks.at("gpu_hz") == 300);

  g.set_enabled(false);
  CHECK(act.restores == 1);
  CHECK(act.now == act.baseline);
  s = snapshot(config, g.status(t0), nullptr, act.grid());
  CHECK(s.active_requests == 0);
  CHECK_FALSE(s.enabled);
  CHECK(s.degraded == "disabled");
  CHECK(s.clocks.at("gpu_hz") == 100);
  b.id = 2;
  const auto refused = to_json(g.begin(7, b, t0));
  CHECK(refused["ok"] == false);
  CHECK(refused["error"] == "disabled");
  CHECK(refused["id"] == 2);
  CHECK(act.now == act.baseline);
  CHECK(to_json(g.status(t0), 0)["enabled"] == false);
  g.set_enabled(false);  // idempotent: no second restore
  CHECK(act.restores == 1);

  g.set_enabled(true);
  CHECK(act.now == act.baseline);  // enabling alone changes no clock
  CHECK(to_json(g.begin(7, b, t0))["ok"] == true);
  CHECK(act.now.gpu_hz == 300);

  // RestoreBaseline: every hold released, baseline back, still enabled.
  g.release_all(true);
  CHECK(act.restores == 2);
  CHECK(g.active_requests() == 0);
  CHECK(g.applied() == act.baseline);
  CHECK(g.enabled());
}
