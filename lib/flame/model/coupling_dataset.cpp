#include "flame/model/coupling_dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "flame/fit/median.hpp"

namespace flame::model {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", where, what));
}

const json& member(const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) fail(where, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) fail(where, fmt::format("missing \"{}\"", key));
  return *it;
}

double number(const json& v, const std::string& where) {
  if (!v.is_number()) fail(where, "expected a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0)
    fail(where, fmt::format("expected a finite non-negative number, got {}", d));
  return d;
}

double number_or(const json& obj, const char* key, double fallback, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return number(*it, where + "." + key);
}

std::vector<double> numbers(const json& v, const std::string& where) {
  if (!v.is_array()) fail(where, "expected an array of numbers");
  std::vector<double> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) out.push_back(number(v[i], fmt::format("{}[{}]", where, i)));
  return out;
}

std::string string_or(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Segment parse_segment(const json& s, const std::string& where) {
  Segment seg;
  const auto& kind = member(s, "kind", where);
  if (kind == "glue") {
    seg.kind = SegmentKind::Glue;
  } else if (kind == "call") {
    seg.kind = SegmentKind::Call;
    seg.name = string_or(s, "name");
    seg.type = string_or(s, "type");
    SegmentFeatures f;
    f.macs = number_or(s, "macs", 0, where);
    f.flops = number_or(s, "flops", 0, where);
    f.bytes_in = number_or(s, "bytes_in", 0, where);
    f.bytes_out = number_or(s, "bytes_out", 0, where);
    f.param_bytes = number_or(s, "param_bytes", 0, where);
    seg.features = f;
  } else {
    fail(where + ".kind", fmt::format("expected \"glue\" or \"call\", got {}", kind.dump()));
  }
  seg.gpu_ns = number(member(s, "gpu_ns", where), where + ".gpu_ns");
  seg.n_kernels = static_cast<int>(number(member(s, "n_kernels", where), where + ".n_kernels"));
  return seg;
}

CouplingSweep parse_sweep(const json& s, size_t n_segments, const std::string& where) {
  CouplingSweep sw;
  sw.slowdown = number(member(s, "slowdown", where), where + ".slowdown");
  sw.e2e_ns = numbers(member(s, "e2e_ns", where), where + ".e2e_ns");
  if (sw.e2e_ns.empty()) fail(where + ".e2e_ns", "no end-to-end samples");
  sw.e2e_median_ns = s.contains("e2e_median_ns") ? number(s["e2e_median_ns"], where + ".e2e_median_ns")
                                                 : fit::median(sw.e2e_ns);
  auto cpu = numbers(member(s, "cpu_seg_ns", where), where + ".cpu_seg_ns");
  if (cpu.size() != n_segments + 1)
    fail(where + ".cpu_seg_ns",
         fmt::format("has {} entries, expected {} (one per segment plus the sync wait)", cpu.size(),
                     n_segments + 1));
  sw.sync_ns = cpu.back();
  cpu.pop_back();
  sw.cpu_seg_ns = std::move(cpu);
  return sw;
}

CouplingConfig parse_config(const json& r, const std::string& where0) {
  CouplingConfig c;
  c.tag = string_or(r, "tag");
  const std::string where = c.tag.empty() ? where0 : fmt::format("{} ({})", where0, c.tag);
  if (c.tag.empty()) fail(where, "missing \"tag\"");
  if (auto it = r.find("config"); it != r.end() && it->is_object()) {
    c.model = string_or(*it, "model");
    c.mode = string_or(*it, "mode");
    c.dtype = string_or(*it, "dtype");
    c.batch = static_cast<int>(number_or(*it, "batch", 0, where + ".config"));
    c.ctx = static_cast<int>(number_or(*it, "ctx", 0, where + ".config"));
  }
  const auto& segs = member(r, "segments", where);
  if (!segs.is_array() || segs.empty()) fail(where + ".segments", "expected a non-empty array");
  c.profile.tag = c.tag;
  for (size_t i = 0; i < segs.size(); ++i)
    c.profile.segments.push_back(parse_segment(segs[i], fmt::format("{}.segments[{}]", where, i)));
  const auto& sweeps = member(r, "sweeps", where);
  if (!sweeps.is_array() || sweeps.empty()) fail(where + ".sweeps", "expected a non-empty array");
  for (size_t i = 0; i < sweeps.size(); ++i)
    c.sweeps.push_back(parse_sweep(sweeps[i], segs.size(), fmt::format("{}.sweeps[{}]", where, i)));
  if (c.sweeps.front().slowdown != 1.0)
    fail(where + ".sweeps[0]",
         fmt::format("the reference sweep must have slowdown 1, got {}", c.sweeps.front().slowdown));
  for (size_t i = 0; i < c.profile.segments.size(); ++i)
    c.profile.segments[i].cpu_ns = c.sweeps[0].cpu_seg_ns[i];
  c.profile.sync_ns = c.sweeps[0].sync_ns;
  return c;
}

}  // namespace

double CouplingSweep::total_cpu_ns() const {
  double s = 0;
  for (double c : cpu_seg_ns) s += c;
  return s;
}

bool CouplingSweep::steady() const {
  if (e2e_ns.size() < 4) return false;
  const auto h = static_cast<std::ptrdiff_t>(e2e_ns.size() / 2);
  const double a = fit::median(std::vector<double>(e2e_ns.begin(), e2e_ns.begin() + h));
  const double b = fit::median(std::vector<double>(e2e_ns.begin() + h, e2e_ns.end()));
  return a > 0 && b > 0 && std::abs(a - b) <= 0.05 * std::min(a, b);
}

CouplingDataset parse_coupling_dataset(const std::string& text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  const auto& results = member(root, "results", source);
  if (!results.is_array() || results.empty()) fail(source + ": results", "expected a non-empty array");
  CouplingDataset ds;
  ds.source = source;
  for (size_t i = 0; i < results.size(); ++i)
    ds.configs.push_back(parse_config(results[i], fmt::format("{}: results[{}]", source, i)));
  return ds;
}

CouplingDataset load_coupling_dataset(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_coupling_dataset(ss.str(), path.string());
}

}  // namespace flame::model
