// The one YAML reading helper behind flamed.yaml, model files, workloads and board descriptions:
// every error names source:line:column and the key.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "flame/io/yaml_reader.hpp"

using Catch::Contains;

namespace {

struct TestError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
using Reader = flame::io::YamlReader<TestError>;

}  // namespace

TEST_CASE("yaml reader: typed values and errors with file:line:column", "[io]") {
  const Reader r("t.yaml");
  const YAML::Node root = r.load("a: 1.5\nb: [1, 2]\nc: {d: yes}\ne: text\nf: lots\n");
  CHECK(r.number(r.need(root, "a"), "a") == 1.5);
  CHECK(r.levels(root["b"], "b") == std::vector<double>{1, 2});
  CHECK(r.boolean(r.need(root["c"], "d", "c"), "c.d"));
  CHECK(r.text(root["e"], "e") == "text");
  CHECK(r.optional(root, "absent", "", 7) == 7);
  CHECK_THROWS_WITH(r.need(root, "g"), "t.yaml:1:1: missing 'g'");
  CHECK_THROWS_WITH(r.need(root["c"], "x", "c"), "t.yaml:3:4: c: missing 'x'");
  CHECK_THROWS_WITH(r.number(root["f"], "f"), "t.yaml:5:4: f: 'lots' is not a number");
  CHECK_THROWS_WITH(r.number(root["a"], "a", 0, 1), "t.yaml:1:4: a: 1.5 is out of range [0, 1]");
  CHECK_THROWS_WITH(r.number(root["a"], "a", 2), "t.yaml:1:4: a: 1.5 is out of range (at least 2)");
  CHECK_THROWS_WITH(r.number(root["b"], "b"), "t.yaml:2:4: b: expected a number");
  CHECK_THROWS_WITH(r.integer(root["a"], "a"), "t.yaml:1:4: a: expected an integer");
  CHECK_THROWS_WITH(r.boolean(root["e"], "e"), "t.yaml:4:4: e: expected true or false, got 'text'");
  CHECK_THROWS_WITH(r.text(root["b"], "b"), "t.yaml:2:4: b: expected a string");
  CHECK_THROWS_WITH(r.levels(r.load("[2, 1]"), "l"), Contains("l: levels must be strictly ascending"));
  CHECK_THROWS_WITH(r.mapping(root["b"], "b"), "t.yaml:2:4: b: expected a mapping");
  CHECK_THROWS_WITH(r.load("a: [1,\n"), Contains("t.yaml:2:1: invalid YAML:"));
}

TEST_CASE("yaml reader: unknown, duplicate and complex keys; the mapping is left intact", "[io]") {
  const Reader r("t.yaml");
  const YAML::Node root = r.load("a: 1\nc: {d: 2, x: 3}\n");
  CHECK_NOTHROW(r.only_keys(root, "", {"a", "c"}));
  CHECK_THROWS_WITH(r.only_keys(root["c"], "c", {"d"}), "t.yaml:2:11: unknown key 'c.x' (known: d)");
  // Checking the keys does not change the document.
  CHECK(root.size() == 2);
  CHECK(r.number(root["a"], "a") == 1);
  CHECK(root["c"]["x"].as<int>() == 3);
  CHECK_THROWS_WITH(r.only_keys(r.load("a: 1\na: 2\n"), "", {"a"}), "t.yaml:2:1: duplicate key 'a'");
  CHECK_THROWS_WITH(r.only_keys(r.load("? [a, b]\n: 1\n"), "", {"a"}),
                    Contains("a key of 'the file' is a list; keys are plain names"));
}

TEST_CASE("yaml reader: a file that cannot be opened is named", "[io]") {
  CHECK_FALSE(flame::io::file_text("/nonexistent/t.yaml"));
  CHECK_THROWS_AS(flame::io::read_file<TestError>("/nonexistent/t.yaml", "test file"), TestError);
  CHECK_THROWS_WITH(flame::io::read_file<TestError>("/nonexistent/t.yaml", "test file"),
                    "/nonexistent/t.yaml: cannot open test file: No such file or directory");
}
