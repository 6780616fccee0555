#include "protocol.hpp"

#include <fmt/format.h>

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
    return b;
  }
  if (name == "end") {
    End e;
    e.id = request_id(j);
    const double l = positive_number(j, "latency_ms", false);
    if (l > 0) e.latency_ms = l;
    return e;
  }
  if (name == "status") return Status{};
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

nlohmann::json error_reply(const nlohmann::json& id, const std::string& message) {
  return {{"id", id}, {"ok", false}, {"error", message}};
}

}  // namespace flamed
