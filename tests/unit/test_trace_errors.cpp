// Broken inputs must give a TraceError that names the file and says what is wrong.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/trace_events.hpp"
#include "flame/trace/trace_profile.hpp"
#include "flame/trace/trace_source.hpp"
#include "trace_test_support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using trace_test::error_of;
using trace_test::kineto_trace;
using trace_test::x_event;

namespace {

const fs::path kRealTrace = fs::path(FLAME_SOURCE_DIR) / "tests" / "data" / "h200-coupling" / "traces" /
                            "resnet18_b1_float32.json.gz";

std::string file_error(const fs::path& p) {
  return error_of<flame::trace::TraceError>([&] { flame::trace::summarize_trace_file(p); });
}

std::string text_error(const std::string& json) {
  return error_of<flame::trace::TraceError>(
      [&] { flame::trace::build_trace_summary(flame::trace::parse_trace_events(json, "mem.json")); });
}

}  // namespace

TEST_CASE("trace errors: file problems") {
  trace_test::TempDir tmp;
  CHECK_THAT(file_error(tmp.path() / "nope.json.gz"), Contains("nope.json.gz") && Contains("cannot open"));
  CHECK_THAT(file_error(tmp.path()), Contains("directory"));
  CHECK_THAT(file_error(tmp.write("empty.json", "")), Contains("empty.json") && Contains("empty file"));
  CHECK_THAT(file_error(tmp.write("blank.json", "  \n")), Contains("blank.json") && Contains("empty trace"));
  CHECK_THAT(file_error(tmp.write("text.json", "hello, this is not a trace\n")),
             Contains("text.json") && Contains("not a JSON trace: the text starts with 'h'"));
  CHECK_THAT(file_error(tmp.write("bin.json", std::string("\x00\x01\x02\x03 binary", 11))),
             Contains("bin.json") && Contains("starts with byte 0"));
}

TEST_CASE("trace errors: broken gzip") {
  trace_test::TempDir tmp;
  const std::string gz = trace_test::read_bytes(kRealTrace);
  REQUIRE(gz.size() > 1000);

  const auto half = tmp.write("half.json.gz", gz.substr(0, gz.size() / 2));
  CHECK_THAT(file_error(half), Contains("half.json.gz") && Contains("truncated gzip"));
  const auto no_trailer = tmp.write("trailer.json.gz", gz.substr(0, gz.size() - 4));
  CHECK_THAT(file_error(no_trailer), Contains("trailer.json.gz") && Contains("truncated gzip"));
  CHECK_THAT(file_error(tmp.write("magic.gz", "\x1f\x8b")), Contains("magic.gz") && Contains("gzip"));

  std::string corrupt = gz;
  for (std::size_t i = gz.size() / 3; i < gz.size() / 3 + 64; ++i)
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  CHECK_THAT(file_error(tmp.write("corrupt.json.gz", corrupt)),
             Contains("corrupt.json.gz") && Contains("gzip"));

  std::string bad_crc = gz;
  bad_crc[gz.size() - 8] = static_cast<char>(bad_crc[gz.size() - 8] ^ 1);  // CRC32 in the trailer
  CHECK_THAT(file_error(tmp.write("crc.json.gz", bad_crc)),
             Contains("crc.json.gz") && Contains("corrupt gzip"));
}

TEST_CASE("trace errors: truncated and malformed JSON") {
  trace_test::TempDir tmp;
  const std::string json = flame::trace::read_trace_text(kRealTrace);
  for (const double frac : {0.0001, 0.3, 0.5, 0.9, 0.99999}) {
    const auto cut = static_cast<std::size_t>(static_cast<double>(json.size()) * frac);
    INFO("cut at byte " << cut);
    const auto p = tmp.write("cut.json", json.substr(0, cut));
    CHECK_THAT(file_error(p), Contains("cut.json") && Contains("truncated JSON"));
  }
  // The document is complete up to the last brace only.
  const auto last_brace = json.find_last_of('}');
  CHECK_THAT(file_error(tmp.write("nobrace.json", json.substr(0, last_brace))),
             Contains("nobrace.json") && Contains("truncated JSON"));

  // Cut right after a complete event: the root object still ends in a brace.
  const auto event_end = json.find("},", json.size() / 2);
  CHECK_THAT(file_error(tmp.write("event-cut.json", json.substr(0, event_end + 1))),
             Contains("event-cut.json") && Contains("truncated JSON"));

  std::string mangled = json;
  const auto pos = mangled.find("\"dur\"", json.size() / 2);
  REQUIRE(pos != std::string::npos);
  mangled.replace(pos, 5, "\"dur\" ,");
  CHECK_THAT(file_error(tmp.write("mangled.json", mangled)),
             Contains("mangled.json") && Contains("malformed"));

  CHECK_THAT(text_error(R"({"traceEvents": []} trailing)"),
             Contains("mem.json") && Contains("after its end"));
  CHECK_THAT(text_error(R"({"traceEvents": [1, 2]})"), Contains("traceEvents[0] is not a JSON object"));
  CHECK_THAT(text_error("42"), Contains("not a JSON trace: the text starts with '4'"));
}

