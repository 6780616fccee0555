// flame model check MODEL MEASURED.csv [--json]: how far a model file's predictions are from
// latencies measured at other clock combinations (e.g. a sweep made after `flame profile`, or a
// simulated board's truth). CSV columns by name: cpu_khz, gpu_hz, emc_hz, latency_ms, and power_w
// (optional: then the model's power is checked too, when it has a power model).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "command.hpp"
#include "flame/fit/error_stats.hpp"
#include "flame/model/model_file.hpp"

namespace {

struct Args {
  std::string model;
  std::string csv;
  bool json = false;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  std::string cell;
  while (std::getline(s, cell, ',')) out.push_back(cell);
  return out;
}

void check(const Args& a) {
  const auto m = flame::model::load_model_file(a.model);
  std::ifstream in(a.csv);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", a.csv));
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(fmt::format("{}: empty file", a.csv));
  const auto header = split(line);
  auto column = [&](const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      throw std::runtime_error(
          fmt::format("{}: no '{}' column (need cpu_khz, gpu_hz, emc_hz, latency_ms)", a.csv, name));
    return static_cast<size_t>(it - header.begin());
  };
  const size_t cc = column("cpu_khz"), gc = column("gpu_hz"), ec = column("emc_hz"),
               lc = column("latency_ms");
  const auto pit = std::find(header.begin(), header.end(), "power_w");
  const std::optional<size_t> pc =
      pit == header.end() ? std::nullopt : std::optional<size_t>(static_cast<size_t>(pit - header.begin()));
  std::vector<double> ape, power_ape;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    const auto cells = split(line);
    auto num = [&](size_t i) {
      try {
        if (i >= cells.size()) throw std::invalid_argument("missing");
        return std::stod(cells[i]);
      } catch (const std::exception&) {
        throw std::runtime_error(fmt::format("{}:{}: column {} is not a number", a.csv, row, header[i]));
      }
    };
    const flame::Clocks c{num(cc), 0, num(gc), num(ec)};
    const flame::Estimate e = m.model->estimate(c, {});
    ape.push_back(flame::fit::ape_pct(e.latency_ms, num(lc)));
    if (pc && e.power_w > 0) power_ape.push_back(flame::fit::ape_pct(e.power_w, num(*pc)));
  }
  if (ape.empty()) throw std::runtime_error(fmt::format("{}: no measurements", a.csv));
  const auto s = flame::fit::summarize_ape(ape);
  // Power is checked only where every row has it and the model predicts it.
  const bool power = pc && power_ape.size() == ape.size();
  const auto p = power ? flame::fit::summarize_ape(power_ape) : flame::fit::ErrorStats{};
  if (a.json) {
    nlohmann::json j{{"model", m.name}, {"latency", flame::fit::stats_json(s)}};
    if (power) j["power"] = flame::fit::stats_json(p);
    std::cout << j.dump() << "\n";
  } else {
    fmt::print("{}: {} measured combinations; latency error mean {:.2f} %, p95 {:.2f} %, max {:.2f} %{}\n",
               m.name, s.n, s.mean_ape_pct, s.p95_ape_pct, s.max_ape_pct,
               power ? fmt::format("; power error mean {:.2f} %, p95 {:.2f} %, max {:.2f} %", p.mean_ape_pct,
                                   p.p95_ape_pct, p.max_ape_pct)
                     : std::string());
  }
}

const flame::cli::Registrar reg([](CLI::App& root) {
  CLI::App* model = flame::cli::group(root, "model", "Inspect and build model files");
  auto* sub = model->add_subcommand("check", "Compare a model file with latencies measured at other clocks");
  auto a = std::make_shared<Args>();
  sub->add_option("MODEL", a->model, "Model file")->required();
  sub->add_option("MEASURED", a->csv, "CSV with cpu_khz, gpu_hz, emc_hz, latency_ms columns")->required();
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a] { check(*a); });
});

}  // namespace
