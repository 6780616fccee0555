#include "flame/sim/profiles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

namespace flame::sim {

namespace {

using U64s = std::vector<std::uint64_t>;

// A device-tree string list: NUL-separated, NUL-terminated.
std::string dt(std::initializer_list<const char*> items) {
  std::string out;
  for (const char* i : items) out += std::string(i) + '\0';
  return out;
}

// What identifies a board: the device tree's root properties where a board keeps them,
// /sys/firmware/devicetree/base, with /proc/device-tree a link to it (relative, so that the tree can
// move); the L4T release line; the nvpmodel mode in force.
void identity(FakeTree& t, std::initializer_list<const char*> compatible, const char* model,
              const std::string& l4t_release, int nvpmodel_mode) {
  const std::string base = "/sys/firmware/devicetree/base";
  t.raw(base + "/compatible", dt(compatible));
  t.raw(base + "/model", dt({model}));
  t.link("/proc/device-tree", base);
  t.attr("/etc/nv_tegra_release", l4t_release);
  t.attr("/var/lib/nvpmodel/status", fmt::format("pmode:{:04d} fmode:quiet", nvpmodel_mode));
}

// Attributes of one directory, as a table of (name, value).
void attrs(FakeTree& t, const std::string& dir,
           std::initializer_list<std::pair<const char*, std::string>> table) {
  for (const auto& [name, value] : table) t.attr(dir + "/" + name, value);
}

std::string join_values(const U64s& v, bool trailing_space) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + std::to_string(v[i]);
  if (trailing_space) out += " ";
  return out;
}

const U64s kOrinCpu = {115200,  192000,  268800,  345600,  422400,  499200,  576000,  652800,
                       729600,  806400,  883200,  960000,  1036800, 1113600, 1190400, 1267200,
                       1344000, 1420800, 1497600, 1574400, 1651200, 1728000};
const U64s kOrinGpu = {306000000, 408000000, 510000000, 612000000,
                       714000000, 816000000, 918000000, 1020000000};
// Supported EMC rates for the kernel model: 204 MHz (the fake Orin tree's min_rate) plus the rates
// observed on Orin Nano Super (config/boards/orin-nano-8gb-super.yaml).
const U64s kOrinEmc = {204000000, 665600000, 2133000000, 3199000000};

// Orin Nano 8GB without Super mode (JetPack 5): the CPU table of config/boards/orin-nano-8gb.yaml (to
// 1510.4 MHz); the GPU steps of ga10b below its 624.75 MHz top (the 102 MHz lattice that AGX Orin lists to
// 1300.5 MHz); EMC up to 2133 MHz (68 GB/s), the rates AGX Orin lists below it.
const U64s kOrinNanoJp5Cpu = {115200,  192000,  268800,  345600,  422400,  499200,  576000,
                              652800,  729600,  806400,  883200,  960000,  1036800, 1113600,
                              1190400, 1267200, 1344000, 1420800, 1497600, 1510400};
const U64s kOrinNanoJp5Gpu = {114750000, 216750000, 318750000, 420750000, 522750000, 624750000};
const U64s kOrinNanoJp5Emc = {204000000, 665600000, 2133000000};

const U64s kXavierCpu = {115200,  192000,  268800,  345600,  422400,  499200,  576000,  652800,  729600,
                         806400,  883200,  960000,  1036800, 1113600, 1190400, 1267200, 1344000, 1420800,
                         1497600, 1574400, 1651200, 1728000, 1804800, 1881600, 1907200};
const U64s kXavierGpu = {114750000, 204000000, 306000000,  408000000,  510000000,
                         599250000, 701250000, 752250000,  803250000,  854250000,
                         905250000, 956250000, 1007250000, 1058250000, 1109250000};
// Xavier NX EMC: only the nvpmodel caps 1600/1866 MHz are documented; the lower rates are model-only.
const U64s kXavierEmc = {204000000, 665600000, 1065600000, 1600000000, 1866000000};

// Jetson TX2 as FlexiBO measured it (softsys4ai/FlexiBO @0b8bbbb, MIT; data/jetson-public/flexibo-tx2):
// the 12 core_freq values (= the TX2 CPU table in jetson_stats' tests and community scripts), and the 4 GPU
// and 4 EMC clocks FlexiBO swept. The real TX2 offers more GPU steps (114.75 MHz ... 1300.5 MHz) and EMC
// rates down to 40.8 MHz; the simulated board offers exactly the measured grid, so every state it can be put
// in has a measurement behind it.
const U64s kTx2Cpu = {345600,  499200,  652800,  806400,  960000,  1113600,
                      1267200, 1420800, 1574400, 1728000, 1881600, 2035200};
const U64s kTx2Gpu = {140250000, 497250000, 943500000, 1300500000};
const U64s kTx2Emc = {1062400000, 1331200000, 1600000000, 1866000000};
// The module's own tables, for the TX2 profiles that are not the grid board: the 13 gp10b steps 114.75 ...
// 1300.5 MHz as TX2 DVFS scripts list them (zTT, github.com/ztt-21/zTT), and an EMC range from
// 40.8 MHz (jetson_stats' tests, community scripts) with the grid's rates and 800 MHz on top.
const U64s kTx2GpuModule = {114750000, 216750000, 318750000,  420750000,  522750000,  624750000, 726750000,
                            828750000, 930750000, 1032750000, 1134750000, 1236750000, 1300500000};
const U64s kTx2EmcModule = {40800000, 800000000, 1062400000, 1331200000, 1600000000, 1866000000};

struct Layout {
  std::vector<std::pair<int, std::vector<int>>> policies;  // first cpu -> related cpus
  int cpus;
  U64s cpu_table;
  std::uint64_t cpu_min, cpu_max, scaling_min, scaling_max, scaling_cur;
  std::string driver;
};

void build_cpus(FakeTree& t, const Layout& l, const TreeOptions& o) {
  const std::string cpu = "/sys/devices/system/cpu";
  std::vector<int> online;
  for (int c = 0; c < l.cpus; ++c)
    if (std::find(o.offline_cpus.begin(), o.offline_cpus.end(), c) == o.offline_cpus.end())
      online.push_back(c);
  auto ranges = [](const std::vector<int>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
      std::size_t j = i;
      while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
      out += (out.empty() ? "" : ",") + std::to_string(v[i]) + (j > i ? "-" + std::to_string(v[j]) : "");
      i = j + 1;
    }
    return out;
  };
  std::vector<int> offline = o.offline_cpus;
  std::sort(offline.begin(), offline.end());
  t.attr(cpu + "/online", ranges(online));
  t.attr(cpu + "/offline", ranges(offline));
  t.attr(cpu + "/possible", fmt::format("0-{}", l.cpus - 1));
  t.attr(cpu + "/present", fmt::format("0-{}", l.cpus - 1));
  for (const auto& [first, related] : l.policies) {
    const std::string pdir = fmt::format("{}/cpufreq/policy{}", cpu, first);
    std::vector<int> affected;
    for (int c : related)
      if (std::find(online.begin(), online.end(), c) != online.end()) affected.push_back(c);
    std::string rel, aff;
    for (int c : related) rel += (rel.empty() ? "" : " ") + std::to_string(c);
    for (int c : affected) aff += (aff.empty() ? "" : " ") + std::to_string(c);
    attrs(t, pdir,
          {{"related_cpus", rel},
           {"affected_cpus", aff},
           {"cpuinfo_min_freq", std::to_string(l.cpu_min)},
           {"cpuinfo_max_freq", std::to_string(l.cpu_max)},
           {"cpuinfo_cur_freq", std::to_string(l.cpu_max)},
           {"cpuinfo_transition_latency", "300000"},
           {"scaling_available_frequencies", join_values(l.cpu_table, /*trailing_space=*/true)},
           {"scaling_available_governors",
            "interactive conservative ondemand userspace powersave performance schedutil "},
           {"scaling_driver", l.driver},
           {"scaling_governor", "schedutil"},
           {"scaling_min_freq", std::to_string(l.scaling_min)},
           {"scaling_max_freq", std::to_string(l.scaling_max)},
           {"scaling_cur_freq", std::to_string(l.scaling_cur)},
           {"scaling_setspeed", "<unsupported>"}});
    if (o.cur_follows_max) {
      t.link(pdir + "/scaling_cur_freq", pdir + "/scaling_max_freq");
      t.link(pdir + "/cpuinfo_cur_freq", pdir + "/scaling_max_freq");
    }
    for (int c : related) {
      const std::string cdir = fmt::format("{}/cpu{}", cpu, c);
      const bool is_online = std::find(online.begin(), online.end(), c) != online.end();
      t.attr(cdir + "/online", is_online ? "1" : "0");
      t.link(cdir + "/cpufreq", pdir);
      t.attr(cdir + "/cpuidle/state0/name", "WFI");
      t.attr(cdir + "/cpuidle/state0/disable", "0");
      t.attr(cdir + "/cpuidle/state1/name", "c7");
      t.attr(cdir + "/cpuidle/state1/disable", "0");
    }
  }
}

