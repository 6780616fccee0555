#include "flame/board/detail/nvpmodel.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "flame/board/detail/text.hpp"

namespace flame::board {

namespace {

// "< POWER_MODEL ID=1 NAME=MODE_10W >" -> kind "POWER_MODEL", attrs {ID:1, NAME:MODE_10W}.
struct Header {
  std::string kind;
  std::map<std::string, std::string> attrs;
};

std::optional<Header> parse_header(std::string_view line, int lineno) {
  if (line.empty() || line.front() != '<') return std::nullopt;
  if (line.back() != '>')
    throw std::runtime_error(fmt::format("line {}: unterminated '<' block header", lineno));
  auto words = parse_words(line.substr(1, line.size() - 2));
  if (words.empty()) throw std::runtime_error(fmt::format("line {}: empty block header", lineno));
  Header h;
  h.kind = words[0];
  for (std::size_t i = 1; i < words.size(); ++i) {
    auto eq = words[i].find('=');
    if (eq == std::string::npos)
      throw std::runtime_error(
          fmt::format("line {}: expected KEY=VALUE in header, got '{}'", lineno, words[i]));
    h.attrs[words[i].substr(0, eq)] = words[i].substr(eq + 1);
  }
  return h;
}

int parse_int_attr(const Header& h, const std::string& key, int lineno) {
  auto it = h.attrs.find(key);
  if (it == h.attrs.end())
    throw std::runtime_error(fmt::format("line {}: {} without {}=", lineno, h.kind, key));
  auto v = parse_i64(it->second);
  if (!v) throw std::runtime_error(fmt::format("line {}: {}={} is not a number", lineno, key, it->second));
  return static_cast<int>(*v);
}

}  // namespace

const NvpmodelParam* NvpmodelConf::param(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

const NvpmodelMode* NvpmodelConf::mode(int id) const {
  for (const auto& m : modes)
    if (m.id == id) return &m;
  return nullptr;
}

std::vector<std::string> NvpmodelConf::paths(std::string_view param_name, std::string_view arg) const {
  std::vector<std::string> out;
  const auto* p = param(param_name);
  if (!p) return out;
  const std::string knext = std::string(arg) + "_KNEXT";
  for (const auto& [a, path] : p->args)
    if (a == arg || a == knext) out.push_back(path);
  return out;
}

NvpmodelConf parse_nvpmodel_conf(std::string_view text) {
  NvpmodelConf conf;
  enum class Section { None, Param, Mode, Other } section = Section::None;
  int lineno = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (auto hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (auto h = parse_header(line, lineno)) {
      if (h->kind == "PARAM") {
        NvpmodelParam p;
        p.type = h->attrs.count("TYPE") ? h->attrs["TYPE"] : "";
        if (!h->attrs.count("NAME"))
          throw std::runtime_error(fmt::format("line {}: PARAM without NAME=", lineno));
        p.name = h->attrs["NAME"];
        conf.params.push_back(std::move(p));
        section = Section::Param;
      } else if (h->kind == "POWER_MODEL") {
        NvpmodelMode m;
        m.id = parse_int_attr(*h, "ID", lineno);
        m.name = h->attrs.count("NAME") ? h->attrs["NAME"] : "";
        conf.modes.push_back(std::move(m));
        section = Section::Mode;
      } else if (h->kind == "PM_CONFIG") {
        conf.default_mode = parse_int_attr(*h, "DEFAULT", lineno);
        section = Section::Other;
      } else {
        section = Section::Other;  // FAN_CONFIG and friends: not ours
      }
      continue;
    }
    auto words = parse_words(line);
    switch (section) {
      case Section::Param:
        if (words.size() != 2)
          throw std::runtime_error(fmt::format("line {}: expected 'ARG_NAME /path' in PARAM block", lineno));
        conf.params.back().args.emplace_back(words[0], words[1]);
        break;
      case Section::Mode:
        if (words.size() != 3)
          throw std::runtime_error(
              fmt::format("line {}: expected 'PARAM ARG VALUE' in POWER_MODEL block", lineno));
        conf.modes.back().settings.push_back({words[0], words[1], words[2], lineno});
        break;
      case Section::None:
        throw std::runtime_error(fmt::format("line {}: setting outside any '< ... >' block", lineno));
      case Section::Other:
        break;
    }
  }
  return conf;
}

std::optional<int> parse_nvpmodel_status(std::string_view text) {
  for (const auto& w : parse_words(text)) {
    if (w.rfind("pmode:", 0) == 0) {
      auto v = parse_u64(std::string_view(w).substr(6));
      if (v && *v < 1000) return static_cast<int>(*v);
    }
  }
  return std::nullopt;
}

NvpmodelCaps read_nvpmodel_caps(const SysfsRoot& root, FileAccess& io, const std::string& status_path,
                                const std::string& conf_path, const std::string& iso_cap_path) {
  NvpmodelCaps caps;
  if (auto r = io.read(status_path); r.ok()) {
    caps.status = std::string(trim(r.text));
    caps.mode_id = parse_nvpmodel_status(caps.status);
  }
  if (auto r = io.read(iso_cap_path); r.ok()) caps.emc_iso_cap_hz = parse_u64(r.text);

  auto conf_text = io.read(conf_path);
  if (!conf_text.ok()) return caps;  // no conf: caps come from the live attributes only
  NvpmodelConf conf;
  try {
    conf = parse_nvpmodel_conf(conf_text.text);
  } catch (const std::exception& e) {
    caps.conf_error = fmt::format("{}: {}", conf_path, e.what());
    return caps;
  }
  if (!caps.mode_id) {
    caps.conf_error =
        caps.status.empty() ? "no nvpmodel status" : "unrecognised nvpmodel status: " + caps.status;
    return caps;
  }
  const auto* mode = conf.mode(*caps.mode_id);
  if (!mode) {
    caps.conf_error = fmt::format("{}: no POWER_MODEL ID={}", conf_path, *caps.mode_id);
    return caps;
  }
  caps.mode_name = mode->name;
  for (const auto& s : mode->settings) {
    if (s.arg != "MAX_FREQ") continue;
    auto v = parse_i64(s.value);
    if (!v) continue;
    for (const auto& path : conf.paths(s.param, s.arg)) {
      if (basename(path) == "emc_iso_cap") {
        caps.emc_max_hz = *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
        break;
      }
      auto resolved = root.resolve(path);
      if (!resolved) continue;  // e.g. the non-KNEXT path on a newer kernel
      auto slash = resolved->rfind('/');
      const std::string dir = resolved->substr(0, slash);
      if (*v > 0)
        caps.max_by_dir[dir] = static_cast<std::uint64_t>(*v);
      else
        caps.unlimited_dirs.insert(dir);  // -1 means "unlimited"
      break;
    }
  }
  return caps;
}

}  // namespace flame::board
