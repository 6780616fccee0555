#pragma once
// Typed reads from a model file's YAML with errors that name source:line:column
// (docs/model-format.md); every kind's parser uses it. Throws ModelFileError.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "flame/model/model_file.hpp"

namespace flame {

struct ModelFileReader {
  const std::string& source;

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    const YAML::Mark m = at.Mark();
    if (m.is_null()) throw ModelFileError(fmt::format("{}: {}", source, what));
    throw ModelFileError(fmt::format("{}:{}:{}: {}", source, m.line + 1, m.column + 1, what));
  }
  // A required key of a mapping; `where` names the mapping in the message ("" for the top level).
  YAML::Node need(const YAML::Node& map, const std::string& key, const std::string& where = "") const {
    const std::string prefix = where.empty() ? "" : where + ": ";
    if (!map.IsMap()) fail(map, prefix + "expected a mapping");
    YAML::Node v = map[key];
    if (!v || v.IsNull()) fail(map, fmt::format("{}missing '{}'", prefix, key));
    return v;
  }
  double number(const YAML::Node& v, const std::string& what, double lo = 0) const {
    double d = 0;
    if (!v.IsScalar()) fail(v, what + ": expected a number");
    try {
      d = v.as<double>();
    } catch (const YAML::Exception&) {
      fail(v, fmt::format("{}: '{}' is not a number", what, v.Scalar()));
    }
    if (!std::isfinite(d) || d < lo)
      fail(v, fmt::format("{}: {} is out of range (at least {})", what, d, lo));
    return d;
  }
  double optional(const YAML::Node& map, const std::string& key, const std::string& where, double fallback,
                  double lo = 0) const {
    const YAML::Node v = map[key];
    return v && !v.IsNull() ? number(v, where + "." + key, lo) : fallback;
  }
  std::vector<double> numbers(const YAML::Node& v, const std::string& what, double lo = 0) const {
    if (!v.IsSequence()) fail(v, what + ": expected a list of numbers");
    std::vector<double> out;
    for (const auto& x : v) out.push_back(number(x, what, lo));
    return out;
  }
  std::vector<double> levels(const YAML::Node& v, const std::string& what) const {
    auto out = numbers(v, what);
    if (out.empty()) fail(v, what + ": expected at least one level");
    if (!std::is_sorted(out.begin(), out.end()) || std::adjacent_find(out.begin(), out.end()) != out.end())
      fail(v, what + ": levels must be strictly ascending");
    return out;
  }
  std::string text(const YAML::Node& v, const std::string& what) const {
    if (!v.IsScalar()) fail(v, what + ": expected a string");
    return v.Scalar();
  }
};

}  // namespace flame
