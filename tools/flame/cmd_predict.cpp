// flame predict MODEL --cpu-khz .. --gpu-hz .. --emc-hz .. [--cores ..] [--series ..] [--ctx ..]
// [--phase ..]: latency and power a model file predicts at one clock combination.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "clock_option.hpp"
#include "command.hpp"
#include "flame/model/grid_model_file.hpp"
#include "flame/model/model_file.hpp"

namespace {

struct Args {
  std::string model;
  flame::Clocks clocks;
  std::string series;
  flame::model::Workload workload;
  bool json = false;
};

const flame::cli::Registrar reg([](CLI::App& root) {
  auto* sub =
      root.add_subcommand("predict", "Latency and power a model file predicts at one clock combination");
  auto a = std::make_shared<Args>();
  sub->add_option("MODEL", a->model, "Model file")->required();
  namespace fb = flame::board;
  flame::cli::add_clock_option(sub, "--cpu-khz", a->clocks.cpu_khz, fb::FrequencyUnit::kHz, "CPU clock")
      ->required();
  flame::cli::add_clock_option(sub, "--gpu-hz", a->clocks.gpu_hz, fb::FrequencyUnit::Hz, "GPU clock")
      ->required();
  flame::cli::add_clock_option(sub, "--emc-hz", a->clocks.emc_hz, fb::FrequencyUnit::Hz, "Memory (EMC) clock")
      ->required();
  sub->add_option("--cores", a->clocks.cpu_cores, "Online CPU cores (default: all)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--series", a->series, "Series (workload) of a grid model with several");
  sub->add_option("--ctx", a->workload.ctx, "Context length (SLM models)")->check(CLI::NonNegativeNumber);
  sub->add_option("--phase", a->workload.phase, "prefill or decode (SLM models)");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a] {
    const auto m = flame::model::load_model_file(a->model);
    flame::Estimate e;
    if (const auto* g = dynamic_cast<const flame::model::GridLatencyModel*>(m.model.get())) {
      const auto& s = a->series.empty() ? g->grid().series.front() : g->grid().find(a->series);
      e = s.estimate(a->clocks);
    } else {
      if (!a->series.empty()) throw std::invalid_argument("--series applies to grid models only");
      e = m.model->estimate(a->clocks, a->workload);
    }
    if (a->json) {
      nlohmann::json j{{"model", m.name}, {"kind", m.kind}, {"latency_ms", e.latency_ms}};
      if (e.power_w > 0) j["power_w"] = e.power_w, j["energy_mj"] = e.energy_mj();
      std::cout << j.dump() << "\n";
    } else {
      fmt::print("{} ({}) at {}: latency {:.3f} ms", m.name, m.kind, flame::to_string(a->clocks),
                 e.latency_ms);
      if (e.power_w > 0) fmt::print(", power {:.3f} W, energy {:.3f} mJ", e.power_w, e.energy_mj());
      fmt::print("\n");
    }
  });
});

}  // namespace
