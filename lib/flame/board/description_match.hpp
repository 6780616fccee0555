#pragma once
// Which board description fits a discovered board (docs/board-format.md, "Matching a board").
// Descriptions supply what sysfs lacks (EMC rates, nvpmodel caps), so picking the wrong one is worse
// than picking none: modules that share a SoC and CPU table (Orin Nano 4GB and 8GB, Orin NX 8GB and
// 16GB, AGX Orin 32GB and 64GB) are told apart by their device-tree compatible strings.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "flame/board/board.hpp"
#include "flame/board/description.hpp"

namespace flame::board {

struct DescriptionMatch {
  std::optional<BoardDescription> description;  // the chosen one, if any
  std::string reason;                           // one line for logs: why it was chosen or why none was
};

// The descriptions in dir (*.yaml, in file-name order). A file that fails to parse is skipped and
// named in problems, as is a directory that cannot be listed.
std::vector<BoardDescription> load_descriptions(const std::filesystem::path& dir,
                                                std::vector<std::string>* problems = nullptr);

// 1. A candidate whose `compatible` shares a string with the board's device-tree compatible list
//    wins; among several, the one sharing the earliest (most specific) entry of the board's list.
// 2. Otherwise, the candidates with the board's SoC (or none given) and its CPU-wide frequency table.
// Several left (a tie in 1, narrowed by the rule of 2 where that leaves any, or several in 2): they
// must agree on the EMC section and the ceilings, else none is chosen (ambiguous); if they agree the
// first is taken.
DescriptionMatch match_description(const Board& board, const std::vector<BoardDescription>& candidates);

// The description flamed and `flame profile --board auto` use: `board_file` when one is given (a
// file that cannot be loaded throws), else the match among the shipped ones in `shipped_dir`.
DescriptionMatch choose_description(const Board& board, const std::filesystem::path& board_file,
                                    const std::filesystem::path& shipped_dir,
                                    std::vector<std::string>* problems = nullptr);

}  // namespace flame::board