struct Gpu {
  std::string dir;  // real GPU device dir
  std::string name;
  std::string of_node;  // device-tree node dir
  std::string of_name, of_compat;
  U64s table;
  std::uint64_t cur, min, max;
  std::string governors;
  bool name_attr;                  // devfreq "name"/"timer" exist (5.10+)
  std::vector<std::string> links;  // gpu.0 and friends
};

void build_gpu(FakeTree& t, const Gpu& g, const TreeOptions& o) {
  attrs(t, g.dir,
        {{"load", "236"},
         {"railgate_enable", "1"},
         {"is_railgated", "0"},
         {"tpc_pg_mask", "0"},
         {"power/control", "auto"}});
  t.raw(g.of_node + "/name", g.of_name + std::string(1, '\0'));
  t.raw(g.of_node + "/compatible", g.of_compat + std::string(1, '\0'));
  t.link(g.dir + "/of_node", g.of_node);
  for (const auto& l : g.links) t.link(l, g.dir);
  if (o.gpu_unregistered) return;
  const std::string df = g.dir + "/devfreq/" + g.name;
  attrs(t, df,
        {{"available_frequencies", join_values(g.table, false)},
         {"available_governors", g.governors},
         {"governor", "nvhost_podgov"},
         {"cur_freq", std::to_string(g.cur)},
         {"target_freq", std::to_string(g.cur)},
         {"min_freq", std::to_string(g.min)},
         {"max_freq", std::to_string(g.max)},
         {"polling_interval", "25"},
         {"trans_stat", "     From  :   To\n"}});
  if (o.cur_follows_max) {
    t.link(df + "/cur_freq", df + "/max_freq");
    t.link(df + "/target_freq", df + "/max_freq");
  }
  if (g.name_attr) {
    t.attr(df + "/name", g.name);
    t.attr(df + "/timer", "deferrable");
    t.link(g.dir + "/devfreq_dev", df);
  }
  t.link(df + "/device", g.dir);
  t.link("/sys/class/devfreq/" + g.name, df);
}

// A host1x engine with its own devfreq device: must not be mistaken for the GPU.
void build_vic(FakeTree& t, const std::string& parent, const std::string& dt_parent,
               const char* compat = "nvidia,tegra234-vic") {
  const std::string dir = parent + "/13e00000.host1x/15340000.vic";
  const std::string node = dt_parent + "/host1x@13e00000/vic@15340000";
  t.raw(node + "/name", std::string("vic") + '\0');
  t.raw(node + "/compatible", std::string(compat) + '\0');
  t.link(dir + "/of_node", node);
  const std::string df = dir + "/devfreq/15340000.vic";
  attrs(t, df,
        {{"available_frequencies", "115200000 268800000 435200000 729600000"},
         {"available_governors", "nvhost_podgov userspace performance"},
         {"governor", "nvhost_podgov"},
         {"cur_freq", "115200000"},
         {"min_freq", "115200000"},
         {"max_freq", "729600000"}});
  t.link(df + "/device", dir);
  t.link("/sys/class/devfreq/15340000.vic", df);
}

