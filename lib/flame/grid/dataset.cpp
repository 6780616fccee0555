#include "flame/grid/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "flame/grid/detail/csv_table.hpp"

namespace flame::grid {
namespace {

bool has(const CsvTable& t, std::initializer_list<const char*> names) {
  return std::all_of(names.begin(), names.end(), [&](const char* n) { return t.column(n) >= 0; });
}

double positive(const CsvTable& t, const CsvRow& row, size_t col) {
  const double v = t.number(row, col);
  if (!(v > 0)) t.fail(row, fmt::format("column '{}': {} must be positive", t.header()[col], v));
  return v;
}

int online_cores(const CsvTable& t, const CsvRow& row) {
  int cores = 0;
  for (int k = 0; k < 4; ++k) {
    const size_t col = t.require(fmt::format("core{}_status", k));
    const long s = t.integer(row, col);
    if (s != 0 && s != 1)
      t.fail(row, fmt::format("column 'core{}_status': {} is not 0 or 1", k, t.text(row, col)));
    cores += static_cast<int>(s);
  }
  if (cores == 0) t.fail(row, "no core online (all core*_status are 0)");
  return cores;
}

// FlexiBO TX2: core_freq kHz, gpu/emc Hz, inference_time s, power_consumption mW (inferred units).
void read_flexibo(const CsvTable& t, Dataset& d, bool with_power) {
  const size_t cf = t.require("core_freq"), gf = t.require("gpu_freq"), ef = t.require("emc_freq"),
               lt = t.require("inference_time");
  const int pc = with_power ? static_cast<int>(t.require("power_consumption")) : -1;
  for (const auto& row : t.rows()) {
    Sample s;
    s.clocks = {positive(t, row, cf), online_cores(t, row), positive(t, row, gf), positive(t, row, ef)};
    s.latency_ms = positive(t, row, lt) * 1e3;
    if (pc >= 0) s.power_w = positive(t, row, static_cast<size_t>(pc)) / 1e3;
    s.cost_ms = s.latency_ms;
    s.line = row.line;
    d.samples.push_back(std::move(s));
  }
}

// Energyinfra llama.cpp runs: actual clocks in MHz, TPOT in ms; failed runs have output_tokens = 0.
void read_energyinfra(const CsvTable& t, Dataset& d, bool sweep) {
  const size_t gf = t.require("gpu_freq_mhz"), cf = t.require("cpu_freq_mhz"), wl = t.require("workload"),
               tp = t.require("tpot_ms"), ot = t.require("output_tokens"), tt = t.require("total_time_ms");
  const int ef = sweep ? static_cast<int>(t.require("emc_freq_mhz")) : -1;
  const int ph = sweep ? static_cast<int>(t.require("phase")) : -1;
  const int pw = sweep ? static_cast<int>(t.require("avg_power_w")) : -1;
  const int ps = sweep ? static_cast<int>(t.require("power_samples")) : -1;
  for (const auto& row : t.rows()) {
    if (ph >= 0) {
      const std::string& phase = t.text(row, static_cast<size_t>(ph));
      if (phase != "decode") {
        if (phase != "mixed") t.fail(row, fmt::format("column 'phase': '{}' is not decode or mixed", phase));
        ++d.skipped;  // prompt-cache effects make mixed-phase TTFT/TPOT unclean
        continue;
      }
    }
    if (t.integer(row, ot) <= 0) {
      d.dropped.push_back({row.line, "failed run: output_tokens = 0"});
      continue;
    }
    if (ps >= 0 && t.integer(row, static_cast<size_t>(ps)) <= 0) {
      d.dropped.push_back({row.line, "no power samples (power_samples = 0)"});
      continue;
    }
    Sample s;
    s.clocks.cpu_khz = positive(t, row, cf) * 1e3;
    s.clocks.gpu_hz = positive(t, row, gf) * 1e6;
    s.clocks.emc_hz = ef >= 0 ? positive(t, row, static_cast<size_t>(ef)) * 1e6 : 0;
    s.series = t.text(row, wl);
    if (s.series.empty()) t.fail(row, "column 'workload' is empty");
    s.latency_ms = positive(t, row, tp);
    if (pw >= 0) s.power_w = positive(t, row, static_cast<size_t>(pw));
    s.cost_ms = positive(t, row, tt);
    s.line = row.line;
    d.samples.push_back(std::move(s));
  }
  if (d.skipped) d.skipped_reason = "phase 'mixed' (prompt-cache effects; decode rows only)";
}

}  // namespace

const char* to_string(DatasetFormat f) {
  switch (f) {
    case DatasetFormat::FlexiboGrid:
      return "flexibo-tx2-grid";
    case DatasetFormat::FlexiboObjectives:
      return "flexibo-tx2-objectives";
    case DatasetFormat::EnergyinfraSweep:
      return "energyinfra-orin-sweep";
    case DatasetFormat::EnergyinfraCpuGpu:
      return "energyinfra-orin-cpu-gpu";
  }
  return "?";
}

Dataset parse_dataset(const std::string& csv_text, const std::string& path) {
  const CsvTable t = CsvTable::parse(csv_text, path);
  Dataset d;
  d.path = path;
  if (has(t, {"core_freq", "gpu_freq", "emc_freq", "inference_time", "power_consumption"})) {
    d.format = DatasetFormat::FlexiboGrid;
    d.latency_label = "inference_time";
    d.power_label = "power_consumption (mW, inferred)";
    read_flexibo(t, d, true);
  } else if (has(t, {"core_freq", "gpu_freq", "emc_freq", "inference_time", "energy_consumption"})) {
    d.format = DatasetFormat::FlexiboObjectives;
    d.latency_label = "inference_time";
    read_flexibo(t, d, false);
  } else if (has(t, {"gpu_freq_mhz", "cpu_freq_mhz", "emc_freq_mhz", "phase", "tpot_ms", "avg_power_w"})) {
    d.format = DatasetFormat::EnergyinfraSweep;
    d.latency_label = "decode tpot_ms";
    d.power_label = "avg_power_w";
    read_energyinfra(t, d, true);
  } else if (has(t, {"gpu_freq_mhz", "cpu_freq_mhz", "workload", "tpot_ms"})) {
    d.format = DatasetFormat::EnergyinfraCpuGpu;
    d.latency_label = "tpot_ms";
    read_energyinfra(t, d, false);
  } else {
    throw CsvError(fmt::format(
        "{}:1: unrecognised header: expected a FlexiBO TX2 file (core_freq, gpu_freq, emc_freq, "
        "inference_time, ...) or an Energyinfra llama.cpp file (gpu_freq_mhz, cpu_freq_mhz, tpot_ms, ...)",
        path));
  }
  if (d.samples.empty()) throw CsvError(fmt::format("{}: no usable measurement rows", path));
  return d;
}

Dataset read_dataset(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError(fmt::format("{}: cannot open file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_dataset(ss.str(), path);
}

std::vector<std::string> series_names(const Dataset& d) {
  std::vector<std::string> out;
  for (const auto& s : d.samples)
    if (std::find(out.begin(), out.end(), s.series) == out.end()) out.push_back(s.series);
  return out;
}

std::vector<Point> group_points(const Dataset& d) {
  using Key = std::tuple<std::string, double, int, double, double>;
  std::map<Key, Point> by;
  for (size_t i = 0; i < d.samples.size(); ++i) {
    const Sample& s = d.samples[i];
    Point& p = by[{s.series, s.clocks.cpu_khz, s.clocks.cpu_cores, s.clocks.gpu_hz, s.clocks.emc_hz}];
    p.series = s.series;
    p.clocks = s.clocks;
    p.rows.push_back(i);
    p.cost_ms += s.cost_ms;
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  std::vector<Point> out;
  for (auto& [key, p] : by) {
    std::vector<double> lat, pw;
    for (size_t i : p.rows) {
      lat.push_back(d.samples[i].latency_ms);
      if (d.samples[i].power_w) pw.push_back(*d.samples[i].power_w);
    }
    p.latency_ms = median(lat);
    if (!pw.empty()) p.power_w = median(pw);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace flame::grid
