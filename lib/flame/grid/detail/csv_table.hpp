#pragma once
// A small CSV reader for the measurement files: comma-separated, one header line, no embedded
// newlines. It keeps source line numbers so that every error can name file:line.
#include <stdexcept>
#include <string>
#include <vector>

namespace flame::grid {

struct CsvError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CsvRow {
  int line = 0;  // 1-based line in the file
  std::vector<std::string> fields;
};

class CsvTable {
 public:
  // Throws CsvError when the file cannot be read, is empty, or a row has the wrong field count.
  static CsvTable read(const std::string& path);
  static CsvTable parse(const std::string& text, const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }
  const std::vector<CsvRow>& rows() const { return rows_; }

  // Column index by exact header name; -1 when absent.
  int column(const std::string& name) const;
  // Like column() but throws "file:1: missing column 'name'".
  size_t require(const std::string& name) const;

  // Typed access with errors of the form "file:line: column 'x': 'abc' is not a number".
  double number(const CsvRow& row, size_t col) const;
  long integer(const CsvRow& row, size_t col) const;
  const std::string& text(const CsvRow& row, size_t col) const { return row.fields.at(col); }
  [[noreturn]] void fail(const CsvRow& row, const std::string& what) const;

 private:
  std::string path_;
  std::vector<std::string> header_;
  std::vector<CsvRow> rows_;
};

}  // namespace flame::grid
