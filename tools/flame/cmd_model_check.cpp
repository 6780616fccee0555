// flame model check MODEL MEASURED.csv [--json]: how far a model file's predictions are from
// latencies measured at other clock combinations (e.g. a sweep made after `flame profile`, or a
// simulated board's truth). CSV columns by name: cpu_khz, gpu_hz, emc_hz, latency_ms.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.hpp"
#include "flame/model/model_file.hpp"
#include "flame/validate/error_stats.hpp"

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
  const auto m = flame::load_model_file(a.model);
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
  std::vector<double> ape;
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
    ape.push_back(flame::ape_pct(m.model->estimate(c, {}).latency_ms, num(lc)));
  }
  if (ape.empty()) throw std::runtime_error(fmt::format("{}: no measurements", a.csv));
  const auto s = flame::summarize_ape(ape);
  if (a.json) {
    std::cout << nlohmann::json{{"model", m.name}, {"latency", flame::stats_json(s)}}.dump() << "\n";
  } else {
    fmt::print("{}: {} measured combinations; latency error mean {:.2f} %, p95 {:.2f} %, max {:.2f} %\n",
               m.name, s.n, s.mean_ape_pct, s.p95_ape_pct, s.max_ape_pct);
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
