// flamed: deadline-aware DVFS governor for NVIDIA Jetson. Thin main: parse arguments, hand over.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "app.hpp"
#include "config/config.hpp"
#include "flame/version.hpp"
#include "hardware.hpp"
#include "state/reload_record.hpp"
#include "usage_exit.hpp"

namespace {

void setup_logging(const std::string& level) {
  // Under systemd stdout/stderr already go to the journal; the native sink keeps priorities.
  if (std::getenv("JOURNAL_STREAM"))
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("flamed", std::make_shared<spdlog::sinks::systemd_sink_mt>()));
  else
    spdlog::set_default_logger(spdlog::stderr_color_mt("flamed"));
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"flamed: deadline-aware DVFS governor for NVIDIA Jetson"};
  std::string config_path = flamed::kDefaultConfigPath;
  bool config_given = false;
  std::string check_path;
  bool dump = false, restore = false;
  pid_t reload_pid = 0;
  cli.set_version_flag("--version", flame::kVersion);
  auto* opt = cli.add_option("-c,--config", config_path, "Configuration file")->capture_default_str();
  cli.add_option("--check-config", check_path, "Validate a configuration file and exit")->expected(0, 1);
  cli.add_flag("--dump-config", dump, "Print the effective configuration and exit");
  cli.add_flag("--restore", restore, "Restore the clock baseline left by a previous run and exit");
  cli.add_option("--reload", reload_pid,
                 "Reload the running flamed with this PID and wait: exit 0 once the new configuration is "
                 "live, 1 if it was refused (ExecReload=)")
      ->check(CLI::PositiveNumber);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flame::cli::usage_exit(cli, e, "flamed");
  }
  config_given = opt->count() > 0;

  if (cli.count("--check-config")) {
    const std::string path = check_path.empty() ? config_path : check_path;
    try {
      flamed::load_config(path);
      std::cout << path << ": OK\n";
      return 0;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }

  flamed::Config config;
  try {
    // The default path may be absent on a fresh install: then the compiled-in defaults apply.
    if (config_given || std::filesystem::exists(config_path)) config = flamed::load_config(config_path);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    // A reload of this file would fail the same way: say so without disturbing the daemon.
    if (reload_pid) std::cerr << "flamed --reload: not reloading; the running configuration is kept\n";
    if (!restore) return 1;
    // ExecStopPost= must put the clocks back even after an operator broke the file.
    std::string why;
    config = flamed::salvage_restore_paths(config_path, &why);
    std::cerr << "flamed --restore: the configuration is invalid; restoring with " << why << "\n";
  }
  if (reload_pid) return flamed::request_reload(reload_pid, config.runtime_dir, std::chrono::seconds(60));
  if (dump) {
    std::cout << flamed::dump_config(config);
    return 0;
  }
  setup_logging(config.log_level);
  if (restore) return flamed::restore_baseline(config) ? 0 : 1;

  flamed::App app(config, config_given || std::filesystem::exists(config_path)
                              ? std::optional<std::filesystem::path>(config_path)
                              : std::nullopt);
  return app.run();
}
