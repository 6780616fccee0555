#pragma once
// Self-registering subcommands: each cmd_*.cpp adds its CLI11 subcommands through a static
// Registrar, so new commands never have to edit main.cpp.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace flame::cli {

using Setup = std::function<void(CLI::App& root)>;

std::vector<Setup>& registry();

struct Registrar {
  explicit Registrar(Setup setup) { registry().push_back(std::move(setup)); }
};

// Finds or creates a command group such as `validate`, so several files can add subcommands to it.
CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description);

// Thrown by command bodies to exit with a message and a status without a stack trace.
struct Exit {
  int code;
};

}  // namespace flame::cli
