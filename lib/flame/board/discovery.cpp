#include "flame/board/discovery.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "flame/board/detail/nvpmodel.hpp"
#include "flame/board/detail/paths.hpp"
#include "flame/board/detail/text.hpp"

namespace flame::board {

namespace {

using namespace paths;

// GPU device-tree identities (docs/board-io.md, Discovery): jetson_clocks matches compatible strings, jtop
// node names. A devfreq device whose node matches neither (e.g. a host1x engine like "vic") is not the GPU.
const std::vector<std::string> kGpuCompatible = {"nvidia,ga10b", "nvidia,gv11b",          "nvidia,gp10b",
                                                 "nvidia,gb10b", "nvidia,tegra210-gm20b", "nvidia,gm20b"};
const std::vector<std::string> kGpuNodeNames = {"gpu", "ga10b", "gv11b", "gp10b", "gb10b"};

// Trailing number of a name: "policy12" -> 12, "thermal_zone3" -> 3; -1 if none.
long trailing_number(const std::string& s, const std::string& prefix) {
  if (s.rfind(prefix, 0) != 0 || s.size() == prefix.size()) return -1;
  auto v = parse_u64(std::string_view(s).substr(prefix.size()));
  return v ? static_cast<long>(*v) : -1;
}

std::vector<std::string> numbered_entries(const SysfsRoot& root, const std::string& dir,
                                          const std::string& prefix) {
  std::vector<std::pair<long, std::string>> found;
  for (const auto& name : root.list(dir)) {
    long n = trailing_number(name, prefix);
    if (n >= 0) found.emplace_back(n, name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

struct Reader {
  const SysfsRoot& root;
  FileAccess& io;

  std::optional<std::string> text(const std::string& path) {
    auto r = io.read(path);
    if (!r.ok()) return std::nullopt;
    return std::string(trim(r.text));
  }
  std::optional<std::uint64_t> u64(const std::string& path) {
    auto r = io.read(path);
    if (!r.ok()) return std::nullopt;
    return parse_u64(r.text);
  }
  std::vector<std::uint64_t> table(const std::string& path) {
    auto r = io.read(path);
    if (!r.ok()) return {};
    auto v = parse_u64_list(r.text).value_or(std::vector<std::uint64_t>{});
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  std::vector<std::string> words(const std::string& path) {
    auto r = io.read(path);
    return r.ok() ? parse_words(r.text) : std::vector<std::string>{};
  }
  std::vector<std::string> dt_strings(const std::string& path) {
    auto r = io.read(path);
    return r.ok() ? parse_dt_strings(r.text) : std::vector<std::string>{};
  }
};

// Whether the attributes we would write can be written. As root access(W_OK) always succeeds, so this
// only catches non-root runs and attributes that are not regular files; write-time errors catch the rest.
DomainHealth check_writable(const SysfsRoot& root, const std::vector<std::string>& attrs) {
  for (const auto& p : attrs) {
    const std::string h = root.host(p);
    struct stat st {};
    if (::stat(h.c_str(), &st) != 0)
      return {DomainStatus::Unavailable, fmt::format("{}: {}", p, errno_name(errno))};
    if (!S_ISREG(st.st_mode))
      return {DomainStatus::ObserveOnly, fmt::format("{} is not a writable attribute", p)};
    if (::access(h.c_str(), W_OK) != 0)
      return {DomainStatus::ObserveOnly, fmt::format("{} not writable: {}", p, errno_name(errno))};
  }
  return {DomainStatus::Active, ""};
}

// "# R36 (release), REVISION: 4.3, GCID: ..." -> {"R36.4.3", 36}. (Hand-written: std::regex trips
// GCC 12's -Wmaybe-uninitialized under the sanitizer build.)
std::optional<std::pair<std::string, int>> parse_l4t_release(std::string_view line) {
  auto r = line.find('R');
  if (r == std::string_view::npos) return std::nullopt;
  std::size_t i = r + 1, j = i;
  while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
  auto major = parse_u64(line.substr(i, j - i));
  auto rev = line.find("REVISION:", j);
  if (!major || rev == std::string_view::npos) return std::nullopt;
  i = rev + 9;
  while (i < line.size() && line[i] == ' ') ++i;
  j = i;
  while (j < line.size() && (std::isdigit(static_cast<unsigned char>(line[j])) || line[j] == '.')) ++j;
  if (j == i) return std::nullopt;
  return std::pair{fmt::format("R{}.{}", *major, line.substr(i, j - i)), static_cast<int>(*major)};
}

void discover_identity(Reader& rd, Board& b) {
  auto& id = b.identity;
  id.compatible = rd.dt_strings(join(kDeviceTree, "compatible"));
  if (id.compatible.empty()) id.compatible = rd.dt_strings(join(kDeviceTreeBase, "compatible"));
  auto model = rd.dt_strings(join(kDeviceTree, "model"));
  if (model.empty()) model = rd.dt_strings(join(kDeviceTreeBase, "model"));
  if (!model.empty()) id.model = model.front();
  for (const char* soc : {"tegra234", "tegra194", "tegra186", "tegra210"}) {
    for (const auto& c : id.compatible)
      if (c.find(soc) != std::string::npos) id.soc = soc;
    if (!id.soc.empty()) break;
  }
  if (id.compatible.empty())
    b.notes.push_back("no device-tree compatible string (not a Jetson, or no device tree)");

  if (auto rel = rd.io.read(kTegraRelease); rel.ok()) {
    const std::string first = rel.text.substr(0, rel.text.find('\n'));
    if (auto l4t = parse_l4t_release(first)) {
      id.l4t = l4t->first;
      id.l4t_major = l4t->second;
    } else {
      b.notes.push_back("unrecognised /etc/nv_tegra_release: " + first);
    }
  }
  if (auto chip = rd.u64(kTegraChipId)) id.chip_id = static_cast<int>(*chip);

  if (id.l4t_major == 32) {
    id.rules = KernelRules::Strict;
  } else if (id.l4t_major >= 35) {
    id.rules = KernelRules::Qos;
  } else if (auto rel = rd.text(kOsRelease)) {
    id.rules = rel->rfind("4.", 0) == 0 ? KernelRules::Strict : KernelRules::Qos;
  }
}

void discover_cpu(Reader& rd, Board& b) {
  for (const auto& name : numbered_entries(rd.root, kCpufreqDir, "policy")) {
    CpuPolicy p;
    p.name = name;
    p.dir = rd.root.resolve(join(kCpufreqDir, name)).value_or(join(kCpufreqDir, name));
    auto related = rd.io.read(join(p.dir, "related_cpus"));
    if (!related.ok()) related = rd.io.read(join(p.dir, "affected_cpus"));
    p.related_cpus = parse_cpu_list(related.text).value_or(std::vector<int>{});
    for (int cpu : p.related_cpus) {
      auto online = rd.u64(fmt::format("{}/cpu{}/online", kCpuDir, cpu));
      if (!online || *online != 0) p.online_cpus.push_back(cpu);  // no online file: cannot be offlined
    }
    p.available_khz = rd.table(join(p.dir, "scaling_available_frequencies"));
    p.available_governors = rd.words(join(p.dir, "scaling_available_governors"));
    p.governor = rd.text(join(p.dir, "scaling_governor")).value_or("");
    p.driver = rd.text(join(p.dir, "scaling_driver")).value_or("");
    p.cpuinfo_min_khz = rd.u64(join(p.dir, "cpuinfo_min_freq")).value_or(0);
    p.cpuinfo_max_khz = rd.u64(join(p.dir, "cpuinfo_max_freq")).value_or(0);
    p.cur_khz = rd.u64(join(p.dir, "scaling_cur_freq")).value_or(0);
    auto mn = rd.u64(join(p.dir, "scaling_min_freq"));
    auto mx = rd.u64(join(p.dir, "scaling_max_freq"));
    p.min_khz = mn.value_or(0);
    p.max_khz = mx.value_or(0);
    if (!mn || !mx) {
      p.health = {DomainStatus::Unavailable, "cannot read scaling_min_freq/scaling_max_freq"};
    } else if (p.cpuinfo_max_khz == 0) {
      p.health = {DomainStatus::Unavailable, "cannot read cpuinfo_min_freq/cpuinfo_max_freq"};
    } else if (p.online_cpus.empty()) {
      p.health = {DomainStatus::Offline,
                  fmt::format("all CPUs of the policy ({}) are offline", format_cpu_list(p.related_cpus))};
    } else {
      p.health = check_writable(rd.root, {join(p.dir, "scaling_min_freq"), join(p.dir, "scaling_max_freq")});
    }
    if (!p.health.writable()) b.notes.push_back(fmt::format("cpu {}: {}", p.name, p.health.reason));
    b.cpu.push_back(std::move(p));
  }
  if (b.cpu.empty()) b.notes.push_back(fmt::format("cpu: no cpufreq policies under {}", kCpufreqDir));
}

void discover_gpu(Reader& rd, Board& b) {
  GpuDevice& g = b.gpu;
  std::string linked;  // resolved target of a gpu.0 convenience link, if any
  for (const auto& l : kGpuLinks)
    if (auto r = rd.root.resolve(l)) {
      linked = *r;
      break;
    }

  int best = 0;
  for (const auto& name : rd.root.list(kDevfreqClass)) {
    auto dir = rd.root.resolve(join(kDevfreqClass, name));
    if (!dir) continue;
    auto dev = rd.root.resolve(join(*dir, "device"));
    auto compat = rd.dt_strings(join(*dir, "device/of_node/compatible"));
    auto node = rd.dt_strings(join(*dir, "device/of_node/name"));
    const std::string node_name = node.empty() ? "" : node.front();
    int score = 0;
    std::string why;
    for (const auto& c : compat)
      if (std::find(kGpuCompatible.begin(), kGpuCompatible.end(), c) != kGpuCompatible.end()) {
        score = 3;
        why = "of_node compatible " + c;
      }
    if (score == 0 &&
        std::find(kGpuNodeNames.begin(), kGpuNodeNames.end(), node_name) != kGpuNodeNames.end()) {
      score = 2;
      why = "of_node name " + node_name;
    }
    if (score == 0 && dev && !linked.empty() && *dev == linked) {
      score = 1;
      why = "gpu.0 link";
    }
    if (score == 0) {
      g.ignored_devfreq.push_back(node_name.empty() ? name : fmt::format("{} (of_node {})", name, node_name));
      continue;
    }
    if (score <= best) {
      g.ignored_devfreq.push_back(fmt::format("{} (second GPU match)", name));
      continue;
    }
    if (best > 0) g.ignored_devfreq.push_back(g.name + " (weaker GPU match)");
    best = score;
    g.name = name;
    g.devfreq_dir = *dir;
    g.device_dir = dev.value_or("");
    g.of_name = node_name;
    g.of_compatible = compat.empty() ? "" : compat.front();
    g.matched_by = why;
  }

  if (best == 0) {
    if (!linked.empty()) {
      g.device_dir = linked;
      g.health = {
          DomainStatus::Deferred,
          fmt::format("GPU {} has no devfreq device yet (nvgpu registers it once the GPU has powered up)",
                      linked)};
    } else {
      g.health = {DomainStatus::Unavailable, fmt::format("no GPU devfreq device in {}", kDevfreqClass)};
    }
  } else {
    g.available_hz = rd.table(join(g.devfreq_dir, "available_frequencies"));
    g.available_governors = rd.words(join(g.devfreq_dir, "available_governors"));
    g.governor = rd.text(join(g.devfreq_dir, "governor")).value_or("");
    g.cur_hz = rd.u64(join(g.devfreq_dir, "cur_freq")).value_or(0);
    auto mn = rd.u64(join(g.devfreq_dir, "min_freq"));
    auto mx = rd.u64(join(g.devfreq_dir, "max_freq"));
    g.min_hz = mn.value_or(0);
    g.max_hz = mx.value_or(0);
    if (!mn || !mx)
      g.health = {DomainStatus::Unavailable, "cannot read devfreq min_freq/max_freq"};
    else if (g.available_hz.empty())
      g.health = {DomainStatus::Unavailable, "no devfreq available_frequencies"};
    else
      g.health = check_writable(rd.root, {join(g.devfreq_dir, "min_freq"), join(g.devfreq_dir, "max_freq")});
  }
  if (!g.device_dir.empty()) {
    g.load_permille = rd.u64(join(g.device_dir, "load"));
    if (auto rg = rd.u64(join(g.device_dir, "railgate_enable"))) g.railgate_enable = static_cast<int>(*rg);
  }
  if (!g.health.writable()) b.notes.push_back("gpu: " + g.health.reason);
}

void discover_emc(Reader& rd, Board& b) {
  EmcClock& e = b.emc;
  if (rd.root.is_dir(kBpmpEmcDir)) {
    e.interface = "bpmp";
    e.dir = kBpmpEmcDir;
    e.rate_path = e.rate_write_path = join(e.dir, "rate");
    e.lock_path = join(e.dir, "mrq_rate_locked");
    e.min_path = join(e.dir, "min_rate");
    e.max_path = join(e.dir, "max_rate");
  } else if (rd.root.is_dir(kT210EmcDir)) {
    e.interface = "t210-override";
    e.dir = kT210EmcDir;
    e.rate_path = join(e.dir, "clk_rate");
    e.rate_write_path = join(e.dir, "clk_update_rate");
    e.lock_path = join(e.dir, "clk_state");
    e.min_path = join(kT210BwmgrDir, "emc_min_rate");
    e.max_path = join(kT210BwmgrDir, "emc_max_rate");
  } else {
    e.health = {DomainStatus::Unavailable,
                "no EMC clock in debugfs (debugfs not mounted, not readable, or not a Tegra board)"};
    b.notes.push_back("emc: " + e.health.reason);
    return;
  }
  auto rate = rd.io.read(e.rate_path);
  auto lock = rd.io.read(e.lock_path);
  auto mn = rd.u64(e.min_path);
  auto mx = rd.u64(e.max_path);
  if (!rate.ok() || !lock.ok()) {
    const auto& bad = !rate.ok() ? rate : lock;
    e.health = {
        DomainStatus::Unavailable,
        fmt::format("cannot read {}: {}", !rate.ok() ? e.rate_path : e.lock_path, errno_name(bad.error))};
  } else if (!parse_u64(rate.text) || !parse_u64(lock.text) || !mn || !mx) {
    e.health = {DomainStatus::Unavailable, "unparsable EMC rate, lock or min/max rate"};
  } else {
    e.rate_hz = *parse_u64(rate.text);
    e.locked = *parse_u64(lock.text) != 0;
    e.min_hz = *mn;
    e.max_hz = *mx;
    e.health = check_writable(rd.root, {e.lock_path, e.rate_write_path});
  }
  if (!e.health.writable()) b.notes.push_back("emc: " + e.health.reason);
}

void discover_nvpmodel(Reader& rd, Board& b) {
  Nvpmodel& n = b.nvpmodel;
  auto caps = read_nvpmodel_caps(rd.root, rd.io);
  n.status_path = kNvpmodelStatusPath;
  n.status = caps.status;
  n.mode_id = caps.mode_id;
  n.mode_name = caps.mode_name;
  n.conf_path = rd.root.exists(kNvpmodelConfPath) ? kNvpmodelConfPath : "";
  n.conf_error = caps.conf_error;
  n.emc_iso_cap_path = rd.root.exists(kEmcIsoCapPath) ? kEmcIsoCapPath : "";
  n.emc_iso_cap_hz = caps.emc_iso_cap_hz;
  n.emc_max_hz = caps.emc_max_hz;
  for (auto& p : b.cpu) {
    if (auto it = caps.max_by_dir.find(p.dir); it != caps.max_by_dir.end()) p.nvpmodel_max_khz = it->second;
    p.nvpmodel_uncapped = caps.unlimited_dirs.count(p.dir) > 0;
  }
  if (!b.gpu.devfreq_dir.empty()) {
    if (auto it = caps.max_by_dir.find(b.gpu.devfreq_dir); it != caps.max_by_dir.end())
      b.gpu.nvpmodel_max_hz = it->second;
    b.gpu.nvpmodel_uncapped = caps.unlimited_dirs.count(b.gpu.devfreq_dir) > 0;
  }
  if (!n.conf_error.empty()) b.notes.push_back("nvpmodel: " + n.conf_error);
}

// INA3221 rails (kernel Documentation/hwmon/ina3221.rst; L4T 4.9 iio ina3221x): hwmon on JetPack 5/6 (mV and
// mA), iio on JetPack 4 (mW).
void discover_rails(Reader& rd, Board& b) {
  const std::string devices = kI2cDevices;
  for (const auto& dev : rd.root.list(devices)) {
    auto name = rd.text(join(join(devices, dev), "name"));
    if (!name || name->find("ina3221") == std::string::npos) continue;
    auto dir = rd.root.resolve(join(devices, dev));
    if (!dir) continue;
    auto hwmons = numbered_entries(rd.root, join(*dir, "hwmon"), "hwmon");
    auto iios = numbered_entries(rd.root, *dir, "iio:device");
    if (!hwmons.empty()) {
      const std::string h = join(join(*dir, "hwmon"), hwmons.front());
      for (int ch = 1; ch <= 3; ++ch) {
        PowerRail r;
        r.device = dev;
        r.kind = "hwmon";
        auto label = rd.text(fmt::format("{}/in{}_label", h, ch));
        r.voltage_path = fmt::format("{}/in{}_input", h, ch);
        r.current_path = fmt::format("{}/curr{}_input", h, ch);
        if (!label && !rd.root.exists(r.voltage_path)) continue;
        r.name = label.value_or(fmt::format("{}:in{}", dev, ch));
        if (r.name == "NC") continue;  // L4T labels unused channels "NC"
        auto mv = rd.u64(r.voltage_path);
        auto ma = rd.u64(r.current_path);
        if (mv && ma) r.power_mw = static_cast<double>(*mv) * static_cast<double>(*ma) / 1000.0;
        b.rails.push_back(std::move(r));
      }
    } else if (!iios.empty()) {
      const std::string d = join(*dir, iios.front());
      for (int ch = 0; ch <= 2; ++ch) {
        PowerRail r;
        r.device = dev;
        r.kind = "iio";
        auto label = rd.text(fmt::format("{}/rail_name_{}", d, ch));
        if (!label) continue;
        r.name = *label;
        if (r.name == "NC") continue;
        r.voltage_path = fmt::format("{}/in_voltage{}_input", d, ch);
        r.current_path = fmt::format("{}/in_current{}_input", d, ch);
        r.power_path = fmt::format("{}/in_power{}_input", d, ch);
        if (auto mw = rd.u64(r.power_path)) r.power_mw = static_cast<double>(*mw);
        b.rails.push_back(std::move(r));
      }
    } else {
      b.notes.push_back(fmt::format("power: INA3221 {} has neither hwmon nor iio interface", dev));
    }
  }
  for (const auto& r : b.rails)
    if (r.name == "VDD_IN" || r.name == "POM_5V_IN") b.total_rail = r.name;
  if (b.rails.empty()) b.notes.push_back("power: no INA3221 rails found");
}

void discover_thermal(Reader& rd, Board& b) {
  std::string base = kThermalClass;
  auto zones = numbered_entries(rd.root, base, "thermal_zone");
  if (zones.empty()) {
    base = kThermalVirtual;
    zones = numbered_entries(rd.root, base, "thermal_zone");
  }
  for (const auto& z : zones) {
    ThermalZone t;
    t.zone = z;
    const std::string dir = rd.root.resolve(join(base, z)).value_or(join(base, z));
    t.type = rd.text(join(dir, "type")).value_or("");
    t.temp_path = join(dir, "temp");
    auto r = rd.io.read(t.temp_path);
    if (!r.ok()) {
      t.note = "unreadable: " + errno_name(r.error);
    } else if (auto v = parse_i64(r.text); !v) {
      t.note = "unparsable reading";
    } else if (*v <= -256000) {
      t.note = "no sensor";  // tegrastats shows these as -256C
    } else {
      t.temp_c = static_cast<double>(*v) / 1000.0;
    }
    b.thermal.push_back(std::move(t));
  }
}

}  // namespace

Board discover(const SysfsRoot& root, FileAccess& io) {
  Board b;
  b.sysfs_root = root.root();
  Reader rd{root, io};
  discover_identity(rd, b);
  discover_cpu(rd, b);
  discover_gpu(rd, b);
  discover_emc(rd, b);
  discover_nvpmodel(rd, b);
  discover_rails(rd, b);
  discover_thermal(rd, b);
  return b;
}

Board discover(const std::string& sysfs_root) {
  SysfsRoot root(sysfs_root);
  SysfsFileAccess io(root);
  return discover(root, io);
}

}  // namespace flame::board