void build_emc(FakeTree& t, std::uint64_t rate, std::uint64_t max, const TreeOptions& o,
               std::uint64_t min = 204000000, std::uint64_t iso_cap = 0) {
  t.attr("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", std::to_string(iso_cap));
  if (o.no_debugfs) {
    t.dir("/sys/kernel/debug");  // mount point without debugfs mounted
    return;
  }
  const std::string emc = "/sys/kernel/debug/bpmp/debug/clk/emc";
  attrs(t, emc,
        {{"rate", std::to_string(rate)},
         {"min_rate", std::to_string(min)},
         {"max_rate", std::to_string(max)},
         {"mrq_rate_locked", "0"}});
  if (o.debugfs_unreadable) t.make_directory(emc + "/rate");
}

void build_thermal(FakeTree& t, const std::vector<std::pair<std::string, std::string>>& zones,
                   const TreeOptions& o) {
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const std::string z = fmt::format("/sys/devices/virtual/thermal/thermal_zone{}", i);
    t.attr(z + "/type", zones[i].first);
    t.attr(z + "/temp", zones[i].second);
    if (o.sensorless_unreadable && zones[i].second == "-256000") t.make_directory(z + "/temp");
    t.link(fmt::format("/sys/class/thermal/thermal_zone{}", i), z);
  }
}

void build_hwmon(FakeTree& t, const std::string& i2c_dev, const std::string& dev, int index,
                 const TreeOptions& o) {
  t.attr(i2c_dev + "/name", "ina3221");
  const std::string h = fmt::format("{}/hwmon/hwmon{}", i2c_dev, index);
  t.attr(h + "/name", "ina3221");
  const char* labels[] = {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"};
  const char* mv[] = {"5048", "5040", "5040"};
  const char* ma[] = {"1412", "380", "612"};
  for (int ch = 1; ch <= 3; ++ch) {
    t.attr(fmt::format("{}/in{}_label", h, ch), labels[ch - 1]);
    t.attr(fmt::format("{}/in{}_input", h, ch), mv[ch - 1]);
    t.attr(fmt::format("{}/curr{}_input", h, ch), ma[ch - 1]);
    t.attr(fmt::format("{}/in{}_enable", h, ch), "1");
    t.attr(fmt::format("{}/shunt{}_resistor", h, ch), "5000");
  }
  attrs(t, h,
        {{"in4_input", "7060"},
         {"in5_input", "1900"},
         {"in6_input", "3060"},
         {"in7_input", "12020"},
         {"in7_label", "sum of shunt voltages"},
         {"curr4_input", "2404"}});
  if (o.nc_rail) {
    // Relabel channel 3 as unused: jtop and we skip "NC" channels.
    t.attr(h + "/in3_label", "NC");
  }
  t.link(fmt::format("/sys/class/hwmon/hwmon{}", index), h);
  t.link("/sys/bus/i2c/devices/" + dev, i2c_dev);
  t.link("/sys/bus/i2c/drivers/ina3221/" + dev, i2c_dev);
}

void nvpmodel_conf(FakeTree& t, const std::string& cpu_param, const std::string& gpu_devfreq, int mode_id,
                   const std::string& mode_name) {
  // Illustrative test configuration in the nvpmodel.conf format; the caps of mode 0 are made up for tests.
  t.raw("/etc/nvpmodel.conf", fmt::format(R"(# test nvpmodel.conf (illustrative values)
< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online
< PARAM TYPE=CLOCK NAME={0} >
FREQ_TABLE /sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies
MAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq
MIN_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq
< PARAM TYPE=CLOCK NAME=GPU >
FREQ_TABLE {1}/available_frequencies
MAX_FREQ {1}/max_freq
MIN_FREQ {1}/min_freq
< PARAM TYPE=CLOCK NAME=EMC >
MAX_FREQ /sys/kernel/nvpmodel_emc_cap/emc_iso_cap
< POWER_MODEL ID=0 NAME=TEST_LOW >
CPU_ONLINE CORE_0 1
{0} MIN_FREQ 0
{0} MAX_FREQ 1200000
GPU MIN_FREQ 0
GPU MAX_FREQ 520000000
EMC MAX_FREQ 1600000000
< POWER_MODEL ID={2} NAME={3} >
CPU_ONLINE CORE_0 1
{0} MIN_FREQ 0
{0} MAX_FREQ -1
GPU MIN_FREQ 0
GPU MAX_FREQ -1
EMC MAX_FREQ 0
< PM_CONFIG DEFAULT={2} >
)",
                                          cpu_param, gpu_devfreq, mode_id, mode_name));
}

// An Orin Nano /etc/nvpmodel.conf in NVIDIA's format with the modes' caps of NVIDIA's
// nvpmodel_p3767_0003.conf and nvpmodel_p3767_0003_super.conf (as kept in
// LineageOS/android_device_nvidia_concord nvpmodel/); docs/simulator.md. CPU_A78_<i> is cpu<clusters[i]>,
// the GPU's _KNEXT path the one newer kernels use. A cap of -1 is "unlimited", EMC 0 "no cap".
struct OrinMode {
  int id;
  const char* name;
  std::array<int, 6> online;
  std::int64_t cpu_max, gpu_max, emc_max;
};
void orin_nano_conf(FakeTree& t, const std::vector<int>& clusters, const std::string& gpu_knext,
                    const std::vector<OrinMode>& modes, int default_mode) {
  const std::string gpu = "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b";
  std::string c = "< PARAM TYPE=FILE NAME=CPU_ONLINE >\n";
  for (int i = 0; i < 6; ++i) c += fmt::format("CORE_{0} /sys/devices/system/cpu/cpu{0}/online\n", i);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const std::string d = fmt::format("/sys/devices/system/cpu/cpu{}/cpufreq", clusters[i]);
    c += fmt::format("< PARAM TYPE=CLOCK NAME=CPU_A78_{} >\n", i);
    for (const char* k : {"", "_KNEXT"})
      c += fmt::format(
          "FREQ_TABLE{0} {1}/scaling_available_frequencies\nMAX_FREQ{0} {1}/scaling_max_freq\n"
          "MIN_FREQ{0} {1}/scaling_min_freq\n",
          k, d);
  }
  c += fmt::format(
      "< PARAM TYPE=CLOCK NAME=GPU >\nFREQ_TABLE {0}/available_frequencies\nMAX_FREQ {0}/max_freq\n"
      "MIN_FREQ {0}/min_freq\nFREQ_TABLE_KNEXT {1}/available_frequencies\nMAX_FREQ_KNEXT {1}/max_freq\n"
      "MIN_FREQ_KNEXT {1}/min_freq\n<PARAM TYPE=CLOCK NAME=EMC >\n"
      "MAX_FREQ /sys/kernel/nvpmodel_emc_cap/emc_iso_cap\n",
      gpu, gpu_knext);
  for (const auto& m : modes) {
    c += fmt::format("< POWER_MODEL ID={} NAME={} >\n", m.id, m.name);
    for (int i = 0; i < 6; ++i) c += fmt::format("CPU_ONLINE CORE_{} {}\n", i, m.online[i]);
    for (std::size_t i = 0; i < clusters.size(); ++i)
      c += fmt::format("CPU_A78_{0} MIN_FREQ 729600\nCPU_A78_{0} MAX_FREQ {1}\n", i, m.cpu_max);
    c += fmt::format("GPU MIN_FREQ 0\nGPU MAX_FREQ {}\nEMC MAX_FREQ {}\n", m.gpu_max, m.emc_max);
  }
  c += fmt::format("< PM_CONFIG DEFAULT={} >\n", default_mode);
  t.raw("/etc/nvpmodel.conf", c);
}

