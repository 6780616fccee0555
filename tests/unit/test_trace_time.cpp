#include <catch2/catch.hpp>

#include "flame/trace/detail/trace_time.hpp"

using flame::trace::microseconds_text_to_ns;

TEST_CASE("trace time: decimal microseconds convert exactly to integer nanoseconds") {
  CHECK(microseconds_text_to_ns("4816217186168.500") == 4816217186168500);  // beyond double's exact range
  CHECK(microseconds_text_to_ns("4816217186168.501") == 4816217186168501);
  CHECK(microseconds_text_to_ns("17") == 17000);
  CHECK(microseconds_text_to_ns("0.832") == 832);
  CHECK(microseconds_text_to_ns("0.8") == 800);
  CHECK(microseconds_text_to_ns("1.2345") == 1235);  // rounded half away from zero
  CHECK(microseconds_text_to_ns("1.2344999") == 1234);
  CHECK(microseconds_text_to_ns("-2.5") == -2500);
  CHECK(microseconds_text_to_ns("1.5e3") == 1500000);
  CHECK(microseconds_text_to_ns("2E-3") == 2);
  CHECK_FALSE(microseconds_text_to_ns(""));
  CHECK_FALSE(microseconds_text_to_ns("\"12\""));
  CHECK_FALSE(microseconds_text_to_ns("12."));
  CHECK_FALSE(microseconds_text_to_ns(".5"));
  CHECK_FALSE(microseconds_text_to_ns("1.2.3"));
  CHECK_FALSE(microseconds_text_to_ns("null"));
  CHECK_FALSE(microseconds_text_to_ns("99999999999999999999"));
  CHECK_FALSE(microseconds_text_to_ns("1e300"));
}
