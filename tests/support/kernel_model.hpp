#pragma once
// KernelModel: the test stand-in for the kernel behind sysfs (docs/board-io.md, Tests). It sits behind
// the FileAccess interface on top of a fake tree and applies each kernel's write semantics, writing
// the *effective* values into the tree's files so that reads (by the code under test or by the test)
// see what a real board would show:
//   strict (4.9):  min above the current max, or max below the current min -> EINVAL; values clamped
//                  into the hardware range; devfreq min 0 allowed.
//   qos (5.10+):   writes are requests; effective min = min(req_min, req_max), both clamped to the
//                  hardware range; devfreq requests in kHz (min rounded down, max up, max 0 = none).
//   cpufreq writes to a policy whose CPUs are all offline -> EINVAL.
//   EMC: a rate write takes effect only while mrq_rate_locked = 1, snapped to the nearest supported
//   rate and bounded by emc_iso_cap; unlocking hands the rate back to "DVFS" (the initial rate).
//   Faults: one-shot or sticky errno per path, for writes and for reads.
// It also keeps a log of every write and flags ordering violations, so ordering bugs fail tests.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "flame/board/detail/file_access.hpp"
#include "flame/board/detail/sysfs_root.hpp"

namespace flame::test {

class KernelModel : public flame::board::FileAccess {
 public:
  enum class Rules { Strict, Qos };
  struct Config {
    Rules rules = Rules::Qos;
    std::vector<std::uint64_t> emc_rates;  // supported EMC rates (ascending); empty = any
  };

  KernelModel(const std::string& root, Config cfg);

  flame::board::ReadResult read(const std::string& path) override;
  int write(const std::string& path, std::string_view text) override;

  // Faults.
  void fail_next_write(const std::string& path, int err) { once_[path].push_back(err); }
  void fail_writes(const std::string& path, int err) { sticky_[path] = err; }
  void fail_reads(const std::string& path, int err) { read_fail_[path] = err; }
  void clear_faults();

  struct Event {
    std::string path;
    std::string value;
    int error = 0;
  };
  const std::vector<Event>& log() const { return log_; }
  std::size_t successful_writes() const;
  void clear_log() { log_.clear(); }
  // Writes that a correct ordering would never make: strict EINVAL from crossing min/max, or (qos) a
  // write that left a min request above the max request where there was none before.
  const std::vector<std::string>& violations() const { return violations_; }

  // QoS requests of a range domain (cpufreq policy dir or devfreq dir), for assertions and seeding.
  std::pair<std::uint64_t, std::uint64_t> requests(const std::string& dir) const;
  // Seeds a state directly (bypassing the rules): requests and the effective files.
  void seed(const std::string& dir, std::uint64_t req_min, std::uint64_t req_max);
  void seed_emc(bool locked, std::uint64_t rate);
  void set_emc_iso_cap(std::uint64_t cap);

  // JetPack 5/6 first power-up (docs/board-io.md, "GPU wake"): the GPU's devfreq device (its
  // /sys/class/devfreq entry `name`) is taken away until "0" is written to the GPU's railgate_enable, which
  // powers the GPU up and registers it again. `registers` = false: powering up does not help (a broken
  // driver).
  void defer_gpu_devfreq(const std::string& name, bool registers = true);
  bool gpu_registered() const { return deferred_.name.empty(); }

 private:
  struct Range {
    bool cpufreq = true;
    std::string dir;
    std::uint64_t hw_min = 0, hw_max = 0;
    std::vector<int> related;
    std::uint64_t req_min = 0, req_max = 0;  // qos: raw requests (devfreq: Hz, rounded to kHz)
  };

  int write_range(Range& r, bool is_min, std::uint64_t v);
  void publish(const Range& r);
  bool policy_offline(const Range& r);
  int write_emc(const std::string& attr, std::uint64_t v);
  std::uint64_t emc_effective(std::uint64_t v);
  std::uint64_t file_u64(const std::string& path);
  int raw_write(const std::string& path, const std::string& text);
  void register_gpu();

  flame::board::SysfsRoot root_;
  flame::board::SysfsFileAccess files_;
  Config cfg_;
  std::map<std::string, Range> ranges_;  // by dir
  std::string emc_dir_;
  std::uint64_t dvfs_rate_ = 0;
  std::map<std::string, std::vector<int>> once_;
  std::map<std::string, int> sticky_;
  std::map<std::string, int> read_fail_;
  std::vector<Event> log_;
  std::vector<std::string> violations_;
  struct Deferred {
    std::string name;         // class entry, empty when registered
    std::string devfreq_dir;  // in-root, resolved
    std::string device_dir;   // in-root, resolved
    bool registers = true;
    Range range;
  } deferred_;
};

}  // namespace flame::test
