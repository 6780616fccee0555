// ClockWriter against the kernel model: ordering under both kernels' rules, verification, skipped
// unchanged writes, error classes, EMC lock order, ceilings (nvpmodel, emc_iso_cap, limits).
#include <algorithm>
#include <catch2/catch.hpp>

#include "board_requests.hpp"
#include "fake_board.hpp"
#include "flame/board/detail/clock_writer.hpp"
#include "flame/board/detail/text.hpp"
#include "flame/board/discovery.hpp"
#include "kernel_model.hpp"

using namespace flame::board;
using flame::test::FakeTree;
using flame::test::KernelModel;
using flame::test::Profile;

namespace {

const std::string kP0 = "/sys/devices/system/cpu/cpufreq/policy0";
const std::string kEmc = "/sys/kernel/debug/bpmp/debug/clk/emc";

struct Rig {
  FakeTree tree;
  std::unique_ptr<KernelModel> model;
  Board board;
  std::unique_ptr<ClockWriter> writer;

  explicit Rig(Profile p, flame::test::FixtureOptions o = {}, WriterOptions w = {}) {
    flame::test::build(p, tree, o);
    const auto f = flame::test::facts(p);
    model = std::make_unique<KernelModel>(
        tree.root(),
        KernelModel::Config{f.qos ? KernelModel::Rules::Qos : KernelModel::Rules::Strict, f.emc_hz});
    SysfsRoot root(tree.root());
    board = discover(root, *model);
    w.retry.backoff = std::chrono::milliseconds(0);
    writer = std::make_unique<ClockWriter>(board, root, *model, w);
  }
  std::uint64_t u(const std::string& path) const { return std::stoull(tree.read(path)); }
};

}  // namespace

TEST_CASE("board writer: pin down and up on every profile without a single invalid write",
          "[board][writer]") {
  for (auto p : flame::test::all_profiles()) {
    DYNAMIC_SECTION(flame::test::profile_name(p)) {
      Rig r(p);
      const auto f = flame::test::facts(p);
      // Down: below every current min (Xavier starts at min 1190400).
      auto rep = r.writer->apply(flame::test::pin(345600, f.gpu_hz[1], f.emc_hz[1]));
      CHECK(rep.ok());
      for (const auto& pol : f.policies) {
        if (std::find(f.offline_policies.begin(), f.offline_policies.end(), pol) != f.offline_policies.end())
          continue;  // writes to an offline policy fail with EINVAL; the writer leaves it alone
        CHECK(r.u("/sys/devices/system/cpu/cpufreq/" + pol + "/scaling_min_freq") == 345600);
        CHECK(r.u("/sys/devices/system/cpu/cpufreq/" + pol + "/scaling_max_freq") == 345600);
      }
      CHECK(r.u(f.gpu_devfreq_dir + "/min_freq") == f.gpu_hz[1]);
      CHECK(r.u(f.gpu_devfreq_dir + "/max_freq") == f.gpu_hz[1]);
      CHECK(r.u(kEmc + "/mrq_rate_locked") == 1);
      CHECK(r.u(kEmc + "/rate") == f.emc_hz[1]);
      // Up: above every current max.
      rep = r.writer->apply(flame::test::pin(f.cpu_khz.back(), f.gpu_hz.back(), f.emc_hz.back()));
      CHECK(rep.ok());
      // The writer keeps below the nvpmodel mode's caps (tx2-jp4-mode3): the top level under the cap.
      auto top = [](const std::vector<std::uint64_t>& table, std::uint64_t cap) {
        std::uint64_t t = table.front();
        for (auto v : table)
          if (!cap || v <= cap) t = v;
        return t;
      };
      CHECK(r.u(kP0 + "/scaling_min_freq") == top(f.cpu_khz, f.nvpmodel_cpu_khz));
      CHECK(r.u(f.gpu_devfreq_dir + "/min_freq") == top(f.gpu_hz, f.nvpmodel_gpu_hz));
      // nvpmodel's EMC cap bounds the rate (tx2-jp4-mode3).
      CHECK(r.u(kEmc + "/rate") ==
            (f.emc_iso_cap ? std::min(f.emc_iso_cap, f.emc_hz.back()) : f.emc_hz.back()));
      CHECK(r.model->violations().empty());
      // Every model write succeeded: nothing needed a retry.
      CHECK(r.model->successful_writes() == r.model->log().size());
    }
  }
}