void orin_nano_jp6(FakeTree& t, const TreeOptions& o) {
  identity(t, {"nvidia,p3768-0000+p3767-0005-super", "nvidia,p3767-0005", "nvidia,tegra234"},
           "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super",
           "# R36 (release), REVISION: 4.3, GCID: 00000000, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 "
           "01:49:37 UTC 2025",
           2);
  build_cpus(
      t,
      {{{0, {0, 1, 2, 3}}, {4, {4, 5}}}, 6, kOrinCpu, 115200, 1728000, 115200, 1728000, 1190400, "tegra194"},
      o);
  const std::string bus = "/sys/devices/platform/bus@0";
  build_gpu(t,
            {bus + "/17000000.gpu",
             "17000000.gpu",
             "/sys/firmware/devicetree/base/bus@0/gpu@17000000",
             "gpu",
             "nvidia,ga10b",
             kOrinGpu,
             612000000,
             306000000,
             1020000000,
             "wmark_simple nvhost_podgov userspace performance simple_ondemand",
             true,
             {bus + "/gpu.0", "/sys/devices/platform/gpu.0", "/sys/devices/platform/17000000.gpu"}},
            o);
  if (o.vic_decoy) build_vic(t, bus, "/sys/firmware/devicetree/base/bus@0");
  build_emc(t, 3199000000, 3199000000, o);
  if (!o.no_debugfs) {
    t.attr("/sys/kernel/debug/bpmp/debug/clk/nafll_gpc0/pto_counter", "612000000");
    t.attr("/sys/kernel/debug/cactmon/mc_all", "0");
  }
  build_hwmon(t, bus + "/c240000.i2c/i2c-1/1-0040", "1-0040", 3, o);
  build_thermal(t,
                {{"cpu-thermal", "47500"},
                 {"gpu-thermal", "46281"},
                 {"cv0-thermal", "-256000"},
                 {"cv1-thermal", "-256000"},
                 {"cv2-thermal", "-256000"},
                 {"soc0-thermal", "45093"},
                 {"soc1-thermal", "46125"},
                 {"soc2-thermal", "44968"},
                 {"tj-thermal", "47500"}},
                o);
  if (o.nvpmodel_conf)
    nvpmodel_conf(t, "CPU_A78_0", bus + "/17000000.gpu/devfreq/17000000.gpu", 2, "MAXN_SUPER");
  else
    orin_nano_conf(t, {0, 1, 2, 3, 4, 5}, "/sys/devices/platform/17000000.gpu/devfreq_dev",
                   {{0, "15W", {1, 1, 1, 1, 1, 1}, 1497600, 612000000, 2133000000},
                    {1, "25W", {1, 1, 1, 1, 1, 1}, 1344000, 918000000, 3199000000},
                    {2, "MAXN_SUPER", {1, 1, 1, 1, 1, 1}, -1, -1, -1}},
                   1);
}

// Orin Nano 8GB developer kit on JetPack 5.1.2 (L4T R35.4.1, kernel 5.10): the GPU is 17000000.ga10b
// under /sys/devices/platform (JetPack 6 names it 17000000.gpu under bus@0), nvpmodel mode 0 (15W).
void orin_nano_jp5(FakeTree& t, const TreeOptions& o) {
  identity(t, {"nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"},
           "NVIDIA Orin Nano Developer Kit",
           "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 "
           "19:57:35 UTC 2023",
           0);
  build_cpus(t,
             {{{0, {0, 1, 2, 3}}, {4, {4, 5}}},
              6,
              kOrinNanoJp5Cpu,
              kOrinNanoJp5Cpu.front(),
              kOrinNanoJp5Cpu.back(),
              kOrinNanoJp5Cpu.front(),
              kOrinNanoJp5Cpu.back(),
              1190400,
              "tegra194"},
             o);
  // nvpmodel_p3767_0003.conf names the GPU /sys/devices/17000000.ga10b and /sys/devices/gpu.0.
  const std::string platform = "/sys/devices/platform";
  build_gpu(t,
            {"/sys/devices/17000000.ga10b",
             "17000000.ga10b",
             "/sys/firmware/devicetree/base/gpu@17000000",
             "gpu",
             "nvidia,ga10b",
             kOrinNanoJp5Gpu,
             kOrinNanoJp5Gpu.front(),
             kOrinNanoJp5Gpu.front(),
             kOrinNanoJp5Gpu.back(),
             "wmark_active nvhost_podgov userspace performance simple_ondemand",
             true,
             {"/sys/devices/gpu.0"}},
            o);
  if (o.vic_decoy) build_vic(t, "/sys/devices", "/sys/firmware/devicetree/base");
  build_emc(t, kOrinNanoJp5Emc.back(), kOrinNanoJp5Emc.back(), o);
  build_hwmon(t, platform + "/c240000.i2c/i2c-1/1-0040", "1-0040", 3, o);
  build_thermal(t,
                {{"CPU-therm", "45500"},
                 {"GPU-therm", "44281"},
                 {"CV0-therm", "-256000"},
                 {"CV1-therm", "-256000"},
                 {"CV2-therm", "-256000"},
                 {"SOC0-therm", "43093"},
                 {"SOC1-therm", "44125"},
                 {"SOC2-therm", "42968"},
                 {"tj-therm", "45500"}},
                o);
  if (o.nvpmodel_conf)
    nvpmodel_conf(t, "CPU_A78_0", "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b", 2, "TEST_HIGH");
  else
    orin_nano_conf(t, {0, 4}, "/sys/devices/17000000.ga10b/devfreq_dev",
                   {{0, "15W", {1, 1, 1, 1, 1, 1}, -1, -1, 0},
                    {1, "7W", {1, 1, 1, 1, 0, 0}, 960000, 408000000, 2133000000}},
                   0);
}

