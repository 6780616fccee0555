#pragma once
// flamectl's connection to flamed: flame::Client plus JSON parsing and the exit-code policy shared
// by every subcommand.
#include <flame/client.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace flamectl {

// Exit codes (documented in flamectl(1)).
inline constexpr int kOk = 0;
inline constexpr int kDaemonError = 1;  // flamed answered ok:false
inline constexpr int kUsage = 2;
inline constexpr int kUnreachable = 3;  // not running, access denied, no answer
inline constexpr int kNoDbus = 4;       // the command needs flamed's D-Bus API

struct Globals {
  std::string socket = flame::default_socket_path();
  bool json = false;
  double timeout_s = 5;
};

// Prints an error the way the output mode wants it: a line on stderr, plus a JSON object on
// stdout with --json so that scripts always get something to parse.
void report_error(const Globals& g, const std::string& message, const std::string& reason);

class DaemonLink {
 public:
  explicit DaemonLink(const Globals& g);

  // Sends one request; returns the parsed reply, or nothing after reporting why the daemon could
  // not be reached.
  std::optional<nlohmann::json> call(const nlohmann::json& request);
  // Connects and says hello; false after reporting.
  bool hello(const std::string& app);
  int client_number() const { return client_number_; }
  flame::Client& client() { return client_; }
  const Globals& globals() const { return g_; }
  // The reason and message of the last failure to reach the daemon.
  std::string unreachable_reason() const;
  std::string unreachable_message() const { return client_.last_error(); }

 private:
  const Globals& g_;
  flame::Client client_;
  int client_number_ = -1;
};

}  // namespace flamectl
