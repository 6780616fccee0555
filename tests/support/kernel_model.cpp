#include "kernel_model.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "flame/board/detail/text.hpp"

namespace flame::test {

using flame::board::join;
using flame::board::parse_cpu_list;
using flame::board::parse_u64;
using flame::board::parse_u64_list;
using flame::board::parse_words;
using flame::board::ReadResult;

namespace {
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

std::pair<std::string, std::string> split_attr(const std::string& path) {
  auto slash = path.rfind('/');
  return {path.substr(0, slash), path.substr(slash + 1)};
}
}  // namespace

KernelModel::KernelModel(const std::string& root, Config cfg)
    : root_(root), files_(root_), cfg_(std::move(cfg)) {
  const std::string cpufreq = "/sys/devices/system/cpu/cpufreq";
  for (const auto& name : root_.list(cpufreq)) {
    auto dir = root_.resolve(join(cpufreq, name));
    if (!dir || name.rfind("policy", 0) != 0) continue;
    Range r;
    r.cpufreq = true;
    r.dir = *dir;
    r.related = parse_cpu_list(files_.read(join(r.dir, "related_cpus")).text).value_or(std::vector<int>{});
    r.hw_min = file_u64(join(r.dir, "cpuinfo_min_freq"));
    r.hw_max = file_u64(join(r.dir, "cpuinfo_max_freq"));
    r.req_min = file_u64(join(r.dir, "scaling_min_freq"));
    r.req_max = file_u64(join(r.dir, "scaling_max_freq"));
    ranges_[r.dir] = r;
  }
  for (const auto& name : root_.list("/sys/class/devfreq")) {
    auto dir = root_.resolve(join("/sys/class/devfreq", name));
    if (!dir) continue;
    auto table = parse_u64_list(files_.read(join(*dir, "available_frequencies")).text);
    if (!table || table->empty()) continue;
    Range r;
    r.cpufreq = false;
    r.dir = *dir;
    r.hw_min = *std::min_element(table->begin(), table->end());
    r.hw_max = *std::max_element(table->begin(), table->end());
    r.req_min = file_u64(join(r.dir, "min_freq"));
    r.req_max = file_u64(join(r.dir, "max_freq"));
    ranges_[r.dir] = r;
  }
  if (auto emc = root_.resolve("/sys/kernel/debug/bpmp/debug/clk/emc")) {
    emc_dir_ = *emc;
    dvfs_rate_ = file_u64(join(emc_dir_, "rate"));
  }
}

std::uint64_t KernelModel::file_u64(const std::string& path) {
  auto r = files_.read(path);
  return r.ok() ? parse_u64(r.text).value_or(0) : 0;
}

int KernelModel::raw_write(const std::string& path, const std::string& text) {
  return files_.write(path, text);
}

void KernelModel::clear_faults() {
  once_.clear();
  sticky_.clear();
  read_fail_.clear();
}

std::size_t KernelModel::successful_writes() const {
  return static_cast<std::size_t>(
      std::count_if(log_.begin(), log_.end(), [](const Event& e) { return e.error == 0; }));
}

ReadResult KernelModel::read(const std::string& path) {
  if (auto it = read_fail_.find(path); it != read_fail_.end()) return {"", it->second};
  return files_.read(path);
}

int KernelModel::write(const std::string& path, std::string_view text) {
  Event ev{path, std::string(flame::board::trim(text)), 0};
  auto finish = [&](int err) {
    ev.error = err;
    log_.push_back(ev);
    return err;
  };
  if (auto it = once_.find(path); it != once_.end() && !it->second.empty()) {
    int err = it->second.front();
    it->second.erase(it->second.begin());
    return finish(err);
  }
  if (auto it = sticky_.find(path); it != sticky_.end()) return finish(it->second);

  // The attribute itself must be writable in the tree (missing -> ENOENT, made a directory -> EISDIR).
  struct stat st {};
  if (::lstat(root_.host(path).c_str(), &st) != 0) return finish(errno);
  if (S_ISDIR(st.st_mode)) return finish(EISDIR);

  auto [parent, attr] = split_attr(path);
  const std::string dir = root_.resolve(parent).value_or(parent);
  auto value = parse_u64(text);

  if (auto it = ranges_.find(dir); it != ranges_.end()) {
    Range& r = it->second;
    const bool is_min = attr == (r.cpufreq ? "scaling_min_freq" : "min_freq");
    const bool is_max = attr == (r.cpufreq ? "scaling_max_freq" : "max_freq");
    if (is_min || is_max) {
      if (!value) return finish(EINVAL);
      return finish(write_range(r, is_min, *value));
    }
    if (attr == (r.cpufreq ? "scaling_governor" : "governor")) {
      auto govs = parse_words(
          files_.read(join(dir, r.cpufreq ? "scaling_available_governors" : "available_governors")).text);
      if (std::find(govs.begin(), govs.end(), ev.value) == govs.end()) return finish(EINVAL);
      if (r.cpufreq && policy_offline(r)) return finish(EINVAL);
      return finish(raw_write(path, ev.value + "\n"));
    }
  }
  if (!emc_dir_.empty() && dir == emc_dir_ && (attr == "rate" || attr == "mrq_rate_locked")) {
    if (!value) return finish(EINVAL);
    return finish(write_emc(attr, *value));
  }
  if (!deferred_.name.empty() && dir == deferred_.device_dir && attr == "railgate_enable") {
    if (!value || *value > 1) return finish(EINVAL);
    const int err = raw_write(path, std::to_string(*value) + "\n");
    if (err == 0 && *value == 0 && deferred_.registers) register_gpu();
    return finish(err);
  }
  return finish(raw_write(path, std::string(text)));
}

namespace {
std::string stash_of(const flame::board::SysfsRoot& root, const std::string& name) {
  return root.host("/.kernel-model-stash/" + name);
}
}  // namespace

void KernelModel::defer_gpu_devfreq(const std::string& name, bool registers) {
  const std::string link = join("/sys/class/devfreq", name);
  auto dir = root_.resolve(link);
  auto device = dir ? root_.resolve(join(*dir, "device")) : std::nullopt;
  if (!dir || !device) throw std::runtime_error("defer_gpu_devfreq: no devfreq device " + name);
  namespace fs = std::filesystem;
  fs::create_directories(stash_of(root_, ""));
  fs::rename(root_.host(*dir), stash_of(root_, "dir"));
  fs::rename(root_.host(link), stash_of(root_, "link"));
  deferred_ = {name, *dir, *device, registers, ranges_.at(*dir)};
  ranges_.erase(*dir);
}

void KernelModel::register_gpu() {
  namespace fs = std::filesystem;
  fs::rename(stash_of(root_, "dir"), root_.host(deferred_.devfreq_dir));
  fs::rename(stash_of(root_, "link"), root_.host(join("/sys/class/devfreq", deferred_.name)));
  fs::remove(stash_of(root_, ""));
  ranges_[deferred_.devfreq_dir] = deferred_.range;
  deferred_ = {};
}

bool KernelModel::policy_offline(const Range& r) {
  for (int cpu : r.related) {
    auto f = files_.read(fmt::format("/sys/devices/system/cpu/cpu{}/online", cpu));
    if (!f.ok() || parse_u64(f.text).value_or(1) != 0) return false;
  }
  return !r.related.empty();
}

int KernelModel::write_range(Range& r, bool is_min, std::uint64_t v) {
  if (r.cpufreq && policy_offline(r)) return EINVAL;
  const std::string name = fmt::format("{}/{}", r.dir, is_min ? "min" : "max");
  if (cfg_.rules == Rules::Strict) {
    // 4.9: the new pair is checked against the current (effective = requested) other limit first.
    const std::uint64_t cur_min = r.req_min, cur_max = r.req_max;
    if (r.cpufreq) {
      if (is_min ? v > cur_max : v < cur_min) {
        violations_.push_back(fmt::format("{} <- {}: EINVAL (current {}..{})", name, v, cur_min, cur_max));
        return EINVAL;
      }
      (is_min ? r.req_min : r.req_max) = std::clamp(v, r.hw_min, r.hw_max);
    } else if (is_min) {
      if (v && cur_max && v > cur_max) {
        violations_.push_back(fmt::format("{} <- {}: EINVAL (current max {})", name, v, cur_max));
        return EINVAL;
      }
      r.req_min = std::clamp(v, r.hw_min, r.hw_max);
    } else {
      if (v && cur_min && v < cur_min) {
        violations_.push_back(fmt::format("{} <- {}: EINVAL (current min {})", name, v, cur_min));
        return EINVAL;
      }
      r.req_max = v == 0 ? r.hw_max : std::min(v, r.hw_max);
    }
  } else {
    const bool crossed_before = r.req_min > r.req_max;
    if (r.cpufreq) {
      (is_min ? r.req_min : r.req_max) = v;
    } else if (is_min) {
      r.req_min = v / 1000 * 1000;  // dev_pm_qos requests are kHz: min rounds down
    } else {
      r.req_max = v == 0 ? kNoLimit : (v + 999) / 1000 * 1000;  // max rounds up; 0 = no limit
    }
    if (r.req_min > r.req_max && !crossed_before)
      violations_.push_back(
          fmt::format("{} <- {}: min request {} now above max request {}", name, v, r.req_min, r.req_max));
  }
  publish(r);
  return 0;
}

void KernelModel::publish(const Range& r) {
  std::uint64_t mx = std::clamp(r.req_max, r.hw_min, r.hw_max);
  std::uint64_t mn = std::clamp(r.req_min, r.hw_min, mx);
  raw_write(join(r.dir, r.cpufreq ? "scaling_min_freq" : "min_freq"), std::to_string(mn) + "\n");
  raw_write(join(r.dir, r.cpufreq ? "scaling_max_freq" : "max_freq"), std::to_string(mx) + "\n");
}

std::pair<std::uint64_t, std::uint64_t> KernelModel::requests(const std::string& dir) const {
  auto it = ranges_.find(dir);
  if (it == ranges_.end()) return {0, 0};
  return {it->second.req_min, it->second.req_max};
}

void KernelModel::seed(const std::string& dir, std::uint64_t req_min, std::uint64_t req_max) {
  auto it = ranges_.find(dir);
  if (it == ranges_.end()) throw std::runtime_error("no range domain at " + dir);
  it->second.req_min = req_min;
  it->second.req_max = req_max;
  publish(it->second);
}

std::uint64_t KernelModel::emc_effective(std::uint64_t v) {
  std::uint64_t cap = file_u64("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap");
  std::uint64_t hi = file_u64(join(emc_dir_, "max_rate"));
  std::uint64_t lo = file_u64(join(emc_dir_, "min_rate"));
  if (cap > 0) hi = std::min(hi, cap);
  if (cfg_.emc_rates.empty()) return std::clamp(v, lo, std::max(lo, hi));
  std::uint64_t best = cfg_.emc_rates.front();
  bool found = false;
  for (auto rate : cfg_.emc_rates) {
    if (rate > hi || rate < lo) continue;
    const auto d = rate > v ? rate - v : v - rate;
    const auto bd = best > v ? best - v : v - best;
    if (!found || d < bd) best = rate;
    found = true;
  }
  return best;
}

int KernelModel::write_emc(const std::string& attr, std::uint64_t v) {
  if (attr == "mrq_rate_locked") {
    if (v > 1) return EINVAL;
    int err = raw_write(join(emc_dir_, "mrq_rate_locked"), std::to_string(v) + "\n");
    if (err == 0 && v == 0) raw_write(join(emc_dir_, "rate"), std::to_string(dvfs_rate_) + "\n");
    return err;
  }
  if (file_u64(join(emc_dir_, "mrq_rate_locked")) != 1) return 0;  // accepted, but DVFS keeps the clock
  return raw_write(join(emc_dir_, "rate"), std::to_string(emc_effective(v)) + "\n");
}

void KernelModel::seed_emc(bool locked, std::uint64_t rate) {
  raw_write(join(emc_dir_, "mrq_rate_locked"), locked ? "1\n" : "0\n");
  raw_write(join(emc_dir_, "rate"), std::to_string(rate) + "\n");
  if (!locked) dvfs_rate_ = rate;
}

void KernelModel::set_emc_iso_cap(std::uint64_t cap) {
  raw_write("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", std::to_string(cap) + "\n");
  if (file_u64(join(emc_dir_, "mrq_rate_locked")) == 1)
    raw_write(join(emc_dir_, "rate"), std::to_string(emc_effective(file_u64(join(emc_dir_, "rate")))) + "\n");
}

}  // namespace flame::test
