#include "flame/eval/detail/svg_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace flame::eval {
namespace {

const char* kPalette[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};

// A "nice" tick step (1, 2, 5 × 10^k) for about n ticks over a span.
double nice_step(double span, int n) {
  if (!(span > 0)) return 1;
  const double raw = span / n, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

struct Frame {
  double x0, x1, y0, y1;
  int left = 64, right = 150, top = 34, bottom = 44, w, h;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (w - left - right); }
  double py(double y) const { return h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom); }
};

std::string header(int w, int h, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">{3}</text>\n",
      w, h, w / 2, svg_escape(title));
}

std::string axes(const Frame& f, const std::string& xl, const std::string& yl, bool x_ticks) {
  std::string s;
  const double ys = nice_step(f.y1 - f.y0, 5);
  for (double y = std::ceil(f.y0 / ys) * ys; y <= f.y1 + 1e-9 * ys; y += ys)
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
        f.left, f.w - f.right, f.py(y), f.left - 4, f.py(y) + 4, std::round(y / ys) * ys);
  if (x_ticks) {
    const double xs = nice_step(f.x1 - f.x0, 8);
    for (double x = std::ceil(f.x0 / xs) * xs; x <= f.x1 + 1e-9 * xs; x += xs)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n", f.px(x),
                       f.h - f.bottom + 14, std::round(x / xs) * xs);
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                   f.left, f.top, f.w - f.left - f.right, f.h - f.top - f.bottom);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (f.left + f.w - f.right) / 2,
                   f.h - 8, svg_escape(xl));
  s += fmt::format(
      "<text x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0})\">{1}</text>\n",
      (f.top + f.h - f.bottom) / 2, svg_escape(yl));
  return s;
}

}  // namespace

std::string svg_escape(const std::string& in) {
  std::string s;
  for (char c : in) {
    switch (c) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      default:
        s += c;
    }
  }
  return s;
}

std::string to_svg(const LineChart& c) {
  Frame f{};
  f.w = c.width;
  f.h = c.height;
  f.x0 = f.y0 = std::numeric_limits<double>::infinity();
  f.x1 = f.y1 = -f.x0;
  for (const auto& s : c.series)
    for (auto [x, y] : s.points) {
      f.x0 = std::min(f.x0, x), f.x1 = std::max(f.x1, x);
      f.y0 = std::min(f.y0, y), f.y1 = std::max(f.y1, y);
    }
  if (c.reference_y) f.y0 = std::min(f.y0, *c.reference_y), f.y1 = std::max(f.y1, *c.reference_y);
  if (!std::isfinite(f.x0)) f.x0 = 0, f.x1 = 1, f.y0 = 0, f.y1 = 1;
  if (f.x1 <= f.x0) f.x1 = f.x0 + 1;
  f.y0 = std::min(f.y0, 0.0);  // from zero: the reader compares magnitudes
  if (f.y1 <= f.y0) f.y1 = f.y0 + 1;
  f.y1 += 0.05 * (f.y1 - f.y0);
  std::string out = header(f.w, f.h, c.title) + axes(f, c.x_label, c.y_label, true);
  if (c.reference_y)
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>"
        "<text x=\"{1}\" y=\"{3:.1f}\" text-anchor=\"end\">{4}</text>\n",
        f.left, f.w - f.right, f.py(*c.reference_y), f.py(*c.reference_y) - 3, svg_escape(c.reference_label));
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const std::string color = s.color.empty() ? kPalette[k % std::size(kPalette)] : s.color;
    std::string d;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      const auto [x, y] = s.points[i];
      if (i == 0)
        d += fmt::format("M{:.1f},{:.1f}", f.px(x), f.py(y));
      else if (c.steps)
        d += fmt::format("H{:.1f}V{:.1f}", f.px(x), f.py(y));
      else
        d += fmt::format("L{:.1f},{:.1f}", f.px(x), f.py(y));
    }
    if (!d.empty())
      out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\"/>\n", d, color);
    const int ly = f.top + 14 + static_cast<int>(k) * 16;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        f.w - f.right + 10, f.w - f.right + 28, ly, color, f.w - f.right + 32, ly + 4, svg_escape(s.name));
  }
  return out + "</svg>\n";
}

std::string to_svg(const BarChart& c) {
  Frame f{};
  f.w = c.width;
  f.h = c.height;
  f.right = 20;
  f.x0 = 0;
  f.x1 = std::max<double>(1, static_cast<double>(c.bars.size()));
  f.y0 = 0;
  f.y1 = 0;
  for (const auto& b : c.bars) f.y1 = std::max(f.y1, b.second);
  if (f.y1 <= 0) f.y1 = 1;
  f.y1 *= 1.12;
  std::string out = header(f.w, f.h, c.title) + axes(f, "", c.y_label, false);
  for (std::size_t k = 0; k < c.bars.size(); ++k) {
    const auto& [label, v] = c.bars[k];
    const double x0 = f.px(static_cast<double>(k) + 0.15), x1 = f.px(static_cast<double>(k) + 0.85);
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.3g}</text>"
        "<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        x0, f.py(v), x1 - x0, f.py(0) - f.py(v), kPalette[k % std::size(kPalette)], (x0 + x1) / 2,
        f.py(v) - 4, v, (x0 + x1) / 2, f.h - f.bottom + 14, svg_escape(label));
  }
  return out + "</svg>\n";
}

}  // namespace flame::eval
