#include "flame/eval/eval_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "flame/eval/detail/svg_plot.hpp"
#include "flame/io/atomic_write.hpp"

namespace flame::eval {
namespace {

const RunResult* find_run(const Evaluation& e, const std::string& name) {
  for (const auto& r : e.runs)
    if (r.governor == name) return &r;
  return nullptr;
}

}  // namespace

GovernorMetrics metrics(const RunResult& r) {
  GovernorMetrics m;
  const auto& s = r.summary;
  m.name = r.governor;
  m.summary = s;
  m.ppw = s.energy_j > 0 ? static_cast<double>(s.met) / s.energy_j : 0;
  m.decisions = r.decisions;
  m.decisions_per_s = r.decide_s > 0 ? static_cast<double>(r.decisions) / r.decide_s : 0;
  m.max_temperature_c = r.max_temperature_c;  // the simulator's, including inside inferences
  return m;
}

std::map<std::string, sim::Summary> phase_summaries(const RunResult& r) {
  std::map<std::string, std::vector<sim::FrameRecord>> by;
  for (const auto& x : r.records)
    if (!x.phase.empty()) by[x.phase].push_back(x);
  std::map<std::string, sim::Summary> out;
  for (const auto& [phase, records] : by) out[phase] = sim::summarize(records);
  return out;
}

std::vector<TargetCheck> check_targets(const Evaluation& e) {
  std::vector<TargetCheck> out;
  const RunResult* f = find_run(e, "flamed");
  if (!f) return out;
  const GovernorMetrics fm = metrics(*f);
  const bool in_range = e.deadline_over_fastest_min >= 1.2;
  const bool slack = e.deadline_over_fastest_min >= 1.5;
  out.push_back({"met", "flamed meets >= 99 % of deadlines", in_range, fm.summary.met_pct >= 99,
                 fm.summary.met_pct, 99});
  // An SLM chat: the reply streams one token per display slot; each decode step is a deadline.
  const auto phases = phase_summaries(*f);
  if (const auto it = phases.find("decode"); it != phases.end())
    out.push_back({"token_met", "flamed meets >= 99 % of per-token (decode) deadlines", in_range,
                   it->second.met_pct >= 99, it->second.met_pct, 99});
  if (const RunResult* o = find_run(e, "oracle")) {
    const double ratio = fm.summary.energy_j / o->summary.energy_j;
    out.push_back({"oracle", "flamed energy <= 1.05 x oracle", in_range, ratio <= 1.05, ratio, 1.05});
  }
  if (const RunResult* nc = find_run(e, "oracle-nc")) {
    const double ratio = fm.summary.energy_j / nc->summary.energy_j;
    out.push_back({"oracle_nc", "flamed energy <= 1.05 x the non-clairvoyant oracle", in_range, ratio <= 1.05,
                   ratio, 1.05});
    if (const RunResult* z = find_run(e, "ztt")) {
      const double zp = metrics(*z).ppw, np = metrics(*nc).ppw;
      const double capture = np > zp ? (fm.ppw - zp) / (np - zp) : 0;
      out.push_back({"ztt_capture",
                     "flamed captures >= 60 % of the non-clairvoyant oracle's perf/W margin over zTT",
                     in_range && np > zp, capture >= 0.6, capture, 0.6});
    }
  }
  if (const RunResult* g = find_run(e, "flamed-grid")) {
    const double gp = metrics(*g).ppw;
    out.push_back(
        {"grid", "flamed perf/W >= flamed-grid's", in_range, fm.ppw >= gp, gp > 0 ? fm.ppw / gp : 0, 1});
  }
  if (const RunResult* z = find_run(e, "ztt")) {
    const GovernorMetrics zm = metrics(*z);
    const double gain = zm.ppw > 0 ? fm.ppw / zm.ppw - 1 : 0;
    out.push_back({"ztt_ppw", "flamed perf/W >= 1.2 x converged zTT", in_range, gain >= 0.2, gain, 0.2});
    out.push_back({"ztt_met", "flamed meets at least as many deadlines as zTT", in_range,
                   fm.summary.met >= zm.summary.met,
                   static_cast<double>(fm.summary.met) - static_cast<double>(zm.summary.met), 0});
  }
  if (const RunResult* x = find_run(e, "max")) {
    const double saving = 1 - fm.summary.energy_j / x->summary.energy_j;
    out.push_back({"max", "flamed >= 30 % less energy than MAX (deadlines >= 1.5 x fastest)", slack,
                   saving >= 0.3, saving, 0.3});
  }
  return out;
}

nlohmann::json report_json(const sim::Summary& s) {
  return {{"requests", s.requests},       {"met", s.met},
          {"met_pct", s.met_pct},         {"energy_j", s.energy_per_inference_j},
          {"energy_total_j", s.energy_j}, {"p99_response_over_deadline", s.p99_response_over_deadline}};
}

// docs/evaluation.md lists the keys.
nlohmann::json to_json(const GovernorMetrics& m) {
  const auto& s = m.summary;
  nlohmann::json j = report_json(s);
  j.update({{"p99_latency_ms", s.p99_latency_ms},
            {"mean_latency_ms", s.mean_latency_ms},
            {"mean_power_w", s.mean_power_w},
            {"clock_changes", s.clock_changes},
            {"throttled", s.throttled},
            {"ppw", m.ppw},
            {"decisions", m.decisions},
            {"decisions_per_s", m.decisions_per_s},
            {"max_temperature_c", m.max_temperature_c}});
  return j;
}

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json g = nlohmann::json::object();
  for (const auto& r : e.runs) {
    g[r.governor] = to_json(metrics(r));
    for (const auto& [phase, s] : phase_summaries(r)) g[r.governor]["phases"][phase] = report_json(s);
  }
  nlohmann::json j = {
      {"board", e.board},
      {"workload", e.workload},
      {"seed", e.seed},
      {"requests", e.requests},
      {"noise_scale", e.options.run.sim.noise_scale},
      {"delays_ms",
       {e.options.run.sim.cpu_delay_ms, e.options.run.sim.gpu_delay_ms, e.options.run.sim.emc_delay_ms}},
      {"power_cap_w", e.options.run.sim.power_cap_w ? nlohmann::json(*e.options.run.sim.power_cap_w)
                                                    : nlohmann::json(nullptr)},
      {"ambient_c", e.options.run.sim.thermal.ambient_c},
      {"throttle_c", e.options.run.sim.throttle ? nlohmann::json(e.options.run.sim.throttle->trip_c)
                                                : nlohmann::json(nullptr)},
      {"fastest_ms", e.fastest_ms},
      {"deadline_over_fastest", {{"min", e.deadline_over_fastest_min}, {"max", e.deadline_over_fastest_max}}},
      {"governors", g},
      {"wall_s", e.wall_s}};
  if (!e.profiles.empty()) {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& [m, pm] : e.profiles)
      p[m] = {{"profiled", pm.profiled},
              {"excluded", pm.excluded},
              {"profile_s", pm.profile_s},
              {"latency_mape_pct", pm.latency_mape_pct},
              {"power_mape_pct", pm.power_mape_pct}};
    j["flamed_profile"] = p;
    j["flamed_options"] = {{"safety_margin_pct", e.options.flame.policy.safety_margin_pct},
                           {"recalibrate", e.options.flame.policy.recalibrate},
                           {"budget", e.options.profile.budget},
                           {"repeats", e.options.profile.repeats}};
  }
  if (e.ztt_training) {
    const auto& t = *e.ztt_training;
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& s : t.curve)
      curve.push_back({{"episode", s.episode},
                       {"mean_reward", s.mean_reward},
                       {"met_pct", s.met_pct},
                       {"energy_j", s.energy_per_inference_j},
                       {"epsilon", s.epsilon},
                       {"loss", s.loss}});
    j["ztt_training"] = {{"episodes", t.episodes},
                         {"converged", t.converged},
                         {"steps", t.steps},
                         {"wall_s", t.wall_s},
                         {"curve", curve}};
  }
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& c : check_targets(e))
    targets.push_back({{"id", c.id},
                       {"description", c.description},
                       {"applicable", c.applicable},
                       {"met", c.met},
                       {"value", c.value},
                       {"goal", c.goal}});
  j["targets"] = targets;
  return j;
}

