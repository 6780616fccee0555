#pragma once
// A fake board for Controller tests: a fixture tree, a runtime directory, and the kernel model with
// the profile's write rules behind every attribute access.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fake_board.hpp"
#include "flame/board/controller.hpp"
#include "kernel_model.hpp"

namespace flame::test {

struct BoardRig {
  FakeTree tree;
  FakeTree run;    // runtime dir
  FakeTree locks;  // board lock dir (a board's lock is named after its sysfs root)
  std::shared_ptr<KernelModel> model;
  Profile profile;

  explicit BoardRig(Profile p, FixtureOptions o = {}) : profile(p) {
    build(p, tree, o);
    const auto f = facts(p);
    model = std::make_shared<KernelModel>(
        tree.root(),
        KernelModel::Config{f.qos ? KernelModel::Rules::Qos : KernelModel::Rules::Strict, f.emc_hz});
  }
  flame::board::ControllerOptions opts() const {
    flame::board::ControllerOptions o;
    o.sysfs_root = tree.root();
    o.runtime_dir = run.root();
    o.lock_dir = locks.root();
    o.owner = "test";
    o.writer.retry.backoff = std::chrono::milliseconds(0);
    return o;
  }
  flame::board::RestoreOptions ropts() const {
    flame::board::RestoreOptions o;
    o.runtime_dir = run.root();
    o.lock_dir = locks.root();
    o.sysfs_root = tree.root();
    o.io = model;
    o.retry.backoff = std::chrono::milliseconds(0);
    return o;
  }
  std::string baseline_file() const { return run.root() + "/baseline.json"; }
  std::uint64_t u(const std::string& path) const { return std::stoull(tree.read(path)); }
  // Values successfully written to `path`, in order.
  std::vector<std::string> writes_to(const std::string& path) const {
    std::vector<std::string> out;
    for (const auto& e : model->log())
      if (e.path == path && e.error == 0) out.push_back(e.value);
    return out;
  }
};

}  // namespace flame::test
