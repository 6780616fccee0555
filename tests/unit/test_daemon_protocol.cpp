#include <catch2/catch.hpp>
#include <random>

#include "transport/protocol.hpp"

using namespace flamed;

TEST_CASE("protocol: valid requests") {
  auto p = parse_request(R"({"op":"hello","proto":1,"app":"cam"})");
  REQUIRE(p.request);
  CHECK(std::get<Hello>(*p.request).app == "cam");
  p = parse_request(R"({"op":"begin","id":7,"model":"resnet50","deadline_ms":30})");
  REQUIRE(p.request);
  const auto& b = std::get<Begin>(*p.request);
  CHECK(b.id == 7);
  CHECK(b.deadline_ms == 30);
  CHECK_FALSE(b.ctx);
  p = parse_request(R"({"op":"begin","id":8,"model":"qwen","deadline_ms":12.5,"ctx":2048,"phase":"decode"})");
  REQUIRE(p.request);
  CHECK(*std::get<Begin>(*p.request).ctx == 2048);
  p = parse_request(R"({"op":"end","id":7,"latency_ms":27.9})");
  REQUIRE(p.request);
  CHECK(*std::get<End>(*p.request).latency_ms == Approx(27.9));
  CHECK(parse_request(R"({"op":"status"})").request);
}

TEST_CASE("protocol: every malformed request gets a reason and keeps a usable id") {
  struct Row {
    const char* line;
    const char* error;
  };
  const Row rows[] = {
      {"not json", "malformed JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"id":3})", "missing \"op\""},
      {R"({"op":5})", "\"op\" must be a string"},
      {R"({"op":"launch","id":1})", "unknown op \"launch\""},
      {R"({"op":"hello","proto":2})", "unsupported protocol version 2"},
      {R"({"op":"begin","model":"m","deadline_ms":3})", "missing \"id\""},
      {R"({"op":"begin","id":-1,"model":"m","deadline_ms":3})", "non-negative integer"},
      {R"({"op":"begin","id":1,"deadline_ms":3})", "missing \"model\""},
      {R"({"op":"begin","id":1,"model":"m"})", "missing \"deadline_ms\""},
      {R"({"op":"begin","id":1,"model":"m","deadline_ms":-3})", "positive number"},
      {R"({"op":"begin","id":1,"model":"m","deadline_ms":1e-4})", "implausibly small"},
      {R"({"op":"begin","id":1,"model":"m","deadline_ms":"3"})", "must be a number"},
      {R"({"op":"begin","id":1,"model":"m","deadline_ms":3,"ctx":0})", "positive integer"},
      {R"({"op":"begin","id":1,"model":"m","deadline_ms":3,"phase":"train"})", "\"prefill\" or \"decode\""},
      {R"({"op":"begin","id":1,"model":"","deadline_ms":3})", "1 to 128 characters"},
      {R"({"op":"end","id":1,"latency_ms":0})", "positive number"},
      {R"({"op":"status","x":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]})", "nested too deeply"},
  };
  for (const auto& row : rows) {
    INFO(row.line);
    const auto p = parse_request(row.line);
    CHECK_FALSE(p.request);
    CHECK_THAT(p.error, Catch::Contains(row.error));
  }
  CHECK(parse_request(R"({"op":"begin","id":4,"model":"m"})").id == 4);
  CHECK(parse_request("garbage").id.is_null());
  // An unknown op is quoted cut to 32 bytes, never inside a UTF-8 sequence (found by the fuzzer:
  // the reply could not be serialised and the exception ended flamed's event loop).
  for (int pad = 0; pad < 4; ++pad) {
    const std::string op = std::string(static_cast<size_t>(30 + pad), 'x') + "\u054f\u0752";
    const auto p = parse_request(R"({"op":")" + op + R"("})");
    INFO(pad);
    REQUIRE_FALSE(p.request);
    CHECK_NOTHROW(error_reply(p.id, p.error).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
  }
}

TEST_CASE("protocol: random bytes and mutations never throw") {
  std::mt19937 rng(42);
  const std::string seed =
      R"({"op":"begin","id":7,"model":"resnet50","deadline_ms":30,"ctx":128,"phase":"decode"})";
  for (int i = 0; i < 20000; ++i) {
    std::string s = seed;
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(at, 1 + rng() % 4);
          break;
        default:
          s.insert(at, 1, "{}[]\":,0-e."[rng() % 11]);
          break;
      }
      if (s.empty()) s.push_back('{');
    }
    CHECK_NOTHROW(parse_request(s));
  }
}

TEST_CASE("protocol: status detail, page size and cursor", "[fair]") {
  auto p = parse_request(R"({"op":"status"})");
  REQUIRE(p.request);
  CHECK_FALSE(std::get<Status>(*p.request).requests);
  p = parse_request(R"({"op":"status","detail":"requests","limit":7,"after":"12:40"})");
  REQUIRE(p.request);
  const auto& s = std::get<Status>(*p.request);
  CHECK(s.requests);
  CHECK(s.limit == 7);
  REQUIRE(s.after);
  CHECK(s.after->client == 12);
  CHECK(s.after->id == 40);
  CHECK(std::get<Status>(*parse_request(R"({"op":"status","detail":"requests"})").request).limit ==
        kDefaultRequestPage);
  CHECK_FALSE(std::get<Status>(*parse_request(R"({"op":"status","detail":"summary"})").request).requests);
  for (const char* bad : {R"({"op":"status","detail":"everything"})", R"({"op":"status","limit":0})",
                          R"({"op":"status","limit":1001})", R"({"op":"status","limit":2.5})",
                          R"({"op":"status","after":"12"})", R"({"op":"status","after":"a:1"})",
                          R"({"op":"status","after":"1:-1"})", R"({"op":"status","after":"1:2x"})",
                          R"({"op":"status","after":7})"}) {
    INFO(bad);
    const auto q = parse_request(bad);
    CHECK_FALSE(q.request);
    CHECK_FALSE(q.error.empty());
  }
  CHECK(cursor_text({3, 9}) == "3:9");
  CHECK(parse_cursor(cursor_text({18446744073709551615u, 9223372036854775807})) ==
        flame::policy::RequestKey{18446744073709551615u, 9223372036854775807});
}