std::string text_report(const Evaluation& e) {
  std::string s = fmt::format(
      "flame eval: board {}, workload {} ({} requests, deadlines {:.2f}-{:.2f} x fastest), seed {}\n",
      e.board, e.workload, e.requests, e.deadline_over_fastest_min, e.deadline_over_fastest_max, e.seed);
  s += fmt::format("{:<8} {:>8} {:>10} {:>11} {:>10} {:>12}\n", "governor", "met %", "p99 r/dl",
                   "J/inference", "met/J", "decisions/s");
  for (const auto& r : e.runs) {
    const GovernorMetrics m = metrics(r);
    s += fmt::format("{:<8} {:>8.2f} {:>10.3f} {:>11.4f} {:>10.3f} {:>12.0f}\n", m.name, m.summary.met_pct,
                     m.summary.p99_response_over_deadline, m.summary.energy_per_inference_j, m.ppw,
                     m.decisions_per_s);
    for (const auto& [phase, p] : phase_summaries(r))
      s += fmt::format("  {:<8} {:>6.2f} {:>10.3f} {:>11.4f}   ({} requests)\n", phase, p.met_pct,
                       p.p99_response_over_deadline, p.energy_per_inference_j, p.requests);
  }
  if (e.ztt_training)
    s += fmt::format("ztt: trained {} episodes ({} steps) in {:.1f} s, {}\n", e.ztt_training->episodes,
                     e.ztt_training->steps, e.ztt_training->wall_s,
                     e.ztt_training->converged ? "reward converged" : "reward NOT converged (episode limit)");
  for (const auto& [m, p] : e.profiles)
    s += fmt::format(
        "flamed: {} profiled at {} clock combinations ({:.1f} s of board time), model error {:.1f} % "
        "latency, {:.1f} % power\n",
        m, p.profiled, p.profile_s, p.latency_mape_pct, p.power_mape_pct);
  for (const auto& c : check_targets(e))
    s += fmt::format("target {:<62} {}: {:.3f} (goal {:g})\n", c.description,
                     !c.applicable ? "n/a" : (c.met ? "MET" : "MISSED"), c.value, c.goal);
  return s;
}

