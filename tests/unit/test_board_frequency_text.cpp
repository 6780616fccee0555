// Clock values with units (lib/flame/board/frequency_text.hpp).
#include <catch2/catch.hpp>

#include "flame/board/frequency_text.hpp"

using flame::board::frequency_text;
using flame::board::FrequencyTextError;
using flame::board::FrequencyUnit;
using flame::board::parse_frequency;

TEST_CASE("frequency text: units scale, a plain number keeps the option's unit", "[board][frequency]") {
  const auto hz = FrequencyUnit::Hz;
  const auto khz = FrequencyUnit::kHz;
  CHECK(parse_frequency("612", hz) == 612);
  CHECK(parse_frequency("612M", hz) == 612'000'000);
  CHECK(parse_frequency("612MHz", hz) == 612'000'000);
  CHECK(parse_frequency("612 mhz", hz) == 612'000'000);
  CHECK(parse_frequency("1.2G", hz) == 1'200'000'000);
  CHECK(parse_frequency("1190400k", hz) == 1'190'400'000);
  CHECK(parse_frequency("306000000Hz", hz) == 306'000'000);
  CHECK(parse_frequency("0.5k", hz) == 500);
  CHECK(parse_frequency("1190400", khz) == 1'190'400);
  CHECK(parse_frequency("1190400k", khz) == 1'190'400);
  CHECK(parse_frequency("1190.4M", khz) == 1'190'400);
  CHECK(parse_frequency("1.5G", khz) == 1'500'000);
  CHECK(parse_frequency("2000Hz", khz) == 2);
  CHECK(parse_frequency("18446744073709551615", hz) == 18446744073709551615ULL);
}

TEST_CASE("frequency text: what is refused names the text and why", "[board][frequency]") {
  const auto hz = FrequencyUnit::Hz;
  const auto khz = FrequencyUnit::kHz;
  for (const char* bad : {"", "M", "fast", "-5", "5 X", "5MM", "1.2.3G", "5  M", "0x10", "1e9"})
    CHECK_THROWS_AS(parse_frequency(bad, hz), FrequencyTextError);
  CHECK_THROWS_WITH(parse_frequency("0", hz), Catch::Contains("'0'") && Catch::Contains("above zero"));
  CHECK_THROWS_WITH(parse_frequency("1.5", hz), Catch::Contains("whole number of Hz"));
  CHECK_THROWS_WITH(parse_frequency("1500Hz", khz), Catch::Contains("whole number of kHz"));
  CHECK_THROWS_WITH(parse_frequency("18446744073709551616", hz), Catch::Contains("too large"));
  CHECK_THROWS_WITH(parse_frequency("20000000000G", hz), Catch::Contains("too large"));
  CHECK_THROWS_WITH(parse_frequency("5X", hz), Catch::Contains("unknown unit 'X'"));
}

TEST_CASE("frequency text: printed exactly, read back to the same value", "[board][frequency]") {
  CHECK(frequency_text(612'000'000, FrequencyUnit::Hz) == "612 MHz");
  CHECK(frequency_text(1'190'400, FrequencyUnit::kHz) == "1.1904 GHz");
  CHECK(frequency_text(306'000'001, FrequencyUnit::Hz) == "306.000001 MHz");
  CHECK(frequency_text(612, FrequencyUnit::Hz) == "612 Hz");
  CHECK(frequency_text(1'500, FrequencyUnit::Hz) == "1.5 kHz");
  for (std::uint64_t v : {1ULL, 999ULL, 1'000ULL, 306'000'000ULL, 1'300'500'000ULL, 2'035'200ULL})
    for (auto u : {FrequencyUnit::Hz, FrequencyUnit::kHz})
      CHECK(parse_frequency(frequency_text(v, u), u) == v);
}
