#include "flame/grid/detail/csv_table.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace flame::grid {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

}  // namespace

CsvTable CsvTable::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError(fmt::format("{}: cannot open file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

CsvTable CsvTable::parse(const std::string& text, const std::string& path) {
  CsvTable t;
  t.path_ = path;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1) {
      if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
      if (line.empty()) throw CsvError(fmt::format("{}:1: empty header line", path));
      t.header_ = split(line);
      continue;
    }
    if (line.empty()) continue;
    CsvRow row{lineno, split(line)};
    if (row.fields.size() != t.header_.size())
      throw CsvError(fmt::format("{}:{}: {} fields, but the header has {}", path, lineno, row.fields.size(),
                                 t.header_.size()));
    t.rows_.push_back(std::move(row));
  }
  if (lineno == 0) throw CsvError(fmt::format("{}: empty file", path));
  return t;
}

int CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return static_cast<int>(i);
  return -1;
}

size_t CsvTable::require(const std::string& name) const {
  const int c = column(name);
  if (c < 0) throw CsvError(fmt::format("{}:1: missing column '{}'", path_, name));
  return static_cast<size_t>(c);
}

void CsvTable::fail(const CsvRow& row, const std::string& what) const {
  throw CsvError(fmt::format("{}:{}: {}", path_, row.line, what));
}

double CsvTable::number(const CsvRow& row, size_t col) const {
  const std::string& s = row.fields.at(col);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v))
    fail(row, fmt::format("column '{}': '{}' is not a number", header_.at(col), s));
  return v;
}

long CsvTable::integer(const CsvRow& row, size_t col) const {
  const double v = number(row, col);
  if (v != std::floor(v) || std::abs(v) > 1e15)
    fail(row, fmt::format("column '{}': '{}' is not an integer", header_.at(col), row.fields.at(col)));
  return static_cast<long>(v);
}

}  // namespace flame::grid
