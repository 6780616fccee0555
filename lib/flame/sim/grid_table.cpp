#include "flame/sim/grid_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace flame::sim {

ClockGrid clock_grid(const ClockLevels& levels) {
  ClockGrid g;
  for (auto v : levels.cpu_khz) g.cpu_khz.push_back(static_cast<double>(v));
  for (auto v : levels.gpu_hz) g.gpu_hz.push_back(static_cast<double>(v));
  for (auto v : levels.emc_hz) g.emc_hz.push_back(static_cast<double>(v));
  return g;
}

SimClocks sim_clocks(const Clocks& c, int cores) {
  return {cores, static_cast<std::uint64_t>(c.cpu_khz), static_cast<std::uint64_t>(c.gpu_hz),
          static_cast<std::uint64_t>(c.emc_hz)};
}
namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t n = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end());
  double m = v[n];
  if (v.size() % 2 == 0) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n - 1), v.end());
    m = (m + v[n - 1]) / 2;
  }
  return m;
}

template <class T>
std::size_t level_index(const std::vector<T>& levels, T v) {
  return static_cast<std::size_t>(std::lower_bound(levels.begin(), levels.end(), v) - levels.begin());
}

}  // namespace

std::string to_string(const SimClocks& c) {
  return fmt::format("{} cores, CPU {:.1f} MHz, GPU {:.2f} MHz, EMC {:.1f} MHz", c.cores, c.cpu_khz / 1e3,
                     c.gpu_hz / 1e6, c.emc_hz / 1e6);
}

std::size_t snap_down(const std::vector<std::uint64_t>& levels, std::uint64_t value) {
  const auto it = std::upper_bound(levels.begin(), levels.end(), value);
  return it == levels.begin() ? 0 : static_cast<std::size_t>(it - levels.begin()) - 1;
}

GridTable GridTable::load_csv(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw GridError(fmt::format("{}: cannot open grid file", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), file.string());
}

GridTable GridTable::parse_csv(std::string_view text, const std::string& source) {
  GridTable g;
  g.source_ = source;
  std::vector<std::string_view> lines = split(text, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) throw GridError(source + ": empty grid file");
  auto strip = [](std::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  };
  const auto header = split(strip(lines[0]), ',');
  std::map<std::string, std::size_t, std::less<>> col;
  for (std::size_t i = 0; i < header.size(); ++i) col[std::string(header[i])] = i;
  const char* needed[] = {"model_name",   "size",           "core0_status",     "core1_status",
                          "core2_status", "core3_status",   "core_freq",        "gpu_freq",
                          "emc_freq",     "inference_time", "power_consumption"};
  for (const char* n : needed)
    if (!col.count(n)) throw GridError(fmt::format("{}:1: missing column '{}'", source, n));

  struct Row {
    SimClocks c;
    GridPoint p;
  };
  std::vector<Row> rows;
  for (std::size_t ln = 1; ln < lines.size(); ++ln) {
    const auto f = split(strip(lines[ln]), ',');
    if (f.size() != header.size())
      throw GridError(
          fmt::format("{}:{}: expected {} fields, found {}", source, ln + 1, header.size(), f.size()));
    auto field = [&](const char* name) { return f[col.at(name)]; };
    auto integer = [&](const char* name) {
      const auto s = field(name);
      std::uint64_t v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size())
        throw GridError(fmt::format("{}:{}: {}: '{}' is not an unsigned integer", source, ln + 1, name, s));
      return v;
    };
    auto real = [&](const char* name) {
      const std::string s(field(name));
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0)
        throw GridError(fmt::format("{}:{}: {}: '{}' is not a positive number", source, ln + 1, name, s));
      return v;
    };
    Row r;
    int cores = 0;
    for (const char* k : {"core0_status", "core1_status", "core2_status", "core3_status"}) {
      const auto v = integer(k);
      if (v > 1) throw GridError(fmt::format("{}:{}: {} must be 0 or 1", source, ln + 1, k));
      cores += static_cast<int>(v);
    }
    if (cores == 0) throw GridError(fmt::format("{}:{}: no core online", source, ln + 1));
    r.c = {cores, integer("core_freq"), integer("gpu_freq"), integer("emc_freq")};
    r.p = {real("inference_time"), real("power_consumption")};
    if (g.model_.empty()) {
      g.model_ = std::string(field("model_name"));
      g.size_ = std::string(field("size"));
    } else if (field("model_name") != g.model_ || field("size") != g.size_) {
      throw GridError(fmt::format("{}:{}: more than one model/size in one grid file", source, ln + 1));
    }
    rows.push_back(r);
  }
  if (rows.empty()) throw GridError(source + ": no data rows");
  for (const auto& r : rows) {
    g.cores_.push_back(r.c.cores);
    g.cpu_.push_back(r.c.cpu_khz);
    g.gpu_.push_back(r.c.gpu_hz);
    g.emc_.push_back(r.c.emc_hz);
  }
  auto uniq = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  uniq(g.cores_);
  uniq(g.cpu_);
  uniq(g.gpu_);
  uniq(g.emc_);
  const std::size_t n = g.cores_.size() * g.cpu_.size() * g.gpu_.size() * g.emc_.size();
  if (rows.size() != n)
    throw GridError(
        fmt::format("{}: {} rows, but the levels span {} configurations: not a full factorial grid", source,
                    rows.size(), n));
  g.points_.assign(n, GridPoint{});
  std::vector<bool> seen(n, false);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& c = rows[k].c;
    const GridIndex i{level_index(g.cores_, c.cores), level_index(g.cpu_, c.cpu_khz),
                      level_index(g.gpu_, c.gpu_hz), level_index(g.emc_, c.emc_hz)};
    const std::size_t f = g.flat(i);
    if (seen[f])
      throw GridError(fmt::format("{}:{}: configuration {} appears twice", source, k + 2, to_string(c)));
    seen[f] = true;
    g.points_[f] = rows[k].p;
  }
  const std::string width = g.size_.substr(0, g.size_.find('x'));
  g.name_ = g.model_ + "-" + width;
  g.estimate_noise();
  return g;
}

