// libFuzzer target: a configuration file's text through the loader (tests/integration/fuzz.sh).
// The only exception allowed out of parse_config is ConfigError (what flamed reports and survives);
// an accepted configuration must dump to YAML that parses back to the same dump.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const flamed::Config c = flamed::parse_config(text, "fuzz.yaml");
    const std::string dumped = flamed::dump_config(c);
    if (flamed::dump_config(flamed::parse_config(dumped, "dump.yaml")) != dumped) std::abort();
  } catch (const flamed::ConfigError&) {
  }
  return 0;
}
