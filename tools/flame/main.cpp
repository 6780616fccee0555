// flame: profile, fit, validate and inspect FLAME latency models and Jetson boards.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "command.hpp"
#include "flame/version.hpp"
#include "usage_exit.hpp"

namespace flame::cli {
std::vector<Setup>& registry() {
  static std::vector<Setup> r;
  return r;
}

CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  CLI::App* g = parent.add_subcommand(name, description);
  g->require_subcommand(1);
  return g;
}
}  // namespace flame::cli

int main(int argc, char** argv) {
  CLI::App app{"flame: frequency-aware latency estimation for NVIDIA Jetson"};
  app.require_subcommand(1);
  app.set_version_flag("--version", flame::kVersion);
  app.add_flag_callback(
      "-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "Log debug messages to stderr");
  for (auto& setup : flame::cli::registry()) setup(app);
  spdlog::set_default_logger(spdlog::stderr_color_mt("flame"));
  spdlog::set_pattern("%^%l%$: %v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flame::cli::usage_exit(app, e, "flame");
  } catch (const flame::cli::Exit& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "flame: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
