#include "flame/features/detail/segment_features.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace flame::features {
namespace {

bool is_index(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

const model::Segment* call_at(std::span<const model::Segment> segments, size_t i) {
  return i < segments.size() && segments[i].kind == model::SegmentKind::Call ? &segments[i] : nullptr;
}

}  // namespace

std::string leaf_name(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  size_t last = parts.size();
  while (last > 0 && is_index(parts[last - 1])) --last;
  std::string out = last > 0 ? std::string(parts[last - 1]) : std::string();
  for (size_t i = last; i < parts.size(); ++i) out += out.empty() ? "#" : ".#";
  return out;
}

std::vector<FeatureRow> feature_rows(const FeatureContext& w, std::span<const model::Segment> segments) {
  std::vector<FeatureRow> rows;
  rows.reserve(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    const model::Segment& s = segments[i];
    FeatureRow r;
    r.kind = s.kind;
    r.dtype = w.dtype;
    if (s.kind == model::SegmentKind::Call) {
      r.group = s.type;
      if (s.features) {
        r.macs = s.features->macs;
        r.act_bytes = s.features->bytes_in + s.features->bytes_out;
        r.param_bytes = s.features->param_bytes;
      }
    } else {
      const model::Segment* prev = i > 0 ? call_at(segments, i - 1) : nullptr;
      const model::Segment* next = call_at(segments, i + 1);
      r.group = fmt::format("{}>{}|{}|{}", prev ? leaf_name(prev->name) : "^",
                            next ? leaf_name(next->name) : "$", w.dtype, w.phase);
      r.coarse = fmt::format("{}>{}", prev ? prev->type : "^", next ? next->type : "$");
      r.prev_bytes_out = prev && prev->features ? prev->features->bytes_out : 0;
      r.attention = r.prev_bytes_out * w.ctx;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace flame::features
