#pragma once
// Typed reads from a YAML document with errors that name source:line:column and the key. Every
// YAML file flame reads goes through it: flamed.yaml (docs/config.md), model files
// (docs/model-format.md), workloads and board descriptions (docs/board-format.md). `Error` is the
// reader's own exception type; it is constructed from the message.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace flame::io {

// The whole file, or nothing when it cannot be opened (errno says why).
std::optional<std::string> file_text(const std::filesystem::path& path);
// "path: cannot open WHAT: reason" from errno.
std::string cannot_open(const std::filesystem::path& path, const std::string& what);

// The whole file; throws Error naming the file and `what` it is ("model file") when it cannot be opened.
template <typename Error>
std::string read_file(const std::filesystem::path& path, const std::string& what) {
  auto text = file_text(path);
  if (!text) throw Error(cannot_open(path, what));
  return std::move(*text);
}

// "source:line:column: what", or "source: what" when the node has no position.
std::string located(const std::string& source, const YAML::Node& at, const std::string& what);
// "source:line:column: invalid YAML: ..." for a document yaml-cpp cannot parse.
std::string parse_error(const std::string& source, const YAML::ParserException& e);
// `prefix.key`, or `key` at the top level.
std::string qualified(const std::string& prefix, const std::string& key);

// The checks themselves, shared by every YamlReader<Error>; each returns the error message, or ""
// when the value is fine.
namespace yaml_check {
std::string mapping(const YAML::Node& n, const std::string& where);
std::string number(const YAML::Node& v, const std::string& what, double lo, double hi, double* out);
std::string integer(const YAML::Node& v, const std::string& what, long* out);
std::string boolean(const YAML::Node& v, const std::string& what, bool* out);
std::string text(const YAML::Node& v, const std::string& what, std::string* out);
}  // namespace yaml_check

template <typename Error>
class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    throw Error(located(source_, at, what));
  }

  YAML::Node load(const std::string& text) const {
    try {
      return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      throw Error(parse_error(source_, e));
    }
  }

  // A document of one of flame's file kinds: a mapping whose `format` is `format`; `kind` names the
  // file in the message ("model file").
  YAML::Node document(const std::string& yaml, const std::string& format, const std::string& kind) const {
    YAML::Node root = load(yaml);
    if (!root.IsMap()) fail(root, "a " + kind + " must be a mapping");
    if (text(need(root, "format"), "format") != format)
      fail(root["format"], "format: expected '" + format + "'");
    return root;
  }
  // `map` is a mapping; `where` names it in the message ("" for the whole document).
  void mapping(const YAML::Node& map, const std::string& where = "") const {
    if (auto e = yaml_check::mapping(map, where); !e.empty()) fail(map, e);
  }

  // A required key of a mapping; `where` names the mapping in the message ("" for the top level).
  YAML::Node need(const YAML::Node& map, const std::string& key, const std::string& where = "") const {
    mapping(map, where);
    YAML::Node v = map[key];
    if (!v || v.IsNull()) fail(map, (where.empty() ? "" : where + ": ") + "missing '" + key + "'");
    return v;
  }

  // Every key of `map` is a plain name listed in `known`, and none repeats. `path` is the mapping's
  // dotted name ("" for the top level); messages name the key as path.key.
  void only_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) const;

  // Numbers are non-negative unless `lo` says otherwise.
  double number(const YAML::Node& v, const std::string& what, double lo = 0, double hi = kInf) const {
    double d = 0;
    if (auto e = yaml_check::number(v, what, lo, hi, &d); !e.empty()) fail(v, e);
    return d;
  }
  long integer(const YAML::Node& v, const std::string& what) const {
    long i = 0;
    if (auto e = yaml_check::integer(v, what, &i); !e.empty()) fail(v, e);
    return i;
  }
  bool boolean(const YAML::Node& v, const std::string& what) const {
    bool b = false;
    if (auto e = yaml_check::boolean(v, what, &b); !e.empty()) fail(v, e);
    return b;
  }
  std::string text(const YAML::Node& v, const std::string& what) const {
    std::string s;
    if (auto e = yaml_check::text(v, what, &s); !e.empty()) fail(v, e);
    return s;
  }
  std::vector<double> numbers(const YAML::Node& v, const std::string& what, double lo = 0,
                              double hi = kInf) const {
    if (!v.IsSequence()) fail(v, what + ": expected a list of numbers");
    std::vector<double> out;
    for (const auto& x : v) out.push_back(number(x, what, lo, hi));
    return out;
  }
  // A non-empty, strictly ascending list of non-negative numbers (clock levels).
  std::vector<double> levels(const YAML::Node& v, const std::string& what) const {
    auto out = numbers(v, what);
    if (out.empty()) fail(v, what + ": expected at least one level");
    for (std::size_t i = 1; i < out.size(); ++i)
      if (!(out[i - 1] < out[i])) fail(v, what + ": levels must be strictly ascending");
    return out;
  }
  // An optional number: `fallback` when the key is absent or null.
  double optional(const YAML::Node& map, const std::string& key, const std::string& where, double fallback,
                  double lo = 0, double hi = kInf) const {
    const YAML::Node v = map[key];
    return v && !v.IsNull() ? number(v, qualified(where, key), lo, hi) : fallback;
  }

  // An optional key read into `out`, which keeps its value when the key is absent. Numbers are not
  // range-checked here: the caller validates the whole record.
  void take(const YAML::Node& map, const std::string& key, double& out) const {
    if (const YAML::Node v = map[key]) out = number(v, key, -kInf);
  }
  void take(const YAML::Node& map, const std::string& key, int& out) const {
    if (const YAML::Node v = map[key]) out = static_cast<int>(integer(v, key));
  }
  void take(const YAML::Node& map, const std::string& key, std::uint64_t& out) const {
    if (const YAML::Node v = map[key]) {
      const long i = integer(v, key);
      if (i < 0) fail(v, key + ": must be >= 0");
      out = static_cast<std::uint64_t>(i);
    }
  }
  void take(const YAML::Node& map, const std::string& key, std::string& out) const {
    if (const YAML::Node v = map[key]) out = text(v, key);
  }

  static constexpr double kInf = std::numeric_limits<double>::infinity();

 private:
  std::string source_;
};

// The key check, outside the template: the message or "" and the node it is about.
std::string unknown_key(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known,
                        YAML::Node* at);

template <typename Error>
void YamlReader<Error>::only_keys(const YAML::Node& map, const std::string& path,
                                  const std::vector<std::string>& known) const {
  YAML::Node at;
  if (auto e = unknown_key(map, path, known, &at); !e.empty()) fail(at, e);
}

}  // namespace flame::io