void xavier_nx(FakeTree& t, const TreeOptions& o, bool jp5) {
  identity(t, {"nvidia,p3449-0000+p3668-0001", "nvidia,jetson-xavier-nx", "nvidia,tegra194"},
           "NVIDIA Jetson Xavier NX Developer Kit",
           jp5 ? "# R35 (release), REVISION: 4.1, GCID: 00000000, BOARD: t186ref, "
                 "EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023"
               : "# R32 (release), REVISION: 7.4, GCID: 00000000, BOARD: t186ref, "
                 "EABI: aarch64, DATE: Tue Jun 20 12:38:27 UTC 2023",
           8);
  build_cpus(t,
             {{{0, {0, 1}}, {2, {2, 3}}, {4, {4, 5}}},
              6,
              kXavierCpu,
              115200,
              1907200,
              1190400,
              1907200,
              1907200,
              jp5 ? "tegra194" : "tegra_cpufreq"},
             o);
  const std::string gdir = jp5 ? "/sys/devices/platform/17000000.gv11b" : "/sys/devices/17000000.gv11b";
  std::vector<std::string> links = {"/sys/devices/gpu.0"};
  if (jp5) links = {"/sys/devices/platform/gpu.0", "/sys/devices/gpu.0", "/sys/devices/17000000.gv11b"};
  build_gpu(t,
            {gdir, "17000000.gv11b", "/sys/firmware/devicetree/base/gv11b@17000000", "gv11b", "nvidia,gv11b",
             kXavierGpu, 114750000, 114750000, 1109250000,
             "wmark_active nvhost_podgov userspace performance simple_ondemand", jp5, links},
            o);
  if (o.vic_decoy)
    build_vic(t, jp5 ? "/sys/devices/platform" : "/sys/devices", "/sys/firmware/devicetree/base");
  build_emc(t, 1866000000, 1866000000, o);
  if (jp5) {
    build_hwmon(t, "/sys/devices/platform/c250000.i2c/i2c-7/7-0040", "7-0040", 1, o);
  } else {
    const std::string dev = "/sys/devices/c250000.i2c/i2c-7/7-0040";
    t.attr(dev + "/name", "ina3221x");
    const std::string iio = dev + "/iio:device0";
    t.attr(iio + "/name", "ina3221x");
    const char* rails[] = {"VDD_IN", "VDD_CPU_GPU_CV", o.nc_rail ? "NC" : "VDD_SOC"};
    const char* mv[] = {"5048", "5040", "5040"};
    const char* ma[] = {"724", "120", "400"};
    const char* mw[] = {"3654", "604", "2016"};
    for (int ch = 0; ch < 3; ++ch) {
      t.attr(fmt::format("{}/rail_name_{}", iio, ch), rails[ch]);
      t.attr(fmt::format("{}/in_voltage{}_input", iio, ch), mv[ch]);
      t.attr(fmt::format("{}/in_current{}_input", iio, ch), ma[ch]);
      t.attr(fmt::format("{}/in_power{}_input", iio, ch), mw[ch]);
      t.attr(fmt::format("{}/warn_current_limit_{}", iio, ch), "3000 ma");
      t.attr(fmt::format("{}/crit_current_limit_{}", iio, ch), "4000 ma");
      t.attr(fmt::format("{}/ui_input_{}", iio, ch), fmt::format("{} {}", mv[ch], ma[ch]));
    }
    t.attr(iio + "/running_mode", "1");
    t.link("/sys/bus/i2c/devices/7-0040", dev);
    t.link("/sys/bus/i2c/drivers/ina3221x/7-0040", dev);
  }
  t.attr("/sys/kernel/actmon_avg_activity/mc_all", "0");
  build_thermal(t,
                {{"AO-therm", "38500"},
                 {"CPU-therm", "41000"},
                 {"GPU-therm", "39500"},
                 {"AUX-therm", "39000"},
                 {"PMIC-Die", "100000"},
                 {"thermal-fan-est", "39900"}},
                o);
  if (o.nvpmodel_conf)
    nvpmodel_conf(t, "CPU_DENVER_0", gdir + "/devfreq/17000000.gv11b", 8, "MODE_20W_6CORE");
}

