// flame validate contexts FILE [--fit N] [--phase decode|prefill] [--json]: the SLM context-length
// model, fitted from a few profiled contexts, against the others.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "dataset_validation.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/validate/context_validation.hpp"

namespace {

using flame::fit::stats_json;

nlohmann::json summary_json(const flame::validate::ContextSummary& s) {
  return {{"gpu_weighted_ape_pct", stats_json(s.gpu_weighted)},
          {"gpu_median_ape_pct", stats_json(s.gpu_median)},
          {"gpu_total_ape_pct", stats_json(s.gpu_total)},
          {"e2e_ape_pct", stats_json(s.e2e)},
          {"e2e_measured_spans_ape_pct", stats_json(s.e2e_measured_spans)},
          {"e2e_measured_host_ape_pct", stats_json(s.e2e_measured_host)},
          {"e2e_profiled_ape_pct", stats_json(s.e2e_profiled)}};
}

nlohmann::json costs_json(const flame::model::TimelineCosts& c) {
  return {{"host_offset_ns", c.cpu_offset_ns},
          {"gpu_scale", c.gpu_scale},
          {"sync_latency_ns", c.sync_latency_ns}};
}

void print_json(const flame::validate::ContextReport& r) {
  nlohmann::json series = nlohmann::json::array();
  for (const auto& s : r.series) {
    nlohmann::json cases = nlohmann::json::array();
    for (const auto& c : s.cases)
      cases.push_back({{"tag", c.tag},
                       {"ctx", c.ctx},
                       {"fit", c.fitted},
                       {"gpu_weighted_ape_pct", c.gpu_weighted_ape_pct},
                       {"gpu_median_ape_pct", c.gpu_median_ape_pct},
                       {"gpu_segments_over_1us", c.gpu_segments_over_1us},
                       {"gpu_measured_ns", c.gpu_measured_ns},
                       {"gpu_predicted_ns", c.gpu_predicted_ns},
                       {"cpu_measured_ns", c.cpu_measured_ns},
                       {"cpu_predicted_ns", c.cpu_predicted_ns},
                       {"e2e_measured_ns", c.e2e_measured_ns},
                       {"e2e_predicted_ns", c.e2e_predicted_ns},
                       {"e2e_measured_spans_ns", c.e2e_measured_spans_ns},
                       {"e2e_measured_host_ns", c.e2e_measured_host_ns},
                       {"e2e_profiled_ns", c.e2e_profiled_ns}});
    series.push_back({{"model", s.model},
                      {"phase", flame::model::phase_name(s.phase)},
                      {"basis", flame::model::basis_names(s.phase)},
                      {"fit_contexts", s.fit_contexts},
                      {"held_out_contexts", s.held_out_contexts},
                      {"costs", costs_json(s.costs)},
                      {"held_out", summary_json(s.held_out)},
                      {"cases", cases}});
  }
  nlohmann::json out = {{"fit", r.fit_count}, {"series", series}};
  if (r.machine.sync_latency_ns) out["machine"] = {{"sync_latency_ns", *r.machine.sync_latency_ns}};
  std::cout << out.dump(2) << "\n";
}

double err(double p, double m) {
  return (p - m) / m * 100.0;
}

void print_human(const flame::validate::ContextReport& r, const std::string& file) {
  fmt::print("flame validate contexts {}\n", file);
  fmt::print("Per-segment GPU time vs context length fitted by NNLS from a few contexts; host spans\n");
  fmt::print("independent of context. GPU: w = sum|err|/sum(meas) over segments, med = median APE over\n");
  fmt::print("segments > 1 us, total = summed GPU time. e2e at slowdown 1: pred = all predicted;\n");
  fmt::print(
      "spans = measured host spans; host = measured host spans and offset (isolates the GPU model);\n");
  fmt::print("prof = as host but with measured GPU times (the floor). * = fit context (in-sample).\n");
  for (const auto& s : r.series) {
    fmt::print(
        "\n{} {}: basis {{{}}}, fit from ctx {}  (host offset {:+.0f} us, GPU scale {:.3f}, sync {:.0f} "
        "us)\n",
        s.model, flame::model::phase_name(s.phase), fmt::join(flame::model::basis_names(s.phase), ", "),
        fmt::join(s.fit_contexts, "/"), s.costs.cpu_offset_ns / 1e3, s.costs.gpu_scale,
        s.costs.sync_latency_ns / 1e3);
    fmt::print("  {:>6} {:>7} {:>7} {:>9} {:>9} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}\n", "ctx", "GPU w",
               "med", "GPU ms", "pred", "total", "CPU ms", "pred", "e2e", "spans", "host", "prof");
    for (const auto& c : s.cases)
      fmt::print(
          "  {:>5}{} {:>6.2f}% {:>6.2f}% {:>9.3f} {:>9.3f} {:>+7.2f}% {:>9.3f} {:>9.3f} {:>+7.2f}% "
          "{:>+7.2f}% "
          "{:>+7.3f}% {:>+7.3f}%\n",
          c.ctx, c.fitted ? "*" : " ", c.gpu_weighted_ape_pct, c.gpu_median_ape_pct, c.gpu_measured_ns / 1e6,
          c.gpu_predicted_ns / 1e6, err(c.gpu_predicted_ns, c.gpu_measured_ns), c.cpu_measured_ns / 1e6,
          c.cpu_predicted_ns / 1e6, err(c.e2e_predicted_ns, c.e2e_measured_ns),
          err(c.e2e_measured_spans_ns, c.e2e_measured_ns), err(c.e2e_measured_host_ns, c.e2e_measured_ns),
          err(c.e2e_profiled_ns, c.e2e_measured_ns));
    const auto& h = s.held_out;
    if (h.gpu_weighted.n == 0) {
      fmt::print("  nothing held out: every profiled context was needed for the fit\n");
      continue;
    }
    fmt::print(
        "  held out ({}): mean/max APE  GPU w {:.2f}/{:.2f}%  med {:.2f}/{:.2f}%  total {:.2f}/{:.2f}%\n",
        h.gpu_weighted.n, h.gpu_weighted.mean_ape_pct, h.gpu_weighted.max_ape_pct, h.gpu_median.mean_ape_pct,
        h.gpu_median.max_ape_pct, h.gpu_total.mean_ape_pct, h.gpu_total.max_ape_pct);
    fmt::print(
        "                 e2e {:.2f}/{:.2f}%  spans {:.2f}/{:.2f}%  host {:.3f}/{:.3f}%  prof "
        "{:.3f}/{:.3f}%\n",
        h.e2e.mean_ape_pct, h.e2e.max_ape_pct, h.e2e_measured_spans.mean_ape_pct,
        h.e2e_measured_spans.max_ape_pct, h.e2e_measured_host.mean_ape_pct, h.e2e_measured_host.max_ape_pct,
        h.e2e_profiled.mean_ape_pct, h.e2e_profiled.max_ape_pct);
  }
}

const flame::cli::Registrar reg([](CLI::App& root) {
  auto fit = std::make_shared<int>(3);
  auto phase = std::make_shared<std::string>();
  CLI::App* sub = flame::cli::add_dataset_validation(
      root, "contexts", "SLM context-length model: fit a few contexts, predict the rest",
      "Coupling dataset with SLM configurations (config.mode + config.ctx)",
      [fit, phase](const flame::model::CouplingDataset& d, const std::string& file, bool json) {
        flame::cli::print_report(
            flame::validate::validate_contexts(d, *fit, flame::model::parse_context_phase(*phase)), file,
            json, print_json, print_human);
      });
  sub->add_option("--fit", *fit, "Number of profiled contexts to fit from, per phase (default 3)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--phase", *phase, "Only this phase")->check(CLI::IsMember({"decode", "prefill"}));
});

}  // namespace