TEST_CASE("board writer: a naive max-then-min order would fail on 4.9 (the model catches it)",
          "[board][writer]") {
  Rig r(Profile::XavierNxJp4);
  // What a careless writer does to go down: max first.
  CHECK(r.model->write(kP0 + "/scaling_max_freq", "345600\n") == EINVAL);
  CHECK(r.model->violations().size() == 1);
}

TEST_CASE("board writer: unchanged requests write nothing", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  ClockRequest req = flame::test::pin(806400, 510000000, 2133000000);
  CHECK(r.writer->apply(req).write_count() > 0);
  r.model->clear_log();
  auto again = r.writer->apply(req);
  CHECK(again.ok());
  CHECK(again.write_count() == 0);
  CHECK(r.model->log().empty());
  for (const auto& d : again.domains) CHECK(d.outcome == Outcome::Unchanged);
}

TEST_CASE("board writer: off-table and out-of-range requests are clamped", "[board][writer]") {
  Rig r(Profile::XavierNxJp4);
  auto rep = r.writer->apply(flame::test::pin(1200000, 1, 99999999999));
  CHECK(rep.ok());
  CHECK(rep.find("cpu:policy0")->target == 1267200);  // rounds up
  CHECK(rep.find("cpu:policy0")->requested == 1200000);
  CHECK(rep.find("gpu:17000000.gv11b")->target == 114750000);
  CHECK(rep.find("emc")->target == 1866000000);
}

TEST_CASE("board writer: --max pins at the ceilings, never above the pre-write max", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  // Someone (nvpmodel, the user) set a lower max before we started: it is the ceiling.
  r.tree.attr("/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq", "1497600");
  r.model = std::make_unique<KernelModel>(r.tree.root(), KernelModel::Config{KernelModel::Rules::Qos, {}});
  SysfsRoot root(r.tree.root());
  r.board = discover(root, *r.model);
  ClockWriter w(r.board, root, *r.model);
  auto rep = w.apply(flame::test::at_max());
  CHECK(rep.ok());
  CHECK(rep.find("cpu:policy0")->target == 1728000);
  CHECK(rep.find("cpu:policy4")->target == 1497600);
  CHECK(rep.find("gpu:17000000.gpu")->target == 1020000000);
  CHECK(rep.find("emc")->target == 3199000000);
  // After pinning low, --max still goes back up to the remembered ceiling, not to the pinned max.
  CHECK(w.apply(flame::test::pin(345600)).ok());
  CHECK(w.apply(flame::test::at_max()).find("cpu:policy4")->target == 1497600);
}

TEST_CASE("board writer: emc_iso_cap and nvpmodel conf caps bound the targets", "[board][writer]") {
  Rig r(Profile::XavierNxJp5, flame::test::option(&flame::test::FixtureOptions::nvpmodel_conf));
  r.model->set_emc_iso_cap(1600000000);
  auto rep = r.writer->apply(flame::test::pin({}, {}, 1866000000));
  CHECK(rep.find("emc")->target == 1600000000);
  CHECK(r.u(kEmc + "/rate") == 1600000000);
  // nvpmodel switches to the (test) low mode: it rewrites max values, emc_iso_cap and its status.
  const auto gpu = flame::test::facts(Profile::XavierNxJp5).gpu_devfreq_dir;
  r.tree.attr("/var/lib/nvpmodel/status", "pmode:0000 fmode:quiet");
  r.model->seed(kP0, 115200, 1190400);
  r.model->seed(gpu, 114750000, 510000000);
  r.model->set_emc_iso_cap(1065600000);
  std::string seen_old, seen_new;
  r.writer->on_nvpmodel_change([&](const std::string& o, const std::string& n) {
    seen_old = o;
    seen_new = n;
  });
  rep = r.writer->apply(flame::test::pin(1907200, 1109250000, 1866000000));
  CHECK(seen_old == "pmode:0008 fmode:quiet");
  CHECK(seen_new == "pmode:0000 fmode:quiet");
  CHECK(rep.notes.size() == 1);
  CHECK(rep.find("cpu:policy0")->target == 1190400);           // conf cap 1200000 snapped down
  CHECK(rep.find("gpu:17000000.gv11b")->target == 510000000);  // conf cap 520000000 -> 510000000
  CHECK(rep.find("emc")->target == 1065600000);
  CHECK(r.model->violations().empty());
}

