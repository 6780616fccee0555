#include "flame/board/description.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "flame/board/detail/text.hpp"
#include "flame/io/yaml_reader.hpp"

namespace flame::board {

namespace {

// "nvidia,tegra234": the last, least specific entry of a Jetson's device-tree compatible list.
bool is_soc_compatible(const std::string& s) {
  constexpr std::string_view prefix = "nvidia,tegra";
  if (s.size() <= prefix.size() || s.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(prefix.size()), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// The shared YAML reader plus the description's own value kinds: frequencies and CPU numbers.
class Parser : public io::YamlReader<DescriptionError> {
 public:
  using YamlReader::YamlReader;

  std::uint64_t u64(const YAML::Node& n, const std::string& what) const {
    auto v = parse_u64(text(n, what));
    if (!v) fail(n, fmt::format("{} must be a non-negative integer, got '{}'", what, n.Scalar()));
    return *v;
  }

  int small_int(const YAML::Node& n, const std::string& what, int lo, int hi) const {
    auto v = u64(n, what);
    if (v < static_cast<std::uint64_t>(lo) || v > static_cast<std::uint64_t>(hi))
      fail(n, fmt::format("{} must be between {} and {}, got {}", what, lo, hi, v));
    return static_cast<int>(v);
  }

  // A non-empty, strictly ascending list of positive frequencies.
  std::vector<std::uint64_t> table(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) fail(n, what + " must be a list of frequencies");
    if (n.size() == 0) fail(n, what + " must not be empty");
    std::vector<std::uint64_t> out;
    for (const auto& e : n) {
      auto v = u64(e, what + " entry");
      if (v == 0) fail(e, what + " entries must be positive");
      if (!out.empty() && v <= out.back())
        fail(e, fmt::format("{} must be strictly ascending ({} after {})", what, v, out.back()));
      out.push_back(v);
    }
    return out;
  }

  // Device-tree compatible strings of a module or carrier: non-empty, each once, none naming only the
  // SoC (that would match every board of the SoC; `soc` says that).
  std::vector<std::string> compatible(const YAML::Node& n) const {
    if (!n.IsSequence() || n.size() == 0) fail(n, "compatible must be a non-empty list of strings");
    std::vector<std::string> out;
    for (const auto& e : n) {
      if (!e.IsScalar()) fail(e, "compatible entries must be strings");
      const std::string s = text(e, "compatible entry");
      if (s.empty()) fail(e, "compatible entries must not be empty");
      if (is_soc_compatible(s))
        fail(e, fmt::format("compatible '{}' names the SoC, not a module or carrier (use soc)", s));
      if (std::find(out.begin(), out.end(), s) != out.end())
        fail(e, fmt::format("compatible lists '{}' twice", s));
      out.push_back(s);
    }
    return out;
  }

  std::vector<int> ints(const YAML::Node& n, const std::string& what, int lo, int hi) const {
    if (!n.IsSequence() || n.size() == 0) fail(n, what + " must be a non-empty list");
    std::vector<int> out;
    for (const auto& e : n) {
      int v = small_int(e, what + " entry", lo, hi);
      if (std::find(out.begin(), out.end(), v) != out.end())
        fail(e, fmt::format("{} lists {} twice", what, v));
      out.push_back(v);
    }
    return out;
  }
};

BoardDescription parse(const YAML::Node& root, const Parser& p) {
  if (!root || root.IsNull()) throw DescriptionError("empty board description");
  p.only_keys(root, "",
              {"format", "version", "name", "soc", "source", "compatible", "cpu", "gpu", "emc", "ceilings"});
  BoardDescription d;
  if (auto f = p.text(p.need(root, "format"), "format"); f != kDescriptionFormat)
    p.fail(root["format"], fmt::format("format must be '{}', got '{}'", kDescriptionFormat, f));
  if (auto v = p.u64(p.need(root, "version"), "version"); v != kDescriptionVersion)
    p.fail(root["version"], fmt::format("version {} is not supported (expected {})", v, kDescriptionVersion));
  d.name = p.text(p.need(root, "name"), "name");
  if (d.name.empty()) p.fail(root["name"], "name must not be empty");
  if (root["soc"]) d.soc = p.text(root["soc"], "soc");
  if (root["source"]) d.source = p.text(root["source"], "source");
  if (root["compatible"]) d.compatible = p.compatible(root["compatible"]);

  const YAML::Node cpu = p.need(root, "cpu");
  p.only_keys(cpu, "cpu", {"frequencies_khz", "cores", "core_options", "policies"});
  d.cpu.frequencies_khz = p.table(p.need(cpu, "frequencies_khz", "cpu"), "cpu.frequencies_khz");
  d.cpu.cores = p.small_int(p.need(cpu, "cores", "cpu"), "cpu.cores", 1, 1024);
  if (cpu["core_options"])
    d.cpu.core_options = p.ints(cpu["core_options"], "cpu.core_options", 1, d.cpu.cores);
  else
    d.cpu.core_options = {d.cpu.cores};
  std::sort(d.cpu.core_options.begin(), d.cpu.core_options.end());
  if (cpu["policies"]) {
    const YAML::Node pols = cpu["policies"];
    if (!pols.IsSequence() || pols.size() == 0) p.fail(pols, "cpu.policies must be a non-empty list");
    std::set<int> seen;
    for (const auto& pn : pols) {
      p.only_keys(pn, "cpu.policies", {"name", "cpus", "frequencies_khz"});
      DescribedPolicy pol;
      pol.name = p.text(p.need(pn, "name", "cpu.policies"), "policy name");
      pol.cpus =
          p.ints(p.need(pn, "cpus", "cpu policy " + pol.name), "cpus of " + pol.name, 0, d.cpu.cores - 1);
      for (int c : pol.cpus)
        if (!seen.insert(c).second) p.fail(pn["cpus"], fmt::format("cpu {} belongs to two policies", c));
      if (pn["frequencies_khz"])
        pol.frequencies_khz = p.table(pn["frequencies_khz"], pol.name + ".frequencies_khz");
      d.cpu.policies.push_back(std::move(pol));
    }
    if (static_cast<int>(seen.size()) != d.cpu.cores)
      p.fail(pols, fmt::format("cpu.policies cover {} CPUs but cpu.cores is {}", seen.size(), d.cpu.cores));
  }

  if (const YAML::Node gpu = root["gpu"]) {
    p.only_keys(gpu, "gpu", {"frequencies_hz"});
    d.gpu.frequencies_hz = p.table(p.need(gpu, "frequencies_hz", "gpu"), "gpu.frequencies_hz");
  }
  if (const YAML::Node emc = root["emc"]) {
    p.only_keys(emc, "emc", {"frequencies_hz", "min_hz", "max_hz"});
    if (emc["frequencies_hz"]) d.emc.frequencies_hz = p.table(emc["frequencies_hz"], "emc.frequencies_hz");
    if (emc["min_hz"]) d.emc.min_hz = p.u64(emc["min_hz"], "emc.min_hz");
    if (emc["max_hz"]) d.emc.max_hz = p.u64(emc["max_hz"], "emc.max_hz");
    if (d.emc.frequencies_hz.empty() && !d.emc.max_hz)
      p.fail(emc, "emc needs frequencies_hz or at least max_hz");
    if (d.emc.min_hz && d.emc.max_hz && *d.emc.min_hz > *d.emc.max_hz)
      p.fail(emc["min_hz"], "emc.min_hz is above emc.max_hz");
  }
  if (const YAML::Node c = root["ceilings"]) {
    p.only_keys(c, "ceilings", {"cpu_khz", "gpu_hz", "emc_hz"});
    auto check = [&](const char* key,
                     const std::vector<std::uint64_t>& table) -> std::optional<std::uint64_t> {
      if (!c[key]) return std::nullopt;
      auto v = p.u64(c[key], std::string("ceilings.") + key);
      if (!table.empty() && v < table.front())
        p.fail(c[key],
               fmt::format("ceilings.{} = {} is below the lowest table entry {}", key, v, table.front()));
      return v;
    };
    d.ceilings.cpu_khz = check("cpu_khz", d.cpu.frequencies_khz);
    d.ceilings.gpu_hz = check("gpu_hz", d.gpu.frequencies_hz);
    if (c["gpu_hz"] && d.gpu.frequencies_hz.empty())
      p.fail(c["gpu_hz"], "ceilings.gpu_hz without a gpu table");
    d.ceilings.emc_hz = check("emc_hz", d.emc.frequencies_hz);
  }
  return d;
}

void emit_table(YAML::Emitter& out, const char* key, const std::vector<std::uint64_t>& v) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (auto f : v) out << f;
  out << YAML::EndSeq;
}

std::string slug(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c))
      out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

BoardDescription parse_board_description(const std::string& yaml, const std::string& origin) {
  const Parser p(origin);
  const YAML::Node root = p.load(yaml);
  try {
    return parse(root, p);
  } catch (const DescriptionError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw DescriptionError(fmt::format("{}:{}:{}: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

BoardDescription load_board_description(const std::string& path) {
  return parse_board_description(io::read_file<DescriptionError>(path, "board description"), path);
}

std::string to_yaml(const BoardDescription& d, const std::vector<std::string>& header) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << kDescriptionFormat;
  out << YAML::Key << "version" << YAML::Value << kDescriptionVersion;
  out << YAML::Key << "name" << YAML::Value << d.name;
  if (!d.soc.empty()) out << YAML::Key << "soc" << YAML::Value << d.soc;
  if (!d.source.empty()) out << YAML::Key << "source" << YAML::Value << d.source;
  if (!d.compatible.empty()) out << YAML::Key << "compatible" << YAML::Value << YAML::Flow << d.compatible;
  out << YAML::Key << "cpu" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cores" << YAML::Value << d.cpu.cores;
  out << YAML::Key << "core_options" << YAML::Value << YAML::Flow << d.cpu.core_options;
  emit_table(out, "frequencies_khz", d.cpu.frequencies_khz);
  if (!d.cpu.policies.empty()) {
    out << YAML::Key << "policies" << YAML::Value << YAML::BeginSeq;
    for (const auto& pol : d.cpu.policies) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << pol.name;
      out << YAML::Key << "cpus" << YAML::Value << YAML::Flow << pol.cpus;
      if (!pol.frequencies_khz.empty()) emit_table(out, "frequencies_khz", pol.frequencies_khz);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  if (!d.gpu.frequencies_hz.empty()) {
    out << YAML::Key << "gpu" << YAML::Value << YAML::BeginMap;
    emit_table(out, "frequencies_hz", d.gpu.frequencies_hz);
    out << YAML::EndMap;
  }
  if (!d.emc.frequencies_hz.empty() || d.emc.max_hz) {
    out << YAML::Key << "emc" << YAML::Value << YAML::BeginMap;
    if (!d.emc.frequencies_hz.empty()) emit_table(out, "frequencies_hz", d.emc.frequencies_hz);
    if (d.emc.min_hz) out << YAML::Key << "min_hz" << YAML::Value << *d.emc.min_hz;
    if (d.emc.max_hz) out << YAML::Key << "max_hz" << YAML::Value << *d.emc.max_hz;
    out << YAML::EndMap;
  }
  if (d.ceilings.cpu_khz || d.ceilings.gpu_hz || d.ceilings.emc_hz) {
    out << YAML::Key << "ceilings" << YAML::Value << YAML::BeginMap;
    if (d.ceilings.cpu_khz) out << YAML::Key << "cpu_khz" << YAML::Value << *d.ceilings.cpu_khz;
    if (d.ceilings.gpu_hz) out << YAML::Key << "gpu_hz" << YAML::Value << *d.ceilings.gpu_hz;
    if (d.ceilings.emc_hz) out << YAML::Key << "emc_hz" << YAML::Value << *d.ceilings.emc_hz;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  std::string text;
  for (const auto& h : header) text += "# " + h + "\n";
  return text + out.c_str() + "\n";
}

BoardDescription describe(const Board& b, const std::string& name) {
  BoardDescription d;
  d.name = !name.empty() ? name : (!b.identity.model.empty() ? slug(b.identity.model) : "unknown-board");
  d.soc = b.identity.soc;
  for (const auto& c : b.identity.compatible)
    if (!c.empty() && !is_soc_compatible(c) &&
        std::find(d.compatible.begin(), d.compatible.end(), c) == d.compatible.end())
      d.compatible.push_back(c);
  d.source = fmt::format("flame board dump of {}{}", b.sysfs_root,
                         b.identity.l4t.empty() ? "" : fmt::format(" (L4T {})", b.identity.l4t));
  // The CPU-wide table: frequencies every policy offers.
  bool first = true;
  for (const auto& p : b.cpu) {
    if (p.available_khz.empty()) continue;
    if (first) {
      d.cpu.frequencies_khz = p.available_khz;
      first = false;
      continue;
    }
    std::vector<std::uint64_t> both;
    std::set_intersection(d.cpu.frequencies_khz.begin(), d.cpu.frequencies_khz.end(), p.available_khz.begin(),
                          p.available_khz.end(), std::back_inserter(both));
    d.cpu.frequencies_khz = both;
  }
  std::optional<std::uint64_t> cpu_ceiling;
  for (const auto& p : b.cpu) {
    DescribedPolicy pol;
    pol.name = p.name;
    pol.cpus = p.related_cpus;
    if (!p.available_khz.empty() && p.available_khz != d.cpu.frequencies_khz)
      pol.frequencies_khz = p.available_khz;
    d.cpu.cores += static_cast<int>(p.related_cpus.size());
    d.cpu.policies.push_back(std::move(pol));
    const std::uint64_t cap = p.nvpmodel_max_khz.value_or(p.max_khz);
    if (cap > 0 && !p.online_cpus.empty()) cpu_ceiling = std::min(cpu_ceiling.value_or(cap), cap);
  }
  if (b.online_cores() > 0) d.cpu.core_options = {b.online_cores()};
  d.gpu.frequencies_hz = b.gpu.available_hz;
  if (b.emc.health.status != DomainStatus::Unavailable) {
    d.emc.frequencies_hz = b.emc.available_hz;
    d.emc.min_hz = b.emc.min_hz;
    d.emc.max_hz = b.emc.max_hz;
  }
  if (!d.cpu.frequencies_khz.empty() && cpu_ceiling && *cpu_ceiling < d.cpu.frequencies_khz.back())
    d.ceilings.cpu_khz = cpu_ceiling;
  if (!d.gpu.frequencies_hz.empty()) {
    const std::uint64_t cap = b.gpu.nvpmodel_max_hz.value_or(b.gpu.max_hz);
    if (cap > 0 && cap < d.gpu.frequencies_hz.back()) d.ceilings.gpu_hz = cap;
  }
  if (d.emc.max_hz) {
    std::uint64_t cap = *d.emc.max_hz;
    for (auto c : {b.nvpmodel.emc_iso_cap_hz, b.nvpmodel.emc_max_hz})
      if (c && *c > 0) cap = std::min(cap, *c);
    if (cap < *d.emc.max_hz) d.ceilings.emc_hz = cap;
  }
  return d;
}

}  // namespace flame::board
