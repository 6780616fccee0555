// The portable trace reader (nlohmann-json SAX, used where simdjson >= 2 is missing, e.g. Ubuntu
// 22.04) reads what parse_trace_events reads and refuses what it refuses.
#include <catch2/catch.hpp>
#include <filesystem>

#include "flame/trace/detail/trace_error.hpp"
#include "flame/trace/detail/trace_json_readers.hpp"
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

const fs::path kRealTrace =
    fs::path(FLAME_SOURCE_DIR) / "data" / "h200-coupling" / "traces" / "resnet18_b1_float32.json.gz";

flame::trace::TraceEvents portable(const std::string& json) {
  return flame::trace::read_trace_json_nlohmann(json, "mem.json");
}

std::string portable_error(const std::string& json) {
  return error_of<flame::trace::TraceError>([&] { portable(json); });
}

void require_same(const flame::trace::TraceEvents& a, const flame::trace::TraceEvents& b) {
  REQUIRE(a.n_events == b.n_events);
  REQUIRE(a.iterations.size() == b.iterations.size());
  for (std::size_t i = 0; i < a.iterations.size(); ++i) {
    CHECK(a.iterations[i].start_ns == b.iterations[i].start_ns);
    CHECK(a.iterations[i].end_ns == b.iterations[i].end_ns);
    CHECK(a.iterations[i].name == b.iterations[i].name);
  }
  REQUIRE(a.profiler_steps.size() == b.profiler_steps.size());
  REQUIRE(a.calls.size() == b.calls.size());
  for (std::size_t i = 0; i < a.calls.size(); ++i) {
    CHECK(a.calls[i].start_ns == b.calls[i].start_ns);
    CHECK(a.calls[i].end_ns == b.calls[i].end_ns);
    CHECK(a.calls[i].index == b.calls[i].index);
    CHECK(a.calls[i].module == b.calls[i].module);
  }
  REQUIRE(a.launches.size() == b.launches.size());
  for (std::size_t i = 0; i < a.launches.size(); ++i) {
    CHECK(a.launches[i].correlation == b.launches[i].correlation);
    CHECK(a.launches[i].ts_ns == b.launches[i].ts_ns);
  }
  REQUIRE(a.gpu_ops.size() == b.gpu_ops.size());
  for (std::size_t i = 0; i < a.gpu_ops.size(); ++i) {
    CHECK(a.gpu_ops[i].kind == b.gpu_ops[i].kind);
    CHECK(a.gpu_ops[i].correlation == b.gpu_ops[i].correlation);
    CHECK(a.gpu_ops[i].ts_ns == b.gpu_ops[i].ts_ns);
    CHECK(a.gpu_ops[i].dur_ns == b.gpu_ops[i].dur_ns);
  }
  CHECK(a.has_host_extent == b.has_host_extent);
  CHECK(a.host_begin_ns == b.host_begin_ns);
  CHECK(a.host_end_ns == b.host_end_ns);
}

}  // namespace

TEST_CASE("trace JSON readers: the portable reader gives the same events on a real trace", "[trace]") {
  const std::string json = flame::trace::read_trace_text(kRealTrace);
  const flame::trace::TraceEvents reference = flame::trace::parse_trace_events(json, "real");
  const flame::trace::TraceEvents p = flame::trace::read_trace_json_nlohmann(json, "real");
  REQUIRE(!p.gpu_ops.empty());
  REQUIRE(!p.launches.empty());
  require_same(p, reference);
}

TEST_CASE("trace JSON readers: timestamps keep every digit of the text", "[trace]") {
  // 1700000000123456.789 us has more significant digits than a double holds.
  const auto ev =
      portable(kineto_trace({x_event("kernel", "k", "1700000000123456.789", "2.5", 3),
                             x_event("cuda_runtime", "cudaLaunchKernel", "1700000000123450.001", "1", 3)}));
  REQUIRE(ev.gpu_ops.size() == 1);
  CHECK(ev.gpu_ops[0].ts_ns == 1700000000123456789LL);
  CHECK(ev.gpu_ops[0].dur_ns == 2500);
  REQUIRE(ev.launches.size() == 1);
  CHECK(ev.launches[0].ts_ns == 1700000000123450001LL);
  CHECK(ev.launches[0].correlation == 3);
  // The bare-array form, and a float correlation id.
  const auto arr = portable(
      R"([{"ph": "X", "cat": "kernel", "name": "k", "ts": 5, "dur": 1, "args": {"correlation": 7.0}}])");
  REQUIRE(arr.gpu_ops.size() == 1);
  CHECK(arr.gpu_ops[0].correlation == 7);
  CHECK(arr.n_events == 1);
}

