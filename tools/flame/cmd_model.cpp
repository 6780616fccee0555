// flame model show|synth: inspect model files; fit a layer-wise model for a board from real
// segments on the synthetic board (the demo and examples; real boards use `flame profile`).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "flame/board/description_grid.hpp"
#include "flame/io/atomic_write.hpp"
#include "flame/io/data_path.hpp"
#include "flame/model/coupling_dataset.hpp"
#include "flame/model/model_file.hpp"
#include "flame/model/slm_model.hpp"
#include "flame/validate/layerwise_recovery.hpp"

namespace {

struct SynthArgs {
  std::string data = "data/h200-coupling/run2/coupling.json";
  std::string tag;
  std::string board = "config/boards/orin-nano-8gb-super.yaml";
  std::string name;
  std::string out;
  flame::validate::RecoveryOptions options;
};

// Segments whose traits include features: what the file can teach a prior (flame profile --prior).
std::size_t described_segments(const flame::model::LayerwiseFileExtras& x) {
  return static_cast<std::size_t>(
      std::count_if(x.traits.begin(), x.traits.end(), [](const auto& t) { return t.features.has_value(); }));
}

// The same facts as show(), as one JSON object.
nlohmann::json show_json(const std::string& path) {
  const auto m = flame::model::load_model_file(path);
  nlohmann::json j{{"file", path}, {"name", m.name}, {"kind", m.kind}, {"board", m.board}};
  if (const auto* slm = dynamic_cast<const flame::model::SlmLatencyModel*>(m.model.get())) {
    j["phases"] = nlohmann::json::array();
    for (const auto& p : slm->slm().phases())
      j["phases"].push_back({{"phase", flame::model::phase_name(p.phase)},
                             {"segments", p.cpu.size()},
                             {"contexts", p.contexts},
                             {"max_context", p.max_context()},
                             {"host_offset_us", p.costs.cpu_offset_ns / 1e3},
                             {"gpu_scale", p.costs.gpu_scale},
                             {"sync_latency_us", p.costs.sync_latency_ns / 1e3}});
    j["power"] = slm->slm().power() ? nlohmann::json("busy") : nlohmann::json(nullptr);
    return j;
  }
  const auto* lw = dynamic_cast<const flame::model::LayerwiseLatencyModel*>(m.model.get());
  if (!lw) return j;
  const auto& l = lw->layerwise();
  j["segments"] = l.segments();
  j["host_offset_us"] = l.costs().cpu_offset_ns / 1e3;
  j["gpu_scale"] = l.costs().gpu_scale;
  j["sync_latency_us"] = l.costs().sync_latency_ns / 1e3;
  j["segments_with_features"] = described_segments(m.extras);
  j["derived"] = nullptr;
  if (const auto& d = m.extras.derived)
    j["derived"] = {{"prior", d->prior}, {"models", d->models}, {"profiled", d->profiled}};
  j["power"] = nullptr;
  if (const auto& p = l.power()) {
    const auto& ref =
        std::visit([](const auto& x) -> const flame::grid::ClockReference& { return x.reference(); }, *p);
    const flame::Clocks top{ref.cpu_khz, ref.cores.empty() ? 0 : ref.cores.back(), ref.gpu_hz, ref.emc_hz};
    const flame::Estimate e = l.estimate(top);
    nlohmann::json terms = nlohmann::json::array();
    std::string form = "watts";
    if (const auto* b = std::get_if<flame::model::BusyPowerModel>(&*p)) {
      for (size_t i = 0; i < b->terms().size(); ++i)
        terms.push_back({{"term", flame::model::to_string(b->terms()[i])}, {"weight", b->weights()[i]}});
    } else {
      const auto& g = std::get<flame::grid::PowerModel>(*p);
      form = "log-power";
      for (size_t i = 0; i < g.features().size(); ++i)
        terms.push_back({{"term", g.features()[i].name()}, {"weight", g.weights()[i]}});
    }
    j["power"] = {{"reference_clocks", flame::to_string(top)},
                  {"power_w", e.power_w},
                  {"latency_ms", e.latency_ms},
                  {"form", form},
                  {"terms", terms}};
  }
  return j;
}

void show(const std::string& path) {
  const auto m = flame::model::load_model_file(path);
  fmt::print("{}: model '{}' (kind {}{})\n", path, m.name, m.kind,
             m.board.empty() ? "" : ", board " + m.board);
  if (const auto* slm = dynamic_cast<const flame::model::SlmLatencyModel*>(m.model.get())) {
    for (const auto& p : slm->slm().phases())
      fmt::print(
          "  {}: {} segments, profiled at contexts {}, served 1 to {}; host offset {:.0f} us, GPU scale "
          "{:.3f}, sync latency {:.0f} us\n",
          flame::model::phase_name(p.phase), p.cpu.size(), fmt::join(p.contexts, ", "), p.max_context(),
          p.costs.cpu_offset_ns / 1e3, p.costs.gpu_scale, p.costs.sync_latency_ns / 1e3);
    fmt::print("  power: {}\n", slm->slm().power() ? "the busy form, shared by both phases"
                                                   : "none (the search ranks energy with its clock proxy)");
    fmt::print("  every request names its phase and context length (begin: \"phase\", \"ctx\")\n");
    return;
  }
  if (const auto* lw = dynamic_cast<const flame::model::LayerwiseLatencyModel*>(m.model.get())) {
    const auto& l = lw->layerwise();
    fmt::print("  {} segments; host offset {:.0f} us, GPU scale {:.3f}, sync latency {:.0f} us\n",
               l.segments(), l.costs().cpu_offset_ns / 1e3, l.costs().gpu_scale,
               l.costs().sync_latency_ns / 1e3);
    if (const auto& d = m.extras.derived)
      fmt::print(
          "  derived from {} profiled combination(s) and a prior of {} models ({}): {}; flamed serves it "
          "with "
          "derived_margin_pct until calibration confirms it\n",
          d->profiled, d->models.size(), d->prior, fmt::join(d->models, ", "));
    const std::size_t described = described_segments(m.extras);
    fmt::print("  {}\n", described == 0     ? std::string("no layer features: it cannot teach a prior")
                         : m.extras.derived ? fmt::format("layer features for {} segments; being derived, it "
                                                          "teaches no prior",
                                                          described)
                                            : fmt::format("layer features for {} segments: it can teach a "
                                                          "prior (flame profile --prior)",
                                                          described));
    if (const auto& p = l.power()) {
      const auto& ref =
          std::visit([](const auto& x) -> const flame::grid::ClockReference& { return x.reference(); }, *p);
      const flame::Clocks top{ref.cpu_khz, ref.cores.empty() ? 0 : ref.cores.back(), ref.gpu_hz, ref.emc_hz};
      const flame::Estimate e = l.estimate(top);
      std::vector<std::string> terms;
      const char* form = "W terms";
      if (const auto* b = std::get_if<flame::model::BusyPowerModel>(&*p)) {
        for (size_t i = 0; i < b->terms().size(); ++i)
          terms.push_back(fmt::format("{} {:.3g}", flame::model::to_string(b->terms()[i]), b->weights()[i]));
      } else {
        const auto& g = std::get<flame::grid::PowerModel>(*p);
        form = "log-power terms";
        for (size_t i = 0; i < g.features().size(); ++i)
          terms.push_back(fmt::format("{} {:+.3g}", g.features()[i].name(), g.weights()[i]));
      }
      fmt::print("  power: {:.2f} W at the reference clocks ({}; {:.2f} ms); {}: {}\n", e.power_w,
                 flame::to_string(top), e.latency_ms, form, fmt::join(terms, ", "));
    } else {
      fmt::print("  power: none (the search ranks energy with its clock proxy)\n");
    }
  }
}

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* model = flame::cli::group(root, "model", "Inspect and build model files");
  auto* show_cmd = model->add_subcommand("show", "Print what a model file contains");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  show_cmd->add_option("MODEL", *path, "Model file")->required();
  show_cmd->add_flag("--json", *json, "Print JSON");
  show_cmd->callback([path, json] {
    if (*json)
      std::cout << show_json(*path).dump(2) << "\n";
    else
      show(*path);
  });