TEST_CASE("trace errors: not a usable trace") {
  CHECK_THAT(text_error(R"({"schemaVersion": 1, "deviceProperties": []})"),
             Contains("mem.json") && Contains("no \"traceEvents\""));
  CHECK_THAT(text_error(R"({"traceEvents": {"ph": "X"}})"), Contains("not an array"));
  CHECK_THAT(text_error(R"({"traceEvents": [], "traceEvents": []})"), Contains("more than one"));
  CHECK_THAT(text_error(kineto_trace(
                 {x_event("user_annotation", "iter0", "0", "10"), x_event("cpu_op", "aten::add", "1", "2")})),
             Contains("mem.json") && Contains("no GPU kernel"));
  CHECK_THAT(text_error(kineto_trace({x_event("kernel", "k", "1", "2")})), Contains("args.correlation"));
  CHECK_THAT(text_error(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "gemm", "ts": 5,
                                             "args": {"correlation": 3}}]})"),
             Contains("traceEvents[0] 'gemm' (cat kernel)") && Contains("missing required field 'dur'"));
  CHECK_THAT(text_error(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "dur": 5,
                                             "args": {"correlation": 3}}]})"),
             Contains("missing required field 'ts'"));
  CHECK_THAT(
      text_error(R"({"traceEvents": [{"ph": "X", "cat": "user_annotation", "name": "iter0", "ts": 5}]})"),
      Contains("'iter0'") && Contains("'dur'"));
  CHECK_THAT(text_error(R"({"traceEvents": [{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel",
                                             "ts": "soon", "dur": 1, "args": {"correlation": 3}}]})"),
             Contains("'ts' is not a number"));
  CHECK_THAT(text_error(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 5, "dur": -1,
                                             "args": {"correlation": 3}}]})"),
             Contains("negative 'dur'"));
  CHECK_THAT(text_error(R"({"traceEvents": [{"ph": "X", "cat": 7, "name": "k", "ts": 5, "dur": 1}]})"),
             Contains("traceEvents[0]") && Contains("unexpected JSON type"));
  // Kernels but nothing host-side to delimit an iteration.
  CHECK_THAT(text_error(kineto_trace({x_event("kernel", "k", "1", "2", 1)})),
             Contains("no host-side events"));
}

TEST_CASE("trace files: gzip is recognised by its magic bytes, not by the name") {
  trace_test::TempDir tmp;
  const std::string json = flame::trace::read_trace_text(kRealTrace);
  const std::string gz = trace_test::read_bytes(kRealTrace);
  const auto reference = flame::trace::summarize_trace_file(kRealTrace);
  const auto plain_named_gz = flame::trace::summarize_trace_file(tmp.write("plain.json.gz", json));
  const auto gz_named_json = flame::trace::summarize_trace_file(tmp.write("packed.json", gz));
  const auto doubled = flame::trace::gunzip(gz + gz, "two-members.gz");  // concatenated gzip members
  CHECK(doubled == json + json);
  for (const auto* s : {&plain_named_gz, &gz_named_json}) {
    CHECK(s->total_gpu_ns == reference.total_gpu_ns);
    CHECK(s->total_cpu_ns == reference.total_cpu_ns);
    CHECK(s->profile.segments.size() == reference.profile.segments.size());
  }
  CHECK(flame::trace::looks_gzipped(gz));
  CHECK_FALSE(flame::trace::looks_gzipped(json));
}

TEST_CASE("trace files: gzip writes what gunzip and the reader read back") {
  trace_test::TempDir tmp;
  const std::string json = flame::trace::read_trace_text(kRealTrace);
  const std::string gz = flame::trace::gzip(json);
  CHECK(flame::trace::looks_gzipped(gz));
  CHECK(gz.size() < json.size() / 4);
  CHECK(flame::trace::gunzip(gz, "mem.gz") == json);
  CHECK(flame::trace::read_trace_text(tmp.write("again.json.gz", gz)) == json);
  CHECK(flame::trace::gunzip(flame::trace::gzip(""), "empty.gz").empty());
}

TEST_CASE("trace errors: mutated traces either parse or fail with a TraceError, never anything else") {
  // Deterministic byte-level damage to a small valid trace: flips, deletions, cuts.
  const std::string base = kineto_trace({
      x_event("user_annotation", "iter0", "1000.5", "1000"),
      x_event("user_annotation", "u0:features.0", "1100", "200"),
      x_event("cuda_runtime", "cudaLaunchKernel", "1200", "5", 2),
      x_event("kernel", "void k<\\\"x\\\">()", "1210", "20.25", 2),
      x_event("gpu_memcpy", "Memcpy HtoD", "1300", "1", 3),
      x_event("cuda_runtime", "cudaMemcpyAsync", "1250", "5", 3),
  });
  std::mt19937 rng(12345);
  const std::string specials = "{}[]:,\"\\0123456789.-eE tnf";
  int parsed = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = specials[rng() % specials.size()];
          break;
        case 1:
          s.erase(pos, 1 + rng() % 8);
          break;
        case 2:
          s.resize(pos);
          break;
        default:
          s.insert(pos, 1, specials[rng() % specials.size()]);
          break;
      }
    }
    try {
      flame::trace::build_trace_summary(flame::trace::parse_trace_events(s, "fuzz.json"));
      ++parsed;
    } catch (const flame::trace::TraceError& e) {
      ++rejected;
      REQUIRE_THAT(e.what(), Contains("fuzz.json: "));
    }
  }
  CHECK(parsed + rejected == 3000);
  CHECK(rejected > 1000);
}