std::size_t GridTable::flat(const GridIndex& i) const {
  return ((i.cores * cpu_.size() + i.cpu) * gpu_.size() + i.gpu) * emc_.size() + i.emc;
}

const GridPoint& GridTable::at(const GridIndex& i) const {
  if (i.cores >= cores_.size() || i.cpu >= cpu_.size() || i.gpu >= gpu_.size() || i.emc >= emc_.size())
    throw GridError("grid index out of range");
  return points_[flat(i)];
}

SimClocks GridTable::clocks(const GridIndex& i) const {
  return {cores_.at(i.cores), cpu_.at(i.cpu), gpu_.at(i.gpu), emc_.at(i.emc)};
}

std::optional<GridIndex> GridTable::find(const SimClocks& c) const {
  auto exact = [](const auto& levels, auto v) -> std::optional<std::size_t> {
    const auto it = std::lower_bound(levels.begin(), levels.end(), v);
    if (it == levels.end() || *it != v) return std::nullopt;
    return static_cast<std::size_t>(it - levels.begin());
  };
  const auto a = exact(cores_, c.cores), b = exact(cpu_, c.cpu_khz), d = exact(gpu_, c.gpu_hz),
             e = exact(emc_, c.emc_hz);
  if (!a || !b || !d || !e) return std::nullopt;
  return GridIndex{*a, *b, *d, *e};
}

GridIndex GridTable::snap(const SimClocks& c) const {
  std::vector<std::uint64_t> cores(cores_.begin(), cores_.end());
  return {snap_down(cores, static_cast<std::uint64_t>(std::max(c.cores, 0))), snap_down(cpu_, c.cpu_khz),
          snap_down(gpu_, c.gpu_hz), snap_down(emc_, c.emc_hz)};
}

GridIndex GridTable::fastest() const {
  GridIndex best{};
  for (std::size_t k = 0; k < cores_.size(); ++k) {
    const GridIndex i = fastest(cores_[k]);
    if (at(i).latency_s < at(best).latency_s) best = i;
  }
  return best;
}

GridIndex GridTable::fastest(int cores) const {
  const auto k = level_index(cores_, cores);
  if (k >= cores_.size() || cores_[k] != cores)
    throw GridError(fmt::format("the grid has no {}-core rows", cores));
  GridIndex best{k, 0, 0, 0};
  for (std::size_t a = 0; a < cpu_.size(); ++a)
    for (std::size_t b = 0; b < gpu_.size(); ++b)
      for (std::size_t e = 0; e < emc_.size(); ++e) {
        const GridIndex i{k, a, b, e};
        if (at(i).latency_s < at(best).latency_s) best = i;
      }
  return best;
}

void GridTable::estimate_noise() {
  std::vector<double> freqs(cpu_.begin(), cpu_.end());
  std::vector<std::vector<double>> lat, pow;
  for (std::size_t k = 0; k < cores_.size(); ++k)
    for (std::size_t b = 0; b < gpu_.size(); ++b)
      for (std::size_t e = 0; e < emc_.size(); ++e) {
        std::vector<double> l, p;
        for (std::size_t a = 0; a < cpu_.size(); ++a) {
          l.push_back(at({k, a, b, e}).latency_s);
          p.push_back(at({k, a, b, e}).power_mw);
        }
        lat.push_back(std::move(l));
        pow.push_back(std::move(p));
      }
  latency_noise_ = noise_from_neighbours(lat, freqs);
  power_noise_ = noise_from_neighbours(pow, freqs);
}

NoiseEstimate noise_from_neighbours(const std::vector<std::vector<double>>& lines,
                                    const std::vector<double>& freqs) {
  NoiseEstimate out;
  if (freqs.size() < 3) return out;
  std::vector<double> r;
  for (const auto& y : lines) {
    if (y.size() != freqs.size())
      throw GridError("noise estimate: a line does not match the frequency levels");
    for (std::size_t i = 1; i + 1 < y.size(); ++i) {
      const double f0 = std::log(freqs[i - 1]), f1 = std::log(freqs[i]), f2 = std::log(freqs[i + 1]);
      const double w = (f2 - f1) / (f2 - f0);
      const double res = std::log(y[i]) - (w * std::log(y[i - 1]) + (1 - w) * std::log(y[i + 1]));
      r.push_back(res / std::sqrt(1 + w * w + (1 - w) * (1 - w)));
    }
  }
  out.residuals = r.size();
  if (r.empty()) return out;
  const double m = median(r);
  std::vector<double> dev;
  double ss = 0, mean = 0;
  for (double v : r) mean += v;
  mean /= static_cast<double>(r.size());
  for (double v : r) {
    dev.push_back(std::abs(v - m));
    ss += (v - mean) * (v - mean);
  }
  out.sigma = 1.4826 * median(dev);
  out.sigma_plain = std::sqrt(ss / static_cast<double>(r.size()));
  return out;
}

}  // namespace flame::sim
