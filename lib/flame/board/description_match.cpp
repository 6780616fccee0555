#include "flame/board/description_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <system_error>

namespace flame::board {

namespace fs = std::filesystem;

namespace {

using Candidates = std::vector<const BoardDescription*>;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

std::string names(const Candidates& ds) {
  std::vector<std::string> n;
  for (const auto* d : ds) n.push_back(d->name);
  return joined(n);
}

std::string table_text(const std::vector<std::uint64_t>& t) {
  if (t.empty()) return "unknown";
  return fmt::format("{} entries, {}-{} kHz", t.size(), t.front(), t.back());
}

bool same_soc_and_table(const BoardDescription& d, const Board& b, const std::vector<std::uint64_t>& table) {
  return !table.empty() && d.cpu.frequencies_khz == table && (d.soc.empty() || d.soc == b.identity.soc);
}

// What a description adds to a discovered board is its EMC section and its ceilings; candidates that
// agree on both are interchangeable here.
bool agree(const Candidates& ds) {
  return std::all_of(ds.begin(), ds.end(), [&](const BoardDescription* d) {
    return d->emc == ds.front()->emc && d->ceilings == ds.front()->ceilings;
  });
}

DescriptionMatch pick(const Candidates& ds, const std::string& why) {
  if (ds.size() == 1) return {*ds.front(), ds.front()->name + ": " + why};
  if (!agree(ds))
    return {std::nullopt,
            fmt::format("no board description chosen, ambiguous: {} all fit ({}) but disagree on "
                        "the EMC section or the ceilings",
                        names(ds), why)};
  const Candidates rest(ds.begin() + 1, ds.end());
  return {*ds.front(),
          fmt::format("{}: {}; {} fit as well and agree with it on the EMC section and the ceilings",
                      ds.front()->name, why, names(rest))};
}

}  // namespace

std::vector<BoardDescription> load_descriptions(const fs::path& dir, std::vector<std::string>* problems) {
  auto problem = [&](std::string text) {
    if (problems) problems->push_back(std::move(text));
  };
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".yaml" && it->is_regular_file(type_ec)) files.push_back(it->path());
  }
  if (ec) problem(fmt::format("{}: cannot list the board descriptions: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<BoardDescription> out;
  for (const auto& f : files) try {
      out.push_back(load_board_description(f.string()));
    } catch (const DescriptionError& e) {
      problem(e.what());  // names the file (and line) already
    }
  return out;
}

DescriptionMatch match_description(const Board& board, const std::vector<BoardDescription>& candidates) {
  if (candidates.empty()) return {std::nullopt, "no board descriptions to choose from"};
  const auto& compatible = board.identity.compatible;
  // The CPU table as `flame board dump` writes it: frequencies every policy offers.
  const auto table = describe(board).cpu.frequencies_khz;

  // 1. Device-tree compatible: the earlier in the board's list, the more specific the string.
  std::size_t best = compatible.size();
  Candidates tied;
  for (const auto& d : candidates) {
    std::size_t i = 0;  // the first entry of the board's list that d names
    while (i < compatible.size() &&
           std::find(d.compatible.begin(), d.compatible.end(), compatible[i]) == d.compatible.end())
      ++i;
    if (i == compatible.size() || i > best) continue;
    if (i < best) tied.clear();
    best = i;
    tied.push_back(&d);
  }
  if (!tied.empty()) {
    std::string why =
        fmt::format("device-tree compatible '{}' ({} of the board's {})", compatible[best],
                    best == 0 ? "the most specific" : fmt::format("entry {}", best + 1), compatible.size());
    if (tied.size() > 1) {  // the same module on different carriers, say: the CPU table may tell
      Candidates narrowed, dropped;
      for (const auto* d : tied) (same_soc_and_table(*d, board, table) ? narrowed : dropped).push_back(d);
      if (!narrowed.empty() && !dropped.empty()) {
        why += fmt::format("; of {}, only {} the board's SoC and CPU table ({})", names(tied),
                           names(narrowed) + (narrowed.size() == 1 ? " has" : " have"), table_text(table));
        tied = narrowed;
      }
    }
    return pick(tied, why);
  }

  // 2. SoC and CPU table.
  Candidates fit;
  for (const auto& d : candidates)
    if (same_soc_and_table(d, board, table)) fit.push_back(&d);
  const std::string soc = board.identity.soc.empty() ? "unknown" : board.identity.soc;
  if (fit.empty())
    return {
        std::nullopt,
        fmt::format("no board description fits: none names the board's device-tree compatible ({}) or has "
                    "its SoC ({}) and CPU table ({})",
                    joined(compatible), soc, table_text(table))};
  return pick(fit,
              fmt::format("no description names the board's device-tree compatible ({}); same SoC ({}) and "
                          "CPU table ({})",
                          joined(compatible), soc, table_text(table)));
}

DescriptionMatch choose_description(const Board& board, const std::filesystem::path& board_file,
                                    const std::filesystem::path& shipped_dir,
                                    std::vector<std::string>* problems) {
  if (!board_file.empty())
    return {load_board_description(board_file.string()), fmt::format("board_file {}", board_file.string())};
  return match_description(board, load_descriptions(shipped_dir, problems));
}

}  // namespace flame::board