// Jetson TX2 (T186), JetPack 4 (L4T R32.7, kernel 4.9). What is assumed and why (docs/simulator.md):
// - CPU: two cpufreq policies. policy0 = the A57 cluster (cpu0, cpu3, cpu4, cpu5), policy1 = the
//   Denver cluster (cpu1, cpu2): the cluster table of the tegra186 cpufreq driver (Denver {1, 2},
//   A57 {0, 3, 4, 5}; inferred from nvpmodel's mode names, not read on a board) and FlexiBO's own TX2 config,
//   which names its core0..core3 cpu0, cpu3, cpu4, cpu5 (src/config.yaml @fc54b4e). The Denver cluster is
//   offline by default (nvpmodel mode 3, MAXP_CORE_ARM, "4 A57 cores"), so the four cores FlexiBO
//   switched are the ones the board runs; the grid has no measurement with Denver cores.
// - GPU: devfreq 17000000.gp10b under /sys/devices (4.9 has no /platform prefix), of_node gp10b,
//   gpu.0 link, no name/timer attributes (nvgpu os/linux/sysfs.c in the r32 branch).
// - EMC: bpmp debugfs clk/emc (jetson_clocks do_emc()), its range the grid's (1062.4-1866 MHz).
// - Power: the L4T iio driver ina3221x (drivers/staging/iio/meter/ina3221.c) at 0-0040 (VDD_SYS_GPU,
// VDD_SYS_SOC, VDD_4V0_WIFI) and
//   0-0041 (VDD_IN, VDD_SYS_CPU, VDD_SYS_DDR) under /sys/devices/3160000.i2c/i2c-0 [C: community
//   power-logging scripts]; thermal zone names from community TX2 listings.
// The TX2 profiles differ in their nvpmodel mode and tables (docs/simulator.md):
// tx2-jp4 is the grid board (MAXN ceilings, Denver hotplugged off as FlexiBO ran it); tx2-jp4-mode3 and
// tx2-jp4-maxn are the module with its own tables in mode 3 (MAXP_CORE_ARM) and mode 0 (MAXN).
struct Tx2Variant {
  int mode = 0;
  bool module_tables = false;  // the module's GPU table and EMC range instead of the grid's
  bool denver_online = false;
  std::uint64_t gpu_max = 0;  // devfreq max_freq that nvpmodel left (0 = the table's top)
  std::uint64_t emc_cap = 0;  // emc_iso_cap (0 = none)
  bool conf = false;          // write the TX2 /etc/nvpmodel.conf
};

Tx2Variant tx2_variant(Profile p) {
  Tx2Variant v;
  if (p == Profile::Tx2Jp4Mode3) {
    // nvpmodel mode 3 asks for A57 2000000 kHz, GPU 1120000000 Hz and an EMC cap of 1600 MHz; the
    // drivers round the first two up to 2035200 and 1134750000 (a TX2's `nvpmodel -q --verbose`).
    v.mode = 3;
    v.module_tables = true;
    v.gpu_max = 1134750000;
    v.emc_cap = 1600000000;
    v.conf = true;
  } else if (p == Profile::Tx2Jp4Maxn) {
    v.module_tables = true;
    v.denver_online = true;
    v.conf = true;
  }
  return v;
}

// /etc/nvpmodel.conf of L4T R32 for the TX2, in its format; modes 0 (MAXN) and 3 (MAXP_CORE_ARM), whose
// values a TX2's `nvpmodel -q --verbose` shows (docs/simulator.md). The other three modes are left out:
// their exact values were not found in a source.
void tx2_nvpmodel_conf(FakeTree& t, int mode) {
  const std::string gpu = "/sys/devices/17000000.gp10b/devfreq/17000000.gp10b";
  std::string c = "< PARAM TYPE=FILE NAME=CPU_ONLINE >\n";
  for (int i = 0; i < 6; ++i) c += fmt::format("CORE_{0} /sys/devices/system/cpu/cpu{0}/online\n", i);
  for (const auto& [name, cpu] : {std::pair{"CPU_A57", 0}, std::pair{"CPU_DENVER", 1}}) {
    c += fmt::format("< PARAM TYPE=CLOCK NAME={} >\n", name);
    for (const char* a : {"FREQ_TABLE", "MAX_FREQ", "MIN_FREQ"})
      c += fmt::format("{} /sys/devices/system/cpu/cpu{}/cpufreq/{}\n", a, cpu,
                       std::string(a) == "FREQ_TABLE" ? "scaling_available_frequencies"
                       : std::string(a) == "MAX_FREQ" ? "scaling_max_freq"
                                                      : "scaling_min_freq");
  }
  c += fmt::format(
      "< PARAM TYPE=CLOCK NAME=GPU >\nFREQ_TABLE {0}/available_frequencies\nMAX_FREQ {0}/max_freq\n"
      "MIN_FREQ {0}/min_freq\n< PARAM TYPE=CLOCK NAME=EMC >\nMAX_FREQ "
      "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap\n",
      gpu);
  c += "< POWER_MODEL ID=0 NAME=MAXN >\n";
  for (int i = 1; i < 6; ++i) c += fmt::format("CPU_ONLINE CORE_{} 1\n", i);
  c += "CPU_A57 MIN_FREQ 0\nCPU_A57 MAX_FREQ -1\nCPU_DENVER MIN_FREQ 0\nCPU_DENVER MAX_FREQ -1\n"
       "GPU MIN_FREQ 0\nGPU MAX_FREQ -1\nEMC MAX_FREQ 0\n";
  c += "< POWER_MODEL ID=3 NAME=MAXP_CORE_ARM >\n";
  for (int i = 1; i < 6; ++i) c += fmt::format("CPU_ONLINE CORE_{} {}\n", i, i <= 2 ? 0 : 1);
  c += "CPU_A57 MIN_FREQ 0\nCPU_A57 MAX_FREQ 2000000\nGPU MIN_FREQ 0\nGPU MAX_FREQ 1120000000\n"
       "EMC MAX_FREQ 1600000000\n";
  c += fmt::format("< PM_CONFIG DEFAULT={} >\n", mode);
  t.raw("/etc/nvpmodel.conf", c);
}