TEST_CASE("board writer: configured limits", "[board][writer]") {
  WriterOptions w;
  w.limits.cpu_khz = {422400, 1497600};
  w.limits.gpu_hz = {{}, 612000000};
  Rig r(Profile::OrinNanoJp6, {}, w);
  auto rep = r.writer->apply(flame::test::at_max());
  CHECK(rep.find("cpu:policy0")->target == 1497600);
  CHECK(rep.find("gpu:17000000.gpu")->target == 612000000);
  rep = r.writer->apply(flame::test::pin(115200));
  CHECK(rep.find("cpu:policy0")->target == 422400);
}

TEST_CASE("board writer: offline policies are skipped, the rest applied", "[board][writer]") {
  Rig r(Profile::XavierNxJp5, flame::test::offline({2, 3, 4, 5}));
  auto rep = r.writer->apply(flame::test::pin(806400));
  CHECK(rep.ok());
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);
  CHECK(rep.find("cpu:policy2")->outcome == Outcome::Skipped);
  CHECK(rep.find("cpu:policy4")->outcome == Outcome::Skipped);
  CHECK(r.u("/sys/devices/system/cpu/cpufreq/policy2/scaling_min_freq") == 1190400);  // untouched
}

TEST_CASE("board writer: a policy that went offline after discovery drops its target (EINVAL)",
          "[board][writer]") {
  Rig r(Profile::XavierNxJp4);
  r.tree.attr("/sys/devices/system/cpu/cpu2/online", "0");
  r.tree.attr("/sys/devices/system/cpu/cpu3/online", "0");
  auto rep = r.writer->apply(flame::test::pin(806400));
  CHECK_FALSE(rep.ok());
  const auto* d = rep.find("cpu:policy2");
  CHECK(d->outcome == Outcome::Dropped);
  CHECK(d->error == ErrorClass::Invalid);
  CHECK(r.board.policy("policy2")->health.status == DomainStatus::Active);  // still usable later
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);
  CHECK(rep.find("cpu:policy4")->outcome == Outcome::Applied);
}

TEST_CASE("board writer: EBUSY is retried, bounded", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  r.model->fail_next_write(kP0 + "/scaling_min_freq", EBUSY);
  auto rep = r.writer->apply(flame::test::pin(806400));
  CHECK(rep.ok());
  CHECK(rep.find("cpu:policy0")->writes[0].attempts == 2);
  r.model->fail_writes(kP0 + "/scaling_min_freq", EBUSY);
  rep = r.writer->apply(flame::test::pin(345600));
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Failed);
  CHECK(rep.find("cpu:policy0")->error == ErrorClass::Busy);
  CHECK(rep.find("cpu:policy0")->writes[0].attempts == 3);
  CHECK(r.board.policy("policy0")->health.status == DomainStatus::Active);
}

