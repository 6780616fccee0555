#include "flame/io/yaml_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace flame::io {

std::optional<std::string> file_text(const std::filesystem::path& path) {
  // An ifstream opens a directory and then reads nothing: that would pass for an empty file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    errno = EISDIR;
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string cannot_open(const std::filesystem::path& path, const std::string& what) {
  return fmt::format("{}: cannot open {}: {}", path.string(), what, std::strerror(errno));
}

std::string located(const std::string& source, const YAML::Node& at, const std::string& what) {
  const YAML::Mark m = at.Mark();
  if (m.is_null()) return fmt::format("{}: {}", source, what);
  return fmt::format("{}:{}:{}: {}", source, m.line + 1, m.column + 1, what);
}

std::string parse_error(const std::string& source, const YAML::ParserException& e) {
  return fmt::format("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg);
}

std::string qualified(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

namespace yaml_check {

std::string mapping(const YAML::Node& n, const std::string& where) {
  if (n.IsMap()) return "";
  return where.empty() ? "expected a mapping" : where + ": expected a mapping";
}

std::string number(const YAML::Node& v, const std::string& what, double lo, double hi, double* out) {
  if (!v.IsScalar()) return what + ": expected a number";
  try {
    *out = v.as<double>();
  } catch (const YAML::Exception&) {
    return fmt::format("{}: '{}' is not a number", what, v.Scalar());
  }
  const double d = *out;
  if (!std::isfinite(d)) return fmt::format("{}: expected a finite number, got '{}'", what, v.Scalar());
  if (d >= lo && d <= hi) return "";
  if (std::isinf(hi)) return fmt::format("{}: {} is out of range (at least {})", what, d, lo);
  if (std::isinf(lo)) return fmt::format("{}: {} is out of range (at most {})", what, d, hi);
  return fmt::format("{}: {} is out of range [{}, {}]", what, d, lo, hi);
}

std::string integer(const YAML::Node& v, const std::string& what, long* out) {
  try {
    if (v.IsScalar()) {
      *out = v.as<long>();
      return "";
    }
  } catch (const YAML::Exception&) {
  }
  return what + ": expected an integer";
}

std::string boolean(const YAML::Node& v, const std::string& what, bool* out) {
  try {
    if (v.IsScalar()) {
      *out = v.as<bool>();
      return "";
    }
  } catch (const YAML::Exception&) {
  }
  return fmt::format("{}: expected true or false, got '{}'", what,
                     v.IsScalar() ? v.Scalar() : "a collection");
}

std::string text(const YAML::Node& v, const std::string& what, std::string* out) {
  if (!v.IsScalar()) return what + ": expected a string";
  *out = v.Scalar();
  return "";
}

}  // namespace yaml_check

std::string unknown_key(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known,
                        YAML::Node* at) {
  at->reset(map);  // reset rebinds; assigning a Node would overwrite the node it refers to
  if (auto e = yaml_check::mapping(map, path); !e.empty()) return e;
  std::vector<std::string> seen;
  for (const auto& kv : map) {
    at->reset(kv.first);
    // YAML allows a mapping or a list as a key ("? a: b"); none of ours is one.
    if (!kv.first.IsScalar())
      return fmt::format("a key of '{}' is a {}; keys are plain names", path.empty() ? "the file" : path,
                         kv.first.IsMap()        ? "mapping"
                         : kv.first.IsSequence() ? "list"
                                                 : "null");
    const std::string k = kv.first.Scalar();
    if (std::find(seen.begin(), seen.end(), k) != seen.end())
      return fmt::format("duplicate key '{}'", qualified(path, k));
    seen.push_back(k);
    if (std::find(known.begin(), known.end(), k) == known.end())
      return fmt::format("unknown key '{}' (known: {})", qualified(path, k), fmt::join(known, ", "));
  }
  return "";
}

}  // namespace flame::io