  auto* synth = model->add_subcommand(
      "synth",
      "Fit a layer-wise model on the synthetic board built from real segments (docs/layerwise-model.md)");
  auto a = std::make_shared<SynthArgs>();
  synth->add_option("--data", a->data, "Coupling dataset with the real segments")->capture_default_str();
  synth->add_option("--config", a->tag, "Configuration tag in the dataset")->required();
  synth->add_option("--board", a->board, "Board description")->capture_default_str();
  synth->add_option("--name", a->name, "Name the daemon serves the model under")->required();
  synth->add_option("--out", a->out, "Model file to write")->required();
  synth->add_option("--budget", a->options.budget, "Profiled clock combinations")->capture_default_str();
  synth->add_option("--seed", a->options.seed, "Random seed")->capture_default_str();
  synth->callback([a] {
    const auto ds = flame::model::load_coupling_dataset(flame::io::find_data(a->data));
    const auto it =
        std::find_if(ds.configs.begin(), ds.configs.end(), [&](const auto& c) { return c.tag == a->tag; });
    if (it == ds.configs.end())
      throw std::runtime_error(fmt::format("{}: no configuration '{}'", a->data, a->tag));
    const auto desc = flame::board::load_board_description(flame::io::find_data(a->board).string());
    const auto grid = flame::board::clock_grid(desc);
    const auto points = flame::validate::synthetic_profiles(*it, grid, a->options);
    std::vector<std::string> names;
    for (const auto& s : it->profile.segments) names.push_back(s.name);
    const auto fitted = flame::model::fit_layerwise(points, grid.emc_hz, names);
    const std::string text = flame::model::layerwise_to_yaml(
        fitted, a->name, desc.name,
        fmt::format("Layer-wise model of {} on the synthetic {} (segments from {}), fitted from {} profiles "
                    "(seed {}). Written by `flame model synth`.",
                    a->tag, desc.name, a->data, points.size(), a->options.seed));
    flame::model::parse_model_file(text, a->out);  // never write a file the daemon could not load
    flame::io::write_file_atomically(a->out, text);
    fmt::print("wrote {} ({} segments, {} profiles)\n", a->out, fitted.segments(), points.size());
  });
});

}  // namespace