TEST_CASE("trace JSON readers: the portable reader refuses broken traces", "[trace]") {
  const std::string json = flame::trace::read_trace_text(kRealTrace);
  for (const double frac : {0.0001, 0.3, 0.99999}) {
    const auto cut = static_cast<std::size_t>(static_cast<double>(json.size()) * frac);
    INFO("cut at byte " << cut);
    CHECK_THAT(portable_error(json.substr(0, cut)), Contains("mem.json") && Contains("truncated JSON"));
  }
  CHECK_THAT(portable_error(json.substr(0, json.find("},", json.size() / 2) + 1)),
             Contains("truncated JSON"));
  std::string mangled = json;
  mangled.replace(mangled.find("\"dur\"", json.size() / 2), 5, "\"dur\" ,");
  CHECK_THAT(portable_error(mangled), Contains("malformed JSON in traceEvents["));

  CHECK_THAT(portable_error(R"({"traceEvents": []} trailing)"), Contains("after its end"));
  CHECK_THAT(portable_error(R"({"traceEvents": [1, 2]})"), Contains("traceEvents[0] is not a JSON object"));
  CHECK_THAT(portable_error(R"({"schemaVersion": 1, "deviceProperties": []})"),
             Contains("no \"traceEvents\""));
  CHECK_THAT(portable_error(R"({"traceEvents": {"ph": "X"}})"), Contains("not an array"));
  CHECK_THAT(portable_error(R"({"traceEvents": [], "traceEvents": []})"), Contains("more than one"));
  CHECK_THAT(portable_error(kineto_trace({x_event("kernel", "k", "1", "2")})), Contains("args.correlation"));
  CHECK_THAT(portable_error(R"({"traceEvents": [{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel",
                                                 "ts": "soon", "dur": 1, "args": {"correlation": 3}}]})"),
             Contains("'ts' is not a number"));
  CHECK_THAT(portable_error(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 5, "dur": -1,
                                                 "args": {"correlation": 3}}]})"),
             Contains("negative 'dur'"));
  CHECK_THAT(portable_error(R"({"traceEvents": [{"ph": "X", "cat": 7, "name": "k", "ts": 5, "dur": 1}]})"),
             Contains("traceEvents[0]") && Contains("unexpected JSON type"));
}

TEST_CASE("trace JSON readers: the wall-clock anchor places the iterations in Unix time", "[trace]") {
  // torch >= 2.4 writes baseTimeNanoseconds before or after traceEvents; ts is relative to it.
  const std::string events =
      R"("traceEvents": [
  {"ph": "X", "cat": "user_annotation", "name": "iter0", "ts": 1000, "dur": 10},
  {"ph": "X", "cat": "user_annotation", "name": "iter1", "ts": 1020, "dur": 10},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1001, "dur": 1, "args": {"correlation": 1}},
  {"ph": "X", "cat": "kernel", "name": "k", "ts": 1002, "dur": 5, "args": {"correlation": 1}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1021, "dur": 1, "args": {"correlation": 2}},
  {"ph": "X", "cat": "kernel", "name": "k", "ts": 1028, "dur": 7, "args": {"correlation": 2}}])";
  for (const std::string& json : {"{\"baseTimeNanoseconds\": 1700000000000000000, " + events + "}",
                                  "{" + events + ", \"baseTimeNanoseconds\": 1700000000000000000}"}) {
    const auto p = portable(json);
    const auto reference = flame::trace::parse_trace_events(json, "mem.json");
    REQUIRE(p.base_time_ns);
    CHECK(*p.base_time_ns == 1700000000000000000LL);
    CHECK(reference.base_time_ns == p.base_time_ns);
    const auto s = flame::trace::build_trace_summary(p);
    const auto w = flame::trace::iterations_wall_window(s);
    REQUIRE(w);
    CHECK(w->begin_ns == 1700000000000000000LL + 1'000'000);
    // The second iteration's host range ends at 1030 us, its kernel at 1035 us: the window ends there.
    CHECK(w->end_ns == 1700000000000000000LL + 1'035'000);
  }
  // Without the anchor (torch < 2.4) there is no window; a non-integer anchor is ignored.
  const auto none = portable("{" + events + "}");
  CHECK_FALSE(none.base_time_ns);
  CHECK_FALSE(flame::trace::iterations_wall_window(flame::trace::build_trace_summary(none)));
  CHECK_FALSE(portable("{\"baseTimeNanoseconds\": \"soon\", " + events + "}").base_time_ns);
  CHECK_FALSE(flame::trace::parse_trace_events("{\"baseTimeNanoseconds\": \"soon\", " + events + "}", "m")
                  .base_time_ns);
}

