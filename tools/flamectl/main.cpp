// flamectl: look at and talk to flamed from a shell (flamectl(1)).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bus_call.hpp"
#include "daemon_link.hpp"
#include "flame/version.hpp"
#include "format.hpp"
#include "hold.hpp"
#include "run.hpp"
#include "usage_exit.hpp"

using namespace flamectl;
static_assert(kUsage == flame::cli::kExitUsage);

namespace {

// status, models and clocks are views of one `status` reply.
int show(const Globals& g, std::string (*render)(const nlohmann::json&), const char* json_key) {
  DaemonLink link(g);
  const auto r = link.call({{"op", "status"}});
  if (!r) return kUnreachable;
  if (!r->value("ok", false)) {
    report_error(g, "flamed: " + r->value("error", std::string("?")), "daemon-error");
    return kDaemonError;
  }
  if (!g.json)
    std::printf("%s", render(*r).c_str());
  else if (json_key)
    std::printf(
        "%s\n",
        nlohmann::json{{"ok", true}, {json_key, r->value(json_key, nlohmann::json())}}.dump().c_str());
  else
    std::printf("%s\n", r->dump().c_str());
  return kOk;
}

// `flamectl status --requests`: the summary, then pages of the active requests until `limit` of
// them (those of the caller's user unless it is root or in the admin group, docs/protocol.md).
int status_with_requests(const Globals& g, size_t limit) {
  DaemonLink link(g);
  auto summary = link.call({{"op", "status"}});
  if (!summary) return kUnreachable;
  nlohmann::json requests = nlohmann::json::array();
  size_t total = 0;
  nlohmann::json after;
  while (summary->value("ok", false) && requests.size() < limit) {
    nlohmann::json req = {
        {"op", "status"}, {"detail", "requests"}, {"limit", std::min<size_t>(limit - requests.size(), 1000)}};
    if (!after.is_null()) req["after"] = after;
    auto page = link.call(req);
    if (!page) return kUnreachable;
    if (!page->value("ok", false)) {
      summary = page;
      break;
    }
    for (auto& r : (*page)["requests"]) requests.push_back(std::move(r));
    total = page->value("total", size_t{0});
    after = page->value("next", nlohmann::json());
    if (after.is_null()) break;
  }
  if (!summary->value("ok", false)) {
    report_error(g, "flamed: " + summary->value("error", std::string("?")), "daemon-error");
    return kDaemonError;
  }
  if (g.json) {
    (*summary)["requests"] = requests;
    (*summary)["requests_total"] = total;
    std::printf("%s\n", summary->dump().c_str());
  } else {
    std::printf("%s%s", format_status(*summary).c_str(), format_requests(requests, total).c_str());
  }
  return kOk;
}

// Reload, RestoreBaseline and SetEnabled are privileged D-Bus methods (docs/dbus.md).
int bus_method(const Globals& g, const std::string& method, std::optional<bool> enabled, const char* done) {
  const BusOutcome out = call_flamed_method(g, method, enabled);
  if (out.code != kOk) {
    report_error(g, out.message, out.reason);
    return out.code;
  }
  if (g.json)
    std::printf("%s\n", nlohmann::json{{"ok", true}, {"method", method}}.dump().c_str());
  else
    std::printf("%s\n", done);
  return kOk;
}

void add_begin_options(CLI::App* cmd, BeginArgs& a) {
  cmd->add_option("-m,--model", a.model, "Model name (as loaded by flamed)")->required();
  cmd->add_option("-d,--deadline-ms", a.deadline_ms, "Deadline in milliseconds")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ctx", a.ctx, "Context length (SLM models)")->check(CLI::PositiveNumber);
  cmd->add_option("--phase", a.phase, "Phase (SLM models)")->check(CLI::IsMember({"prefill", "decode"}));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flamectl: control and inspect flamed, the FLAME clock governor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", flame::kVersion);
  Globals g;
  app.add_option("-s,--socket", g.socket,
                 "flamed's socket (default $FLAME_SOCKET or /run/flame/flamed.sock)");
  app.add_flag("-j,--json", g.json, "Machine-readable JSON output");
  app.add_option("--timeout", g.timeout_s, "Seconds to wait for an answer")->check(CLI::PositiveNumber);
  app.fallthrough();

  int code = kOk;
  bool list_requests = false;
  size_t request_limit = 100;
  auto* status =
      app.add_subcommand("status", "Active requests, applied clocks, models, calibration, counters");
  status->add_flag("-r,--requests", list_requests,
                   "List the active requests too (your user's, or everyone's for root and the admin group)");
  status->add_option("--limit", request_limit, "At most this many requests with --requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  status->callback([&] {
    code = list_requests ? status_with_requests(g, request_limit) : show(g, format_status, nullptr);
  });
  app.add_subcommand("models", "Models flamed has loaded")->callback([&] {
    code = show(g, format_models, "models");
  });
  app.add_subcommand("clocks", "The clocks flamed has applied")->callback([&] {
    code = show(g, format_applied, "applied");
  });

  HoldOptions hold;
  auto* begin = app.add_subcommand("begin", "Begin a deadline request and hold it until 'flamectl end'");
  add_begin_options(begin, hold.args);
  begin->add_option("--id", hold.args.id, "Request id (default: this process's pid)")
      ->check(CLI::NonNegativeNumber);
  begin->add_option("--max-hold-s", hold.max_hold_s, "Release the request after this long")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  begin->callback([&] {
    hold.id_given = begin->count("--id") > 0;
    code = begin_command(g, hold);
  });

  int64_t end_id = 0;
  std::optional<double> latency;
  auto* end = app.add_subcommand("end", "End a request held by 'flamectl begin'");
  end->add_option("--id", end_id, "Request id")->required();
  end->add_option("-l,--latency-ms", latency, "Measured latency, for recalibration")
      ->check(CLI::PositiveNumber);
  end->callback([&] { code = end_command(g, end_id, latency); });

  RunOptions run;
  auto* run_cmd =
      app.add_subcommand("run", "Run a command while holding a deadline request; exits with its status");
  add_begin_options(run_cmd, run.args);
  run_cmd->add_flag("--strict", run.strict, "Fail (exit 3/1) instead of running without flamed");
  run_cmd->add_flag("-v,--verbose", run.verbose, "Print the decision and a summary on stderr");
  run_cmd->add_flag("--report-latency", run.report_latency,
                    "Report the command's wall time as the latency (only for a command that runs "
                    "exactly one inference; by default none is reported)");
  run_cmd->add_option("command", run.command, "The command and its arguments, after --")->required();
  run_cmd->callback([&] { code = run_command(g, run); });

  app.add_subcommand("reload", "Re-read flamed's configuration and models (D-Bus, root)")->callback([&] {
    code = bus_method(g, "Reload", std::nullopt, "flamed reloaded its configuration and models");
  });
  app.add_subcommand("restore", "Drop every hold and put the baseline clocks back (D-Bus, root)")
      ->callback([&] { code = bus_method(g, "RestoreBaseline", std::nullopt, "baseline clocks restored"); });
  app.add_subcommand("disable", "Stop governing: restore the baseline and refuse requests (D-Bus, root)")
      ->callback(
          [&] { code = bus_method(g, "SetEnabled", false, "flamed disabled; baseline clocks restored"); });
  app.add_subcommand("enable", "Resume governing after 'flamectl disable' (D-Bus, root)")->callback([&] {
    code = bus_method(g, "SetEnabled", true, "flamed enabled");
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flame::cli::usage_exit(app, e, "flamectl");
  }
  return code;
}
