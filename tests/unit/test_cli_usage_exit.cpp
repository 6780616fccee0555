// The usage-error convention of flame, flamed and flamectl (tools/common/usage_exit.hpp).
#include <catch2/catch.hpp>
#include <sstream>

#include "usage_exit.hpp"

namespace {

struct Outcome {
  int code = -1;
  std::string out, err;
};

// A small `flame`: two groups that require a subcommand, one option with a number.
Outcome run(std::vector<std::string> args) {
  CLI::App app{"test"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "1.2.3");
  auto* board = app.add_subcommand("board", "");
  board->require_subcommand(1);
  int v = 0;
  board->add_subcommand("set", "")->add_option("--gpu-hz", v);
  board->add_subcommand("show", "");
  app.add_subcommand("fit", "");
  std::vector<const char*> argv{"flame"};
  for (const auto& a : args) argv.push_back(a.c_str());
  Outcome o;
  std::ostringstream out, err;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    o.code = 0;
  } catch (const CLI::ParseError& e) {
    o.code = flame::cli::usage_exit(app, e, "flame", out, err);
  }
  o.out = out.str();
  o.err = err.str();
  return o;
}

}  // namespace

TEST_CASE("usage errors exit 2 and name the offender; help and version exit 0", "[cli]") {
  auto o = run({"nosuch"});
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("unknown command 'nosuch' for 'flame'"));
  CHECK_THAT(o.err, Catch::Contains("board, fit"));

  o = run({"board", "nosuch"});
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("unknown command 'nosuch' for 'flame board' (commands: set, show)"));

  o = run({"board", "set", "--bogus"});
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("--bogus"));

  o = run({"board", "set", "--gpu-hz", "fast"});
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("fast"));

  o = run({});
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::StartsWith("flame: A subcommand is required"));

  o = run({"--help"});
  CHECK(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("board"));
  CHECK(o.err.empty());

  o = run({"board", "--help"});
  CHECK(o.code == 0);

  o = run({"--version"});
  CHECK(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("1.2.3"));

  CHECK(run({"board", "set", "--gpu-hz", "5"}).code == 0);
}