TEST_CASE("board writer: EACCES/EPERM/EROFS make a domain observe-only", "[board][writer]") {
  for (int err : {EACCES, EPERM, EROFS}) {
    Rig r(Profile::OrinNanoJp6);
    const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
    r.model->fail_writes(gpu + "/min_freq", err);
    auto rep = r.writer->apply(flame::test::pin(806400, 408000000));
    CHECK(rep.find("gpu:17000000.gpu")->error == ErrorClass::NotPermitted);
    CHECK(r.board.gpu.health.status == DomainStatus::ObserveOnly);
    CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);
    r.model->clear_log();
    rep = r.writer->apply(flame::test::pin({}, 306000000));
    CHECK(rep.find("gpu:17000000.gpu")->outcome == Outcome::Skipped);
    CHECK(r.model->log().empty());  // no further attempts
  }
}

TEST_CASE("board writer: a vanished domain is marked gone (ENOENT/ENODEV)", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  r.tree.remove("/sys/devices/system/cpu/cpufreq/policy4");
  auto rep = r.writer->apply(flame::test::pin(806400));
  CHECK(rep.find("cpu:policy4")->error == ErrorClass::DomainGone);
  CHECK(r.board.policy("policy4")->health.status == DomainStatus::Unavailable);
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);

  const auto gpu = flame::test::facts(Profile::OrinNanoJp6).gpu_devfreq_dir;
  r.model->fail_writes(gpu + "/max_freq", ENODEV);
  rep = r.writer->apply(flame::test::pin({}, 306000000));
  CHECK(rep.find("gpu:17000000.gpu")->error == ErrorClass::DomainGone);
  CHECK(r.board.gpu.health.status == DomainStatus::Unavailable);
}

TEST_CASE("board writer: a stale QoS request left by another tool is replaced by ours", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  // Effective 806400..806400 hides a min request of 1497600; the effective max is the ceiling.
  r.model->seed(kP0, 1497600, 806400);
  CHECK(r.u(kP0 + "/scaling_min_freq") == 806400);
  auto rep = r.writer->apply(flame::test::pin(345600));
  CHECK(rep.find("cpu:policy0")->outcome == Outcome::Applied);
  CHECK(r.model->requests(kP0) == std::pair<std::uint64_t, std::uint64_t>{345600, 345600});
  CHECK(r.writer->apply(flame::test::pin(1728000)).find("cpu:policy0")->target == 806400);
  CHECK(r.model->violations().empty());
}

TEST_CASE("board writer: EMC without a rate table accepts BPMP rounding once", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  auto rep = r.writer->apply(flame::test::pin({}, {}, 1000000000));
  CHECK(rep.ok());
  CHECK(rep.find("emc")->actual == 665600000);
  CHECK(rep.find("emc")->message.find("nearest supported") != std::string::npos);
  r.model->clear_log();
  rep = r.writer->apply(flame::test::pin({}, {}, 1000000000));
  CHECK(rep.find("emc")->outcome == Outcome::Unchanged);
  CHECK(r.model->log().empty());
}

TEST_CASE("board writer: EMC lock that does not stick is a mismatch", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  r.model->fail_writes(kEmc + "/mrq_rate_locked", 0);  // "succeeds" without effect
  auto rep = r.writer->apply(flame::test::pin({}, {}, 2133000000));
  CHECK(rep.find("emc")->outcome == Outcome::Mismatch);
  CHECK_FALSE(rep.ok());
}

TEST_CASE("board writer: dry run plans without writing", "[board][writer]") {
  Rig r(Profile::XavierNxJp4);
  auto before = r.tree.snapshot();
  auto rep = r.writer->apply(flame::test::pin(345600, 306000000, 1600000000), /*dry_run=*/true);
  CHECK(rep.ok());
  CHECK(r.model->log().empty());
  CHECK(r.tree.snapshot() == before);
  const auto* d = rep.find("cpu:policy0");
  CHECK(d->outcome == Outcome::Planned);
  REQUIRE(d->planned.size() == 2);
  CHECK(d->planned[0].path == kP0 + "/scaling_min_freq");  // lowering: min first
  CHECK(rep.find("emc")->planned[0].path == kEmc + "/mrq_rate_locked");
  CHECK(to_text(rep).find("would write") != std::string::npos);
}