void tx2_jp4(FakeTree& t, const TreeOptions& o, const Tx2Variant& v) {
  identity(t, {"nvidia,p2771-0000", "nvidia,tegra186"}, "NVIDIA Jetson TX2 Developer Kit",
           "# R32 (release), REVISION: 7.4, GCID: 00000000, BOARD: t186ref, EABI: aarch64, DATE: Tue Jun 20 "
           "12:38:27 UTC 2023",
           v.mode);
  TreeOptions co = o;
  if (!o.tx2_denver_online && !v.denver_online)
    for (int c : {1, 2})
      if (std::find(co.offline_cpus.begin(), co.offline_cpus.end(), c) == co.offline_cpus.end())
        co.offline_cpus.push_back(c);
  build_cpus(t,
             {{{0, {0, 3, 4, 5}}, {1, {1, 2}}},
              6,
              kTx2Cpu,
              kTx2Cpu.front(),
              kTx2Cpu.back(),
              kTx2Cpu.front(),
              kTx2Cpu.back(),
              kTx2Cpu.back(),
              "tegra186"},
             co);
  const U64s& gpu_table = v.module_tables ? kTx2GpuModule : kTx2Gpu;
  const U64s& emc_rates = v.module_tables ? kTx2EmcModule : kTx2Emc;
  build_gpu(t,
            {"/sys/devices/17000000.gp10b",
             "17000000.gp10b",
             "/sys/firmware/devicetree/base/gp10b@17000000",
             "gp10b",
             "nvidia,gp10b",
             gpu_table,
             gpu_table.front(),
             gpu_table.front(),
             v.gpu_max ? v.gpu_max : gpu_table.back(),
             "wmark_active nvhost_podgov userspace performance simple_ondemand",
             false,
             {"/sys/devices/gpu.0"}},
            o);
  if (o.vic_decoy) build_vic(t, "/sys/devices", "/sys/firmware/devicetree/base", "nvidia,tegra186-vic");
  // Unlocked, BPMP DVFS keeps a busy board's EMC at its top rate within the cap.
  const std::uint64_t emc_top = v.emc_cap ? std::min(v.emc_cap, emc_rates.back()) : emc_rates.back();
  build_emc(t, emc_top, emc_rates.back(), o, emc_rates.front(), v.emc_cap);
  const std::string i2c = "/sys/devices/3160000.i2c/i2c-0";
  struct Dev {
    const char* addr;
    int iio;
    std::array<const char*, 3> rails;
    std::array<int, 3> mw;
  };
  const Dev devs[] = {
      {"0-0040", 0, {"VDD_SYS_GPU", "VDD_SYS_SOC", o.nc_rail ? "NC" : "VDD_4V0_WIFI"}, {152, 686, 0}},
      {"0-0041", 1, {"VDD_IN", "VDD_SYS_CPU", "VDD_SYS_DDR"}, {1984, 229, 381}}};
  const int mv = static_cast<int>(tx2_layout().vdd_in_mv);
  for (const auto& d : devs) {
    const std::string dev = i2c + "/" + d.addr;
    t.attr(dev + "/name", "ina3221x");
    const std::string iio = fmt::format("{}/iio:device{}", dev, d.iio);
    t.attr(iio + "/name", "ina3221x");
    for (int ch = 0; ch < 3; ++ch) {
      const int ma = d.mw[ch] * 1000 / mv;
      t.attr(fmt::format("{}/rail_name_{}", iio, ch), d.rails[ch]);
      t.attr(fmt::format("{}/in_voltage{}_input", iio, ch), std::to_string(mv));
      t.attr(fmt::format("{}/in_current{}_input", iio, ch), std::to_string(ma));
      t.attr(fmt::format("{}/in_power{}_input", iio, ch), std::to_string(d.mw[ch]));
      t.attr(fmt::format("{}/warn_current_limit_{}", iio, ch), "3000 ma");
      t.attr(fmt::format("{}/crit_current_limit_{}", iio, ch), "4000 ma");
      t.attr(fmt::format("{}/ui_input_{}", iio, ch), fmt::format("{} {}", mv, ma));
    }
    t.attr(iio + "/running_mode", "1");
    t.link(std::string("/sys/bus/i2c/devices/") + d.addr, dev);
    t.link(std::string("/sys/bus/i2c/drivers/ina3221x/") + d.addr, dev);
  }
  t.attr("/sys/kernel/actmon_avg_activity/mc_all", "0");
  build_thermal(t,
                {{"BCPU-therm", "36500"},
                 {"MCPU-therm", "36500"},
                 {"GPU-therm", "35000"},
                 {"PLL-therm", "34500"},
                 {"Tboard_tegra", "32000"},
                 {"Tdiode_tegra", "33250"},
                 {"PMIC-Die", "100000"},
                 {"thermal-fan-est", "35400"}},
                o);
  if (v.conf || o.nvpmodel_conf) tx2_nvpmodel_conf(t, v.mode);
}
}  // namespace

const char* profile_name(Profile p) {
  switch (p) {
    case Profile::OrinNanoJp6:
      return "orin-nano-jp6";
    case Profile::OrinNanoJp5:
      return "orin-nano-jp5";
    case Profile::XavierNxJp4:
      return "xavier-nx-jp4";
    case Profile::XavierNxJp5:
      return "xavier-nx-jp5";
    case Profile::Tx2Jp4:
      return "tx2-jp4";
    case Profile::Tx2Jp4Mode3:
      return "tx2-jp4-mode3";
    case Profile::Tx2Jp4Maxn:
      return "tx2-jp4-maxn";
  }
  return "?";
}

std::optional<Profile> parse_profile(const std::string& name) {
  for (auto p : all_profiles())
    if (name == profile_name(p)) return p;
  return std::nullopt;
}

std::vector<Profile> all_profiles() {
  return {Profile::OrinNanoJp6, Profile::OrinNanoJp5, Profile::XavierNxJp4, Profile::XavierNxJp5,
          Profile::Tx2Jp4,      Profile::Tx2Jp4Mode3, Profile::Tx2Jp4Maxn};
}

std::string profile_names() {
  std::string out;
  for (auto p : all_profiles()) out += (out.empty() ? "" : " | ") + std::string(profile_name(p));
  return out;
}

void build(Profile p, FakeTree& t, const TreeOptions& o) {
  switch (p) {
    case Profile::OrinNanoJp6:
      return orin_nano_jp6(t, o);
    case Profile::OrinNanoJp5:
      return orin_nano_jp5(t, o);
    case Profile::XavierNxJp4:
      return xavier_nx(t, o, false);
    case Profile::XavierNxJp5:
      return xavier_nx(t, o, true);
    case Profile::Tx2Jp4:
    case Profile::Tx2Jp4Mode3:
    case Profile::Tx2Jp4Maxn:
      return tx2_jp4(t, o, tx2_variant(p));
  }
}

