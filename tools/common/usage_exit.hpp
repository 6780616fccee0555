#pragma once
// The exit status convention of flame, flamed and flamectl for command-line parsing: --help and
// --version exit 0, every usage error exits 2 with one message naming what was not understood
// (CLI11's own exit codes, 105-109, are its internals, not an interface).
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <string_view>

namespace flame::cli {

inline constexpr int kExitUsage = 2;

// What to say about a failed parse of `app`. An unknown word where a subcommand is required is named
// as such (CLI11 only reports the missing subcommand); other leftovers are named after the error.
inline std::string usage_message(const CLI::App& app, const CLI::ParseError& e, std::string_view program) {
  const CLI::App* deepest = &app;
  std::string path(program);
  while (!deepest->get_subcommands().empty()) {
    deepest = deepest->get_subcommands().front();
    path += " " + deepest->get_name();
  }
  std::vector<std::string> left = deepest->remaining();
  if (left.empty()) left = app.remaining(true);
  const bool needs_subcommand = deepest->get_require_subcommand_min() > deepest->get_subcommands().size();
  if (dynamic_cast<const CLI::RequiredError*>(&e) && needs_subcommand && !left.empty()) {
    std::string names;
    for (const CLI::App* sub : deepest->get_subcommands([](const CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    return "unknown command '" + left.front() + "' for '" + path + "' (commands: " + names + ")";
  }
  std::string msg = e.what();
  if (!left.empty() && !dynamic_cast<const CLI::ExtrasError*>(&e)) {
    msg += " (also not understood:";
    for (const auto& w : left) msg += " " + w;
    msg += ")";
  }
  return msg;
}

// Prints help, the version or the usage error and returns the exit status: 0 or kExitUsage.
inline int usage_exit(CLI::App& app, const CLI::ParseError& e, std::string_view program,
                      std::ostream& out = std::cout, std::ostream& err = std::cerr) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);
  err << program << ": " << usage_message(app, e, program) << "\nRun with --help for more information.\n";
  return kExitUsage;
}

}  // namespace flame::cli