TEST_CASE("board writer: the before-write hook can veto a domain", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6);
  std::vector<std::string> asked;
  r.writer->on_before_write([&](const DomainRef& d) {
    asked.push_back(d.id());
    return d.kind != DomainKind::Gpu;
  });
  auto rep = r.writer->apply(flame::test::pin(806400, 408000000));
  CHECK(asked == std::vector<std::string>{"cpu:policy0", "cpu:policy4", "gpu:17000000.gpu"});
  CHECK(rep.find("gpu:17000000.gpu")->outcome == Outcome::Failed);
  CHECK(rep.find("gpu:17000000.gpu")->writes.empty());
}

TEST_CASE("board writer: ClockRequest from the model's Clocks", "[board][writer]") {
  auto r = ClockRequest::from(flame::Clocks{806400.0, 4, 612e6, 0});
  CHECK(r.cpu_khz == 806400u);
  CHECK(r.gpu_hz == 612000000u);
  CHECK_FALSE(r.emc_hz);
  CHECK_FALSE(r.max);
  CHECK(ClockRequest{}.empty());
}

namespace {
// T210 (Nano) EMC: writes go to override.emc/clk_update_rate, the rate reads back from clk_rate.
class T210Emc : public FileAccess {
 public:
  explicit T210Emc(const std::string& root) : files_(SysfsRoot(root)) {}
  ReadResult read(const std::string& p) override { return files_.read(p); }
  int write(const std::string& p, std::string_view text) override {
    log.push_back(p + "=" + std::string(flame::board::trim(text)));
    if (p.ends_with("/clk_update_rate") && std::stoi(files_.read(kDir + "/clk_state").text) == 1)
      return files_.write(kDir + "/clk_rate", text);
    return files_.write(p, text);
  }
  std::vector<std::string> log;
  inline static const std::string kDir = "/sys/kernel/debug/clk/override.emc";

 private:
  SysfsFileAccess files_;
};
}  // namespace

TEST_CASE("board writer: T210 EMC override interface", "[board][writer]") {
  FakeTree t;
  t.attr(T210Emc::kDir + "/clk_rate", "1600000000");
  t.attr(T210Emc::kDir + "/clk_update_rate", "0");
  t.attr(T210Emc::kDir + "/clk_state", "0");
  t.attr("/sys/kernel/debug/tegra_bwmgr/emc_min_rate", "204000000");
  t.attr("/sys/kernel/debug/tegra_bwmgr/emc_max_rate", "1600000000");
  T210Emc io(t.root());
  SysfsRoot root(t.root());
  Board b = discover(root, io);
  CHECK(b.emc.interface == "t210-override");
  REQUIRE(b.emc.health.status == DomainStatus::Active);
  ClockWriter w(b, root, io);
  auto rep = w.apply(flame::test::pin({}, {}, 800000000));
  CHECK(rep.ok());
  CHECK(io.log == std::vector<std::string>{T210Emc::kDir + "/clk_state=1",
                                           T210Emc::kDir + "/clk_update_rate=800000000"});
  CHECK(t.read(T210Emc::kDir + "/clk_rate") == "800000000\n");
}

TEST_CASE("board writer: a deferred or missing GPU is reported as skipped", "[board][writer]") {
  Rig r(Profile::OrinNanoJp6, flame::test::option(&flame::test::FixtureOptions::gpu_unregistered));
  auto rep = r.writer->apply(flame::test::pin(806400, 408000000));
  const auto* g = rep.find("gpu:gpu");
  REQUIRE(g);
  CHECK(g->outcome == Outcome::Skipped);
  CHECK(g->message.find("deferred") != std::string::npos);
  CHECK(rep.ok());  // nothing failed; the caller decides whether a skipped domain matters
  CHECK(r.writer->apply(flame::test::at_max()).find("gpu:gpu") == nullptr);
}
