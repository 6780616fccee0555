#pragma once
// Clock options of flame's commands: one reading of "612M", "1.2G", "1190400k" or a plain number in
// the option's unit (lib/flame/board/frequency_text.hpp), refused as a usage error otherwise.
#include <CLI/CLI.hpp>
#include <string>

#include "flame/board/frequency_text.hpp"

namespace flame::cli {

template <class T>
CLI::Option* add_clock_option(CLI::App* app, const std::string& name, T& target, board::FrequencyUnit unit,
                              const std::string& help) {
  const std::string plain = unit == board::FrequencyUnit::kHz ? "kHz" : "Hz";
  return app
      ->add_option(name, target,
                   help + "; a plain number is " + plain + ", or give a unit: 612M, 1.2G, 1190400k")
      ->transform(CLI::Validator(
          [unit](std::string& text) -> std::string {
            try {
              text = std::to_string(board::parse_frequency(text, unit));
              return {};
            } catch (const board::FrequencyTextError& e) {
              return e.what();
            }
          },
          "FREQ", "frequency"));
}

}  // namespace flame::cli