ProfileFacts facts(Profile p) {
  // Designated initialisers name the fields every profile sets; the rest keep their defaults.
  const std::string bpmp_emc = "/sys/kernel/debug/bpmp/debug/clk/emc";
  ProfileFacts f;
  switch (p) {
    case Profile::OrinNanoJp6:
      f = {.soc = "tegra234",
           .l4t = "R36.4.3",
           .qos = true,
           .policies = {"policy0", "policy4"},
           .cpu_khz = kOrinCpu,
           .gpu_hz = kOrinGpu,
           .emc_hz = kOrinEmc,
           .gpu_name = "17000000.gpu",
           .gpu_devfreq_dir = "/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu",
           .emc_dir = bpmp_emc,
           .emc_max_hz = 3199000000,
           .nvpmodel_mode = 2};
      break;
    case Profile::OrinNanoJp5:
      f = {.soc = "tegra234",
           .l4t = "R35.4.1",
           .qos = true,
           .policies = {"policy0", "policy4"},
           .cpu_khz = kOrinNanoJp5Cpu,
           .gpu_hz = kOrinNanoJp5Gpu,
           .emc_hz = kOrinNanoJp5Emc,
           .gpu_name = "17000000.ga10b",
           .gpu_devfreq_dir = "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b",
           .emc_dir = bpmp_emc,
           .emc_max_hz = kOrinNanoJp5Emc.back()};
      break;
    case Profile::XavierNxJp4:
    case Profile::XavierNxJp5: {
      const bool jp5 = p == Profile::XavierNxJp5;  // L4T R35: 5.10 write rules, GPU under /platform
      f = {.soc = "tegra194",
           .l4t = jp5 ? "R35.4.1" : "R32.7.4",
           .qos = jp5,
           .policies = {"policy0", "policy2", "policy4"},
           .cpu_khz = kXavierCpu,
           .gpu_hz = kXavierGpu,
           .emc_hz = kXavierEmc,
           .gpu_name = "17000000.gv11b",
           .gpu_devfreq_dir = jp5 ? "/sys/devices/platform/17000000.gv11b/devfreq/17000000.gv11b"
                                  : "/sys/devices/17000000.gv11b/devfreq/17000000.gv11b",
           .emc_dir = bpmp_emc,
           .emc_max_hz = 1866000000,
           .nvpmodel_mode = 8};
      break;
    }
    case Profile::Tx2Jp4:
    case Profile::Tx2Jp4Mode3:
    case Profile::Tx2Jp4Maxn: {
      const auto v = tx2_variant(p);
      f = {.soc = "tegra186",
           .l4t = "R32.7.4",
           .qos = false,
           .policies = {"policy0", "policy1"},
           .cpu_khz = kTx2Cpu,
           .gpu_hz = v.module_tables ? kTx2GpuModule : kTx2Gpu,
           .emc_hz = v.module_tables ? kTx2EmcModule : kTx2Emc,
           .gpu_name = "17000000.gp10b",
           .gpu_devfreq_dir = "/sys/devices/17000000.gp10b/devfreq/17000000.gp10b",
           .emc_dir = bpmp_emc,
           .emc_max_hz = kTx2Emc.back()};
      f.rails = 6;
      f.online_cores = v.denver_online ? 6 : 4;
      if (!v.denver_online) f.offline_policies = {"policy1"};  // the Denver cluster
      f.emc_iso_cap = v.emc_cap;
      f.cpu_zone = "BCPU";
      if (v.mode == 3) {  // the conf's values (tx2_nvpmodel_conf)
        f.nvpmodel_cpu_khz = 2000000;
        f.nvpmodel_gpu_hz = 1120000000;
      }
      f.nvpmodel_mode = v.mode;
      return f;
    }
  }
  f.online_cores = 6;
  f.rails = 3;
  return f;
}

BoardLayout tx2_layout() {
  BoardLayout l;
  l.grid_policy = "/sys/devices/system/cpu/cpufreq/policy0";
  l.grid_cpus = {0, 3, 4, 5};
  l.policies = {"/sys/devices/system/cpu/cpufreq/policy0", "/sys/devices/system/cpu/cpufreq/policy1"};
  l.gpu_devfreq = "/sys/devices/17000000.gp10b/devfreq/17000000.gp10b";
  l.gpu_device = "/sys/devices/17000000.gp10b";
  l.emc = "/sys/kernel/debug/bpmp/debug/clk/emc";
  l.emc_iso_cap = "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap";
  l.vdd_in = "/sys/devices/3160000.i2c/i2c-0/0-0041/iio:device1";
  l.vdd_in_mv = 19072;  // [I] the devkit feeds the module from its 19 V supply
  // BCPU-therm, MCPU-therm, GPU-therm (the order build_thermal numbers them): one lumped temperature.
  for (int z : {0, 1, 2})
    l.die_zones.push_back(fmt::format("/sys/devices/virtual/thermal/thermal_zone{}", z));
  return l;
}

BoardLayout orin_nano_layout() {
  BoardLayout l;
  l.grid_policy = "/sys/devices/system/cpu/cpufreq/policy0";
  l.grid_cpus = {0, 1, 2, 3, 4, 5};
  l.policies = {"/sys/devices/system/cpu/cpufreq/policy0", "/sys/devices/system/cpu/cpufreq/policy4"};
  l.gpu_device = "/sys/devices/platform/bus@0/17000000.gpu";
  l.gpu_devfreq = l.gpu_device + "/devfreq/17000000.gpu";
  l.emc = "/sys/kernel/debug/bpmp/debug/clk/emc";
  l.emc_iso_cap = "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap";
  l.vdd_in = "/sys/devices/platform/bus@0/c240000.i2c/i2c-1/1-0040/hwmon/hwmon3";
  l.vdd_in_hwmon = true;
  l.vdd_in_mv = 5048;  // what the tree's VDD_IN shows: the devkit's 5 V input [I]
  // cpu-thermal, gpu-thermal (zones 0, 1) and tj-thermal (zone 8, the junction maximum).
  for (int z : {0, 1, 8})
    l.die_zones.push_back(fmt::format("/sys/devices/virtual/thermal/thermal_zone{}", z));
  return l;
}

}  // namespace flame::sim
