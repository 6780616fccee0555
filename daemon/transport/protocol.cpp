#include "transport/protocol.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace flamed {
namespace {

using nlohmann::json;

struct Bad {
  std::string message;
};

const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

// At most max_bytes of s, never ending inside a UTF-8 sequence (a reply must stay valid UTF-8).
std::string utf8_prefix(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] continues a sequence
  return s.substr(0, n);
}

int64_t request_id(const json& j) {
  const json* v = field(j, "id");
  if (!v) throw Bad{"missing \"id\""};
  if (!v->is_number_integer() || v->get<int64_t>() < 0) throw Bad{"\"id\" must be a non-negative integer"};
  return v->get<int64_t>();
}

double positive_number(const json& j, const char* key, bool required) {
  const json* v = field(j, key);
  if (!v) {
    if (required) throw Bad{fmt::format("missing \"{}\"", key)};
    return -1;
  }
  if (!v->is_number()) throw Bad{fmt::format("\"{}\" must be a number", key)};
  const double d = v->get<double>();
  if (!std::isfinite(d) || d <= 0) throw Bad{fmt::format("\"{}\" must be a positive number", key)};
  if (d > 1e9) throw Bad{fmt::format("\"{}\" is implausibly large", key)};
  return d;
}

std::string text(const json& j, const char* key, bool required, size_t max_len = 128) {
  const json* v = field(j, key);
  if (!v) {
    if (required) throw Bad{fmt::format("missing \"{}\"", key)};
    return {};
  }
  if (!v->is_string()) throw Bad{fmt::format("\"{}\" must be a string", key)};
  auto s = v->get<std::string>();
  if (s.empty() || s.size() > max_len)
    throw Bad{fmt::format("\"{}\" must have 1 to {} characters", key, max_len)};
  return s;
}

std::optional<double> client_time(const json& j) {
  const json* v = field(j, "t_ms");
  if (!v) return std::nullopt;
  if (!v->is_number()) throw Bad{"\"t_ms\" must be a number"};
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < 0) throw Bad{"\"t_ms\" must be a non-negative number"};
  if (d > 1e15) throw Bad{"\"t_ms\" is implausibly large"};
  return d;
}

Request parse_object(const json& j) {
  const json* op = field(j, "op");
  if (!op) throw Bad{"missing \"op\""};
  if (!op->is_string()) throw Bad{"\"op\" must be a string"};
  const auto name = op->get<std::string>();
  if (name == "hello") {
    Hello h;
    const json* p = field(j, "proto");
    if (!p || !p->is_number_integer()) throw Bad{"\"proto\" must be an integer"};
    h.proto = p->get<int>();
    if (h.proto != kProtocolVersion)
      throw Bad{
          fmt::format("unsupported protocol version {} (this daemon speaks {})", h.proto, kProtocolVersion)};
    h.app = text(j, "app", false);
    return h;
  }
  if (name == "begin") {
    Begin b;
    b.id = request_id(j);
    b.model = text(j, "model", true);
    b.deadline_ms = positive_number(j, "deadline_ms", true);
    // No inference meets a deadline under a microsecond; such a value is a unit mistake.
    if (b.deadline_ms < 1e-3) throw Bad{"\"deadline_ms\" is implausibly small (under 1 microsecond)"};
    if (const json* c = field(j, "ctx")) {
      if (!c->is_number_integer() || c->get<int64_t>() <= 0 || c->get<int64_t>() > (1 << 24))
        throw Bad{"\"ctx\" must be a positive integer"};
      b.ctx = c->get<int>();
    }
    if (field(j, "phase")) {
      b.phase = text(j, "phase", true);
      if (*b.phase != "prefill" && *b.phase != "decode")
        throw Bad{"\"phase\" must be \"prefill\" or \"decode\""};
    }
    b.t_ms = client_time(j);
    return b;
  }
  if (name == "end") {
    End e;
    e.id = request_id(j);
    const double l = positive_number(j, "latency_ms", false);
    if (l > 0) e.latency_ms = l;
    e.t_ms = client_time(j);
    return e;
  }
  if (name == "status") {
    Status st;
    st.t_ms = client_time(j);
    if (field(j, "detail")) {
      const std::string d = text(j, "detail", true);
      if (d != "summary" && d != "requests") throw Bad{"\"detail\" must be \"summary\" or \"requests\""};
      st.requests = d == "requests";
    }
    if (const json* l = field(j, "limit")) {
      if (!l->is_number_integer() || l->get<int64_t>() < 1 || l->get<int64_t>() > int64_t(kMaxRequestPage))
        throw Bad{fmt::format("\"limit\" must be an integer from 1 to {}", kMaxRequestPage)};
      st.limit = l->get<size_t>();
    }
    if (field(j, "after")) {
      st.after = parse_cursor(text(j, "after", true, 64));
      if (!st.after) throw Bad{"\"after\" must be the \"next\" of an earlier page (\"client:id\")"};
    }
    return st;
  }
  throw Bad{fmt::format("unknown op \"{}\" (expected hello, begin, end or status)", utf8_prefix(name, 32))};
}

