#pragma once
// A tiny SVG writer for the evaluation report: line charts (several series, optional step drawing and
// a horizontal reference line) and bar charts. No dependencies; the output is a standalone <svg>.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flame::eval {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  std::string color;                              // empty = from the palette
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::optional<double> reference_y;  // e.g. 1.0 for response / deadline
  std::string reference_label;
  bool steps = false;  // hold each value until the next x (clocks)
  int width = 760, height = 300;
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::pair<std::string, double>> bars;
  int width = 520, height = 300;
};

std::string to_svg(const LineChart& c);
std::string to_svg(const BarChart& c);
// XML-escapes text for element content and attribute values.
std::string svg_escape(const std::string& s);

}  // namespace flame::eval