TEST_CASE("trace JSON readers: a layer call's flame_* args describe its segment", "[trace]") {
  // args before and after the category, an integer and a float feature, an unknown flame_ argument
  // and a non-numeric one (ignored); the second iteration's call says nothing (the first describes).
  const std::string json = R"({"traceEvents": [
  {"ph": "X", "cat": "user_annotation", "name": "iter0", "ts": 1000, "dur": 10},
  {"ph": "X", "args": {"flame_type": "Conv2d", "flame_macs": 118013952, "flame_bytes_in": 6.0e5,
   "flame_bytes_out": 3211264, "flame_param_bytes": 37632, "flame_flops": 0, "flame_other": 3,
   "flame_kernels": "x"}, "cat": "user_annotation", "name": "u0:conv1", "ts": 1001, "dur": 4},
  {"ph": "X", "cat": "user_annotation", "name": "iter1", "ts": 1020, "dur": 10},
  {"ph": "X", "cat": "user_annotation", "name": "u0:conv1", "ts": 1021, "dur": 4, "args": {"External id": 3}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1002, "dur": 1, "args": {"correlation": 1}},
  {"ph": "X", "cat": "kernel", "name": "k", "ts": 1003, "dur": 5, "args": {"correlation": 1}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1022, "dur": 1, "args": {"correlation": 2}},
  {"ph": "X", "cat": "kernel", "name": "k", "ts": 1023, "dur": 5, "args": {"correlation": 2}}]})";
  for (const auto& events : {portable(json), flame::trace::parse_trace_events(json, "mem.json")}) {
    REQUIRE(events.calls.size() == 2);
    CHECK(events.calls[0].type == "Conv2d");
    REQUIRE(events.calls[0].features);
    CHECK(events.calls[0].features->macs == 118013952.0);
    CHECK(events.calls[0].features->bytes_in == 6.0e5);
    CHECK(events.calls[0].features->bytes_out == 3211264.0);
    CHECK(events.calls[0].features->param_bytes == 37632.0);
    CHECK(events.calls[1].type.empty());
    CHECK_FALSE(events.calls[1].features);
    const auto s = flame::trace::build_trace_summary(events);
    REQUIRE(s.profile.segments.size() == 3);
    const auto& call = s.profile.segments[1];
    CHECK(call.name == "conv1");
    CHECK(call.type == "Conv2d");
    REQUIRE(call.features);
    CHECK(call.features->macs == 118013952.0);
    CHECK(call.n_kernels == 1);
    CHECK_FALSE(s.profile.segments[0].features);
  }
  // A negative feature is refused by both readers, naming the event.
  std::string bad = json;
  bad.replace(bad.find("\"flame_param_bytes\": 37632"), 26, "\"flame_param_bytes\": -1");
  CHECK_THAT(portable_error(bad), Contains("traceEvents[1]") && Contains("flame_"));
  CHECK_THAT(error_of<flame::trace::TraceError>([&] { flame::trace::parse_trace_events(bad, "m"); }),
             Contains("traceEvents[1]") && Contains("flame_"));
}