std::filesystem::path write_report(const Evaluation& e, const std::filesystem::path& dir,
                                   const std::string& command_line) {
  std::filesystem::create_directories(dir);
  // Clocks over time: one chart per governor (CPU, GPU, EMC in effect at each request's start).
  std::string clock_imgs;
  for (const auto& r : e.runs) {
    LineChart c;
    c.title = "Clocks in effect at each request's start: " + r.governor;
    c.x_label = "time (s)";
    c.y_label = "MHz";
    c.steps = true;
    c.height = 220;
    Series cpu{"CPU", {}, ""}, gpu{"GPU", {}, ""}, emc{"EMC", {}, ""};
    for (const auto& rec : r.records) {
      const double t = rec.start_ms / 1000.0;
      cpu.points.emplace_back(t, static_cast<double>(rec.effective.cpu_khz) / 1e3);
      gpu.points.emplace_back(t, static_cast<double>(rec.effective.gpu_hz) / 1e6);
      emc.points.emplace_back(t, static_cast<double>(rec.effective.emc_hz) / 1e6);
    }
    c.series = {cpu, gpu, emc};
    const std::string file = "clocks-" + r.governor + ".svg";
    io::write_file_atomically(dir / file, to_svg(c));
    clock_imgs += fmt::format("![clocks {0}]({1})\n\n", r.governor, file);
  }
  LineChart lat;
  lat.title = "Response time / deadline per request";
  lat.x_label = "arrival (s)";
  lat.y_label = "response / deadline";
  lat.reference_y = 1.0;
  lat.reference_label = "deadline";
  for (const auto& r : e.runs) {
    Series s{r.governor, {}, ""};
    for (const auto& rec : r.records)
      s.points.emplace_back(rec.arrival_ms / 1000.0, rec.response_ms / rec.deadline_ms);
    lat.series.push_back(s);
  }
  io::write_file_atomically(dir / "latency.svg", to_svg(lat));
  BarChart en;
  en.title = "Energy per inference";
  en.y_label = "J";
  for (const auto& r : e.runs) en.bars.emplace_back(r.governor, r.summary.energy_per_inference_j);
  io::write_file_atomically(dir / "energy.svg", to_svg(en));
  if (e.ztt_training) {
    LineChart lc;
    lc.title = "zTT learning curve";
    lc.x_label = "episode";
    lc.y_label = "mean reward per request";
    Series s{"mean reward", {}, ""};
    for (const auto& p : e.ztt_training->curve) s.points.emplace_back(p.episode, p.mean_reward);
    lc.series = {s};
    io::write_file_atomically(dir / "ztt-learning.svg", to_svg(lc));
  }
  io::write_file_atomically(dir / "eval.json", to_json(e).dump(2) + "\n");

  std::string md = fmt::format("# Governor comparison: {} on the simulated {}\n\n", e.workload, e.board);
  md += fmt::format("Command: `{}`\n\n", command_line);
  const auto& so = e.options.run.sim;
  std::string limits = so.power_cap_w ? fmt::format(", power cap {:g} W", *so.power_cap_w) : "";
  if (so.throttle)
    limits +=
        fmt::format(", ambient {:g} °C, thermal trip {:g} °C", so.thermal.ambient_c, so.throttle->trip_c);
  md += fmt::format(
      "{} requests, deadlines {:.2f}–{:.2f} × the fastest latency, simulator seed {}, noise × {:g}, "
      "actuation "
      "delays {:g}/{:g}/{:g} ms (CPU/GPU/EMC){}. Energy counts inference time only. perf/W = deadline-met "
      "inferences per joule. See docs/evaluation.md for the governors' models.\n\n",
      e.requests, e.deadline_over_fastest_min, e.deadline_over_fastest_max, e.seed,
      e.options.run.sim.noise_scale, e.options.run.sim.cpu_delay_ms, e.options.run.sim.gpu_delay_ms,
      e.options.run.sim.emc_delay_ms, limits);
  md +=
      "| governor | met % | p99 response / deadline | energy / inference (J) | perf/W (met/J) | mean power "
      "(W) | "
      "decisions/s |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : e.runs) {
    const GovernorMetrics m = metrics(r);
    md += fmt::format("| {} | {:.2f} | {:.3f} | {:.4f} | {:.3f} | {:.3f} | {:.0f} |\n", m.name,
                      m.summary.met_pct, m.summary.p99_response_over_deadline,
                      m.summary.energy_per_inference_j, m.ppw, m.summary.mean_power_w, m.decisions_per_s);
  }
  // SLM requests: decode steps (one per token) and prefills (one per prompt) apart.
  std::string phases;
  for (const auto& r : e.runs)
    for (const auto& [phase, p] : phase_summaries(r))
      phases += fmt::format("| {} | {} | {} | {:.2f} | {:.3f} | {:.4f} |\n", r.governor, phase, p.requests,
                            p.met_pct, p.p99_response_over_deadline, p.energy_per_inference_j);
  if (!phases.empty())
    md +=
        "\n## Per phase\n\n| governor | phase | requests | met % | p99 response / deadline | energy / "
        "inference (J) |\n|---|---|---|---|---|---|\n" +
        phases;
  md += "\n## Targets\n\n| target | applies | value | goal | status |\n|---|---|---|---|---|\n";
  for (const auto& c : check_targets(e))
    md += fmt::format("| {} | {} | {:.3f} | {:g} | {} |\n", c.description, c.applicable ? "yes" : "no",
                      c.value, c.goal, !c.applicable ? "n/a" : (c.met ? "met" : "**missed**"));
  md += "\n![energy](energy.svg)\n\n![latency](latency.svg)\n\n" + clock_imgs;
  if (!e.profiles.empty()) {
    md += "## flamed's model\n\n";
    for (const auto& [m, p] : e.profiles)
      md += fmt::format(
          "- {}: profiled through the simulated board at {} clock combinations × {} runs ({:.1f} s of board "
          "time, {} screened out); error on the whole table {:.2f} % latency, {:.2f} % power (mean APE).\n",
          m, p.profiled, e.options.profile.repeats, p.profile_s, p.excluded, p.latency_mape_pct,
          p.power_mape_pct);
    md += "\n";
  }
  if (e.ztt_training) {
    const auto& t = *e.ztt_training;
    md += fmt::format(
        "## zTT training\n\n{} episodes ({} training steps) in {:.1f} s wall time; {}. Last episode: mean "
        "reward "
        "{:.4f}, met {:.2f} %, {:.4f} J per inference.\n\n![zTT learning curve](ztt-learning.svg)\n",
        t.episodes, t.steps, t.wall_s,
        t.converged ? "the mean reward per episode converged" : "**not converged**",
        t.curve.empty() ? 0 : t.curve.back().mean_reward, t.curve.empty() ? 0 : t.curve.back().met_pct,
        t.curve.empty() ? 0 : t.curve.back().energy_per_inference_j);
  }
  auto path = dir / "report.md";
  io::write_file_atomically(path, md);
  return path;
}

}  // namespace flame::eval