// Requests are flat; deep nesting is only ever an attack on the recursive destructor/parser.
bool too_deep(std::string_view line, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : line) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (ch == '\\')
        escaped = true;
      else if (ch == '"')
        in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > limit) return true;
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Parsed parse_request(std::string_view line) {
  Parsed p;
  if (too_deep(line, 16)) {
    p.error = "request nested too deeply";
    return p;
  }
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    p.error = "malformed JSON";
    return p;
  }
  if (!j.is_object()) {
    p.error = "a request must be a JSON object";
    return p;
  }
  if (auto it = j.find("id"); it != j.end() && it->is_number_integer()) p.id = *it;
  try {
    p.request = parse_object(j);
  } catch (const Bad& b) {
    p.error = b.message;
  }
  return p;
}

std::string cursor_text(const flame::policy::RequestKey& key) {
  return fmt::format("{}:{}", key.client, key.id);
}

std::optional<flame::policy::RequestKey> parse_cursor(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  flame::policy::RequestKey key;
  const auto c = text.substr(0, colon), i = text.substr(colon + 1);
  const auto rc = std::from_chars(c.data(), c.data() + c.size(), key.client);
  const auto ri = std::from_chars(i.data(), i.data() + i.size(), key.id);
  if (c.empty() || i.empty() || rc.ec != std::errc{} || rc.ptr != c.data() + c.size() ||
      ri.ec != std::errc{} || ri.ptr != i.data() + i.size() || key.id < 0)
    return std::nullopt;
  return key;
}

nlohmann::json error_reply(const nlohmann::json& id, const std::string& message) {
  return {{"id", id}, {"ok", false}, {"error", message}};
}

nlohmann::json clocks_json(const flame::Clocks& c) {
  return {{"cpu_khz", c.cpu_khz}, {"cpu_cores", c.cpu_cores}, {"gpu_hz", c.gpu_hz}, {"emc_hz", c.emc_hz}};
}

nlohmann::json to_json(const flame::policy::BeginResult& r) {
  if (r.error) return error_reply(r.id, *r.error);
  return {{"id", r.id},
          {"ok", true},
          {"clocks", clocks_json(r.clocks)},
          {"applied", clocks_json(r.applied)},
          {"predicted_ms", r.predicted_ms},
          {"feasible", r.feasible},
          {"queued_ms", r.queued_ms},
          {"margin_pct", r.margin_pct},
          {"calibration", r.calibration}};
}

nlohmann::json to_json(const flame::policy::EndResult& r) {
  if (r.error) return error_reply(r.id, *r.error);
  json out = {{"id", r.id}, {"ok", true}, {"applied", clocks_json(r.applied)}};
  if (r.calibration)
    out["calibration"] = {{"factor", r.calibration->factor}, {"updated", r.calibration->updated}};
  return out;
}

namespace {
const char* scope_text(RequestScope scope) {
  return scope == RequestScope::All ? "all" : "own";
}
}  // namespace

nlohmann::json to_json(const flame::policy::RequestPage& page, RequestScope scope) {
  json requests = json::array();
  for (const auto& a : page.requests)
    requests.push_back({{"client", a.client},
                        {"id", a.id},
                        {"model", a.model},
                        {"deadline_ms", a.deadline_ms},
                        {"predicted_ms", a.predicted_ms},
                        {"feasible", a.feasible},
                        {"clocks", clocks_json(a.clocks)},
                        {"expires_in_ms", a.expires_in_ms}});
  return {{"ok", true},
          {"requests", requests},
          {"total", page.total},
          {"next", page.next ? json(cursor_text(*page.next)) : json(nullptr)},
          {"scope", scope_text(scope)}};
}

nlohmann::json to_json(const flame::policy::Status& s, size_t connections,
                       const std::vector<std::string>& degraded, size_t own_requests, RequestScope scope) {
  json models = json::object();
  for (const auto& [name, m] : s.models) {
    json& entry = models[name];
    if (!m.refused.empty()) {
      entry = {{"served", false}, {"refused", m.refused}};
      continue;
    }
    entry = {{"served", true}, {"kind", m.kind}, {"needs_workload", m.needs_workload}, {"digest", m.digest}};
    if (!m.board.empty()) entry["board"] = m.board;
    if (m.derived) entry["derived"] = true;
  }
  json calibration = json::object();
  for (const auto& [key, st] : s.calibration) calibration[key] = flame::calibrate::to_json(st);
  const auto& c = s.counters;
  return {{"ok", true},
          {"active_requests", s.active_requests},
          {"own_requests", scope == RequestScope::All ? s.active_requests : own_requests},
          {"requests_scope", scope_text(scope)},
          {"applied", clocks_json(s.applied)},
          {"holding", s.holding},
          {"enabled", s.enabled},
          {"hardware_fault", s.hardware_fault},
          {"degraded", !degraded.empty()},
          {"degraded_reasons", degraded},
          {"models", models},
          {"calibration", calibration},
          {"counters",
           {{"begins", c.begins},
            {"ends", c.ends},
            {"errors", c.errors},
            {"expired", c.expired},
            {"infeasible", c.infeasible},
            {"deadline_met", c.deadline_met},
            {"deadline_missed", c.deadline_missed},
            {"clock_changes", c.clock_changes},
            {"hardware_faults", c.hardware_faults},
            {"decision_cache_hits", c.memo_hits},
            {"decision_cache_misses", c.memo_misses}}},
          {"connections", connections}};
}

}  // namespace flamed
