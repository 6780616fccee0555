#include "flame/sim/table_sim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "flame/io/data_path.hpp"

namespace flame::sim {
namespace {

namespace fs = std::filesystem;

// Plain reads of the tree: the simulator does not go through the board layer it is used to test.
std::optional<std::string> read_text(const std::string& root, const std::string& path) {
  std::ifstream f(root + path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!f.good() && !f.eof()) return std::nullopt;
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::optional<std::uint64_t> read_u64(const std::string& root, const std::string& path) {
  const auto s = read_text(root, path);
  if (!s || s->empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : *s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// The table entry a busy domain runs at: the governor's target clamped into [lo, hi], then the
// highest table level not above it (cpufreq/devfreq pick table entries within the limits); if the
// limits exclude every level below it, the lowest level at or above lo.
std::uint64_t pick(const std::vector<std::uint64_t>& levels, std::uint64_t lo, std::uint64_t hi,
                   std::uint64_t target) {
  if (hi < lo) hi = lo;  // a crossing pair: the min wins (4.9 refuses it; 5.10 clamps it)
  target = std::clamp(target, lo, hi);
  const std::size_t i = snap_down(levels, target);
  if (levels[i] <= target && levels[i] >= lo) return levels[i];
  const auto up = std::lower_bound(levels.begin(), levels.end(), lo);
  return up == levels.end() ? levels.back() : *up;
}

}  // namespace

std::uint64_t TableSimulator::Domain::at(double t) const {
  std::uint64_t v = current;
  for (const auto& c : pending) {
    if (c.at_ms > t) break;
    v = c.value;
  }
  return v;
}

void TableSimulator::Domain::settle(double t) {
  while (!pending.empty() && pending.front().at_ms <= t) {
    current = pending.front().value;
    pending.pop_front();
  }
}

std::vector<std::shared_ptr<const ModelTruth>> grid_truths(const std::vector<GridTable>& tables) {
  if (tables.empty()) throw GridError("simulator: no grid tables");
  std::vector<std::shared_ptr<const ModelTruth>> out;
  for (const auto& t : tables) {
    if (t.cores() != tables.front().cores() || t.cpu_khz() != tables.front().cpu_khz() ||
        t.gpu_hz() != tables.front().gpu_hz() || t.emc_hz() != tables.front().emc_hz())
      throw GridError(
          fmt::format("simulator: grid {} has other clock levels than {}", t.name(), tables.front().name()));
  }
  for (const auto& t : tables) out.push_back(std::make_shared<GridTruth>(t));
  return out;
}

SimBoard tx2_board(const std::vector<GridTable>& tables) {
  if (tables.empty()) throw GridError("simulator: no grid tables");
  return {tx2_layout(), tables.front().levels()};
}

TableSimulator::TableSimulator(std::string tree_root, const std::vector<GridTable>& tables,
                               SimOptions options)
    // (both helpers read `tables`: the order the arguments are evaluated in must not matter)
    : TableSimulator(std::move(tree_root), tx2_board(tables), grid_truths(tables), options) {}

TableSimulator::TableSimulator(std::string tree_root, SimBoard board,
                               std::vector<std::shared_ptr<const ModelTruth>> truths, SimOptions options)
    : root_(std::move(tree_root)),
      tree_(root_, /*owned=*/false),
      layout_(std::move(board.layout)),
      levels_(std::move(board.levels)),
      options_(options),
      rng_(options.seed),
      thermal_(options.thermal),
      max_temperature_c_(options.thermal.ambient_c) {
  if (truths.empty()) throw GridError("simulator: no models");
  if (levels_.cores.empty() || levels_.cpu_khz.empty() || levels_.gpu_hz.empty() || levels_.emc_hz.empty())
    throw GridError("simulator: the board needs at least one level per domain");
  for (auto& t : truths) {
    if (!t) throw GridError("simulator: a null model truth");
    const std::string name = t->name();
    if (truths_.count(name)) throw GridError(fmt::format("simulator: two models named {}", name));
    if (const auto* g = dynamic_cast<const GridTruth*>(t.get())) tables_.emplace(name, &g->table());
    truths_.emplace(name, std::move(t));
  }
  if (!(options_.noise_scale >= 0)) throw GridError("simulator: noise scale must be >= 0");
  for (double d : {options_.cpu_delay_ms, options_.gpu_delay_ms, options_.emc_delay_ms})
    if (!(d >= 0)) throw GridError("simulator: actuation delays must be >= 0");
  if (options_.power_cap_w && !(*options_.power_cap_w > 0))
    throw GridError("simulator: power cap must be > 0");
  const ThermalOptions& th = options_.thermal;
  if (!std::isfinite(th.ambient_c) || !(th.resistance_c_per_w >= 0) || !(th.tau_s > 0))
    throw GridError("simulator: thermal model needs a finite ambient, resistance >= 0 and tau > 0");
  if (options_.throttle) {
    try {
      throttle_.emplace(*options_.throttle);
    } catch (const std::invalid_argument& e) {
      throw GridError(std::string("simulator: ") + e.what());
    }
  }
  cpu_.delay_ms = options_.cpu_delay_ms;
  gpu_.delay_ms = options_.gpu_delay_ms;
  emc_.delay_ms = options_.emc_delay_ms;
  cores_.delay_ms = 0;  // hotplug is not something flamed actuates; taken as immediate
}

const ModelTruth& TableSimulator::truth(const std::string& model) const {
  const auto it = truths_.find(model);
  if (it == truths_.end()) {
    std::string known;
    for (const auto& [n, t] : truths_) known += (known.empty() ? "" : ", ") + n;
    throw GridError(fmt::format("simulator: no grid for model '{}' (known: {})", model, known));
  }
  return *it->second;
}

const GridTable& TableSimulator::table(const std::string& model) const {
  (void)truth(model);  // names the known models when it is unknown
  const auto it = tables_.find(model);
  if (it == tables_.end())
    throw GridError(fmt::format("simulator: model '{}' is a live layer-level truth, not a grid", model));
  return *it->second;
}

std::vector<std::string> TableSimulator::models() const {
  std::vector<std::string> out;
  for (const auto& [n, t] : truths_) out.push_back(n);
  return out;
}

TreeState TableSimulator::read_tree() const {
  TreeState s;
  const ClockLevels& g = levels_;
  auto note = [&](std::string n) { s.notes.push_back(std::move(n)); };
  // Cores: the layout's CPUs (TX2: FlexiBO's core0..core3 = cpu0, cpu3, cpu4, cpu5); a CPU without an
  // online file is online.
  int cores = 0;
  for (int c : layout_.grid_cpus) {
    const auto v = read_u64(root_, fmt::format("/sys/devices/system/cpu/cpu{}/online", c));
    if (!v || *v != 0) ++cores;
  }
  s.raw.cores = cores;
  // CPU: the grid policy.
  const std::string& p = layout_.grid_policy;
  const auto cmin = read_u64(root_, p + "/scaling_min_freq"), cmax = read_u64(root_, p + "/scaling_max_freq");
  const auto cgov = read_text(root_, p + "/scaling_governor");
  if (!cmin || !cmax) note("cpu: scaling_min_freq/scaling_max_freq unreadable; taking the table's range");
  std::uint64_t lo = cmin.value_or(g.cpu_khz.front()), hi = cmax.value_or(g.cpu_khz.back());
  std::uint64_t target = hi;
  if (cgov && *cgov == "powersave") target = lo;
  if (cgov && *cgov == "userspace")
    if (auto sp = read_u64(root_, p + "/scaling_setspeed")) target = *sp;
  s.raw.cpu_khz = std::clamp(target, std::min(lo, hi), std::max(lo, hi));
  s.requested.cpu_khz = pick(g.cpu_khz, lo, hi, target);
  // GPU: devfreq.
  const std::string& d = layout_.gpu_devfreq;
  const auto gmin = read_u64(root_, d + "/min_freq"), gmax = read_u64(root_, d + "/max_freq");
  const auto ggov = read_text(root_, d + "/governor");
  if (!gmin || !gmax) note("gpu: min_freq/max_freq unreadable; taking the table's range");
  lo = gmin.value_or(g.gpu_hz.front());
  hi = gmax.value_or(g.gpu_hz.back());
  target = hi;
  if (ggov && *ggov == "powersave") target = lo;
  if (ggov && *ggov == "userspace")
    if (auto sp = read_u64(root_, d + "/userspace/set_freq")) target = *sp;
  s.raw.gpu_hz = std::clamp(target, std::min(lo, hi), std::max(lo, hi));
  s.requested.gpu_hz = pick(g.gpu_hz, lo, hi, target);
  // EMC: a locked rate is what runs; unlocked, BPMP DVFS runs a busy board at its ceiling.
  const std::string& e = layout_.emc;
  const auto locked = read_u64(root_, e + "/mrq_rate_locked");
  std::optional<std::uint64_t> rate;
  if (locked && *locked == 1) {
    rate = read_u64(root_, e + "/rate");
  } else {
    rate = read_u64(root_, e + "/max_rate");
    const auto cap = read_u64(root_, layout_.emc_iso_cap);
    if (rate && cap && *cap > 0) rate = std::min(*rate, *cap);
  }
  if (!rate) note("emc: rate unreadable; taking the table's maximum");
  s.raw.emc_hz = rate.value_or(g.emc_hz.back());
  s.requested.emc_hz = g.emc_hz[snap_down(g.emc_hz, s.raw.emc_hz)];
  // Cores snap like the others (TX2: 1..4).
  std::vector<std::uint64_t> core_levels(g.cores.begin(), g.cores.end());
  s.requested.cores = g.cores[snap_down(core_levels, static_cast<std::uint64_t>(cores))];
  if (s.raw.cpu_khz != s.requested.cpu_khz)
    note(fmt::format("cpu: {} kHz is not a grid level; runs at {} kHz", s.raw.cpu_khz, s.requested.cpu_khz));
  if (s.raw.gpu_hz != s.requested.gpu_hz)
    note(fmt::format("gpu: {} Hz is not a grid level; runs at {} Hz", s.raw.gpu_hz, s.requested.gpu_hz));
  if (s.raw.emc_hz != s.requested.emc_hz)
    note(fmt::format("emc: {} Hz is not a grid level; runs at {} Hz", s.raw.emc_hz, s.requested.emc_hz));
  if (s.raw.cores != s.requested.cores)
    note(fmt::format("cores: {} grid cores online; runs as {}", s.raw.cores, s.requested.cores));
  return s;
}

TreeState TableSimulator::observe(double now_ms) {
  if (started_ && now_ms < now_)
    throw GridError(fmt::format("simulator: time went backwards ({} ms after {} ms)", now_ms, now_));
  TreeState s = read_tree();
  if (started_)
    heat(now_ms, 0);  // idle since the last observation: the grid has no idle power
  else
    thermal_ms_ = now_ms;
  auto update = [&](Domain& d, std::uint64_t v) {
    if (!started_) {
      d.current = v;  // the state the board was in before the simulation started
      return;
    }
    d.settle(now_ms);
    if (v != d.last_requested()) d.pending.push_back({now_ms + d.delay_ms, v});
  };
  update(cores_, static_cast<std::uint64_t>(s.requested.cores));
  update(cpu_, s.requested.cpu_khz);
  update(gpu_, s.requested.gpu_hz);
  update(emc_, s.requested.emc_hz);
  started_ = true;
  now_ = now_ms;
  if (options_.update_tree) refresh_tree(now_ms, std::nullopt);
  return s;
}

SimClocks TableSimulator::effective(double t_ms) const {
  return {static_cast<int>(cores_.at(t_ms)), cpu_.at(t_ms), gpu_.at(t_ms), emc_.at(t_ms)};
}

std::optional<SimClocks> TableSimulator::thermal_cap() const {
  if (!throttle_ || !throttle_->engaged()) return std::nullopt;
  const ClockLevels& g = levels_;
  const double f = throttle_->options().clock_fraction;
  // The highest table level at or below the fraction of the maximum (the lowest level at worst).
  auto level = [f](const std::vector<std::uint64_t>& levels) {
    const auto limit = static_cast<std::uint64_t>(f * static_cast<double>(levels.back()));
    return levels[snap_down(levels, limit)];
  };
  return SimClocks{g.cores.back(), level(g.cpu_khz), level(g.gpu_hz), g.emc_hz.back()};
}

bool TableSimulator::heat(double t_ms, double power_w) {
  bool changed = false;
  while (thermal_ms_ < t_ms) {
    const double poll = next_poll(thermal_ms_);
    const double to = std::min(t_ms, poll);
    thermal_.advance(to - thermal_ms_, power_w);
    thermal_ms_ = to;
    max_temperature_c_ = std::max(max_temperature_c_, thermal_.celsius());
    if (throttle_ && to >= poll) changed = throttle_->poll(thermal_.celsius()) || changed;
  }
  return changed;
}

double TableSimulator::next_poll(double t_ms) const {
  if (!throttle_) return std::numeric_limits<double>::infinity();
  const double p = throttle_->options().poll_ms;
  double next = (std::floor(t_ms / p) + 1) * p;
  if (next <= t_ms) next += p;  // rounding
  return next;
}

SimClocks TableSimulator::capped(const SimClocks& in, const ModelTruth& truth, bool* throttled) const {
  if (throttled) *throttled = false;
  SimClocks c = in;
  if (const auto cap = thermal_cap()) {
    // The cooling devices lower the ceilings of the CPU and GPU (the EMC is not throttled).
    if (c.cpu_khz > cap->cpu_khz || c.gpu_hz > cap->gpu_hz) {
      c.cpu_khz = std::min(c.cpu_khz, cap->cpu_khz);
      c.gpu_hz = std::min(c.gpu_hz, cap->gpu_hz);
      if (throttled) *throttled = true;
    }
  }
  if (!options_.power_cap_w) return c;
  // A crude stand-in for the board's power/thermal throttling: step the GPU down first, then the CPU,
  // then the EMC, until the noise-free power at the clocks in effect is within the cap (or all are lowest).
  const ClockLevels& g = levels_;
  std::size_t gi = snap_down(g.gpu_hz, c.gpu_hz), ci = snap_down(g.cpu_khz, c.cpu_khz),
              ei = snap_down(g.emc_hz, c.emc_hz);
  auto at = [&] { return SimClocks{c.cores, g.cpu_khz[ci], g.gpu_hz[gi], g.emc_hz[ei]}; };
  while (truth.mean(at()).power_w > *options_.power_cap_w) {
    if (gi > 0)
      --gi;
    else if (ci > 0)
      --ci;
    else if (ei > 0)
      --ei;
    else
      break;
    if (throttled) *throttled = true;
  }
  return at();
}

InferenceResult TableSimulator::run(const std::string& model, double start_ms) {
  return run(model, start_ms, Ticker{});
}

InferenceResult TableSimulator::run(const std::string& model, double start_ms, const Ticker& ticker) {
  const ModelTruth& g = truth(model);
  const TreeState s = observe(start_ms);
  InferenceResult r;
  r.model = model;
  r.start_ms = start_ms;
  r.requested = s.requested;
  // Two draws per inference, always, so that the noise stream does not depend on the clocks.
  TruthDraw draw;
  draw.z_latency = rng_.normal();
  draw.z_power = rng_.normal();
  draw.scale = options_.noise_scale;

  // Every instant at which some domain's clock changes after `from`.
  std::vector<double> changes;
  auto collect = [&](double from) {
    changes.clear();
    for (const Domain* d : {&cores_, &cpu_, &gpu_, &emc_})
      for (const auto& c : d->pending)
        if (c.at_ms > from) changes.push_back(c.at_ms);
    std::sort(changes.begin(), changes.end());
    changes.erase(std::unique(changes.begin(), changes.end()), changes.end());
  };
  collect(start_ms);
  const bool periodic = ticker.at && ticker.period_ms > 0;
  const bool ticking = ticker.at && (periodic || !ticker.instants.empty());
  double next_tick = std::numeric_limits<double>::infinity();
  if (periodic) {
    next_tick = ticker.first_ms;
    while (next_tick <= start_ms) next_tick += ticker.period_ms;
  }
  std::size_t instant = 0;
  auto next_instant = [&] {
    return ticker.at && instant < ticker.instants.size() ? ticker.instants[instant]
                                                         : std::numeric_limits<double>::infinity();
  };
  while (next_instant() <= start_ms) ++instant;

  double t = start_ms, progress = 0, energy_mj = 0;
  std::size_t next = 0;
  bool tick_split = false;
  r.pieces = 0;
  for (;;) {
    bool throttled = false;
    const SimClocks eff = effective(t);
    const SimClocks c = capped(eff, g, &throttled);
    r.throttled = r.throttled || throttled;
    if (const auto cap = thermal_cap(); cap && (eff.cpu_khz > cap->cpu_khz || eff.gpu_hz > cap->gpu_hz))
      r.thermal_throttled = true;
    if (r.pieces == 0) r.effective = c;
    if (!tick_split || !(c == r.effective_end)) ++r.pieces;
    r.effective_end = c;
    const TruthSample p = g.sample(c, draw);
    r.latency_noise = p.latency_noise;
    r.power_noise = p.power_noise;
    const double l_ms = p.latency_ms;
    const double w = p.power_w;
    while (next < changes.size() && changes[next] <= t) ++next;
    const double change = next < changes.size() ? changes[next] : std::numeric_limits<double>::infinity();
    // A thermal poll may engage or release the throttle: the clocks in effect can change there.
    const double until = std::min({change, next_tick, next_instant(), next_poll(t)});
    const double remaining = (1.0 - progress) * l_ms;
    if (t + remaining <= until) {
      energy_mj += w * remaining;
      heat(t + remaining, w);
      t += remaining;
      break;
    }
    const double dt = until - t;
    progress += dt / l_ms;
    energy_mj += w * dt;
    heat(until, w);
    t = until;
    tick_split = t < change;  // a tick or a poll alone starts a new piece only if the clocks change
    if (ticking && (t >= next_tick || t >= next_instant())) {
      // The governor may rewrite the tree now; what it wrote takes effect after the delays.
      ticker.at(t);
      observe(t);
      if (t >= next_tick) next_tick += ticker.period_ms;
      while (next_instant() <= t) ++instant;
      collect(t);
      next = 0;
      tick_split = true;  // a tick alone does not start a new piece (clocks change only after delays)
    }
  }
  r.temperature_c = thermal_.celsius();
  r.latency_ms = t - start_ms;
  r.energy_j = energy_mj / 1000.0;
  r.avg_power_w = r.latency_ms > 0 ? energy_mj / r.latency_ms : 0;
  if (options_.update_tree) refresh_tree(t, r);
  return r;
}

void TableSimulator::refresh_tree(double t_ms, const std::optional<InferenceResult>& last) {
  SimClocks c = effective(t_ms);
  if (last) c = last->effective_end;
  if (const auto cap = thermal_cap(); cap && !last) {  // what cur_freq shows while throttled
    c.cpu_khz = std::min(c.cpu_khz, cap->cpu_khz);
    c.gpu_hz = std::min(c.gpu_hz, cap->gpu_hz);
  }
  const std::string cpu = std::to_string(c.cpu_khz), gpu = std::to_string(c.gpu_hz);
  const std::string& p = layout_.grid_policy;
  auto put = [&](const std::string& path, const std::string& v) {
    const auto old = read_text(root_, path);
    if (old && *old == v) return;
    if (!fs::exists(root_ + path)) return;  // never create attributes a board does not have
    tree_.replace_attr(path, v);
  };
  put(p + "/scaling_cur_freq", cpu);
  put(p + "/cpuinfo_cur_freq", cpu);
  put(layout_.gpu_devfreq + "/cur_freq", gpu);
  put(layout_.gpu_devfreq + "/target_freq", gpu);
  // The die zones in millidegrees, at the TX2 sensors' 0.5 °C resolution.
  const long milli = std::lround(thermal_.celsius() * 2) * 500;
  for (const auto& z : layout_.die_zones) put(z + "/temp", std::to_string(milli));
  if (last) {
    const double mw = last->avg_power_w * 1000.0, mv = layout_.vdd_in_mv;
    const auto ma = static_cast<long>(std::lround(mw / mv * 1000.0));
    if (layout_.vdd_in_hwmon) {  // hwmon (JetPack 5/6): bus voltage in mV and current in mA
      put(layout_.vdd_in + "/in1_input", std::to_string(std::lround(mv)));
      put(layout_.vdd_in + "/curr1_input", std::to_string(ma));
    } else {  // iio ina3221x (JetPack 4): power in mW
      put(layout_.vdd_in + "/in_power0_input", std::to_string(std::lround(mw)));
      put(layout_.vdd_in + "/in_current0_input", std::to_string(ma));
      put(layout_.vdd_in + "/ui_input_0", fmt::format("{} {}", std::lround(mv), ma));
    }
  }
}

std::vector<GridTable> load_tx2_tables(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("tx2_sampled_output_", 0) == 0 && e.path().extension() == ".csv") files.push_back(e.path());
  }
  if (ec) throw GridError(fmt::format("{}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw GridError(fmt::format("{}: no tx2_sampled_output_*.csv grid files", dir));
  std::vector<GridTable> out;
  for (const auto& f : files) out.push_back(GridTable::load_csv(f));
  return out;
}

std::string tx2_grid_dir() {
  return io::find_data("data/jetson-public/flexibo-tx2").string();
}

}  // namespace flame::sim
