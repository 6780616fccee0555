#include "flame/features/feature_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flame/fit/nnls.hpp"

namespace flame::features {
namespace {

// Accumulates weighted normal equations from sparse rows.
class NormalEquations {
 public:
  explicit NormalEquations(int n) : g_(Eigen::MatrixXd::Zero(n, n)), h_(Eigen::VectorXd::Zero(n)) {}
  void add(std::span<const std::pair<int, double>> x, double y, double w) {
    for (const auto& [i, a] : x) {
      h_(i) += w * w * a * y;
      for (const auto& [j, b] : x) g_(i, j) += w * w * a * b;
    }
  }
  Eigen::VectorXd solve() const { return fit::solve_nnls_normal(g_, h_).x; }

 private:
  Eigen::MatrixXd g_;
  Eigen::VectorXd h_;
};

struct Sample {
  const FeatureRow* row;
  double y;
  double w;
};

std::array<double, 3> call_features(const FeatureRow& r) {
  return {1.0, r.act_bytes, r.param_bytes};
}
std::array<double, 3> glue_features(const FeatureRow& r) {
  return {1.0, r.prev_bytes_out, r.attention};
}

void extend(GroupFit& g, double size) {
  const bool first = g.min_size == 0 && g.max_size == 0;
  g.min_size = first ? size : std::min(g.min_size, size);
  g.max_size = first ? size : std::max(g.max_size, size);
}

double dot(const GroupCoefficients& c, const std::array<double, 3>& x) {
  return c[0] * x[0] + c[1] * x[1] + c[2] * x[2];
}

// Joint fit of per-group {floor, act, param} columns plus one MAC column per dtype. `key` maps a
// row to its group ("" pools every call into one group).
template <class Key>
void fit_calls(const std::vector<Sample>& samples, Key key, std::map<std::string, GroupFit>& groups,
               std::map<std::string, double>& mac) {
  std::map<std::string, int> group_col, mac_col;
  for (const auto& s : samples) group_col.emplace(key(*s.row), 0);
  int n = 0;
  for (auto& [k, col] : group_col) col = (n += 3) - 3;
  for (const auto& s : samples)
    if (s.row->macs > 0) mac_col.emplace(s.row->dtype, 0);
  for (auto& [k, col] : mac_col) col = n++;
  if (n == 0) return;
  NormalEquations eq(n);
  std::vector<std::pair<int, double>> x;
  for (const auto& s : samples) {
    x.clear();
    const int c = group_col.at(key(*s.row));
    const auto f = call_features(*s.row);
    for (int j = 0; j < 3; ++j)
      if (f[j] != 0) x.emplace_back(c + j, f[j]);
    if (s.row->macs > 0) x.emplace_back(mac_col.at(s.row->dtype), s.row->macs);
    eq.add(x, s.y, s.w);
  }
  const Eigen::VectorXd beta = eq.solve();
  for (const auto& [k, c] : group_col) groups[k].coef = {beta(c), beta(c + 1), beta(c + 2)};
  for (const auto& [k, c] : mac_col) mac[k] = beta(c);
  for (const auto& s : samples) extend(groups[key(*s.row)], s.row->act_bytes);
}

// Independent 3-column fits per glue group (nothing is shared between glue groups).
template <class Key>
void fit_glue(const std::vector<Sample>& samples, Key key, int min_samples,
              std::map<std::string, GroupFit>& out) {
  std::map<std::string, std::vector<const Sample*>> by_group;
  for (const auto& s : samples) by_group[key(*s.row)].push_back(&s);
  std::vector<std::pair<int, double>> x;
  for (const auto& [k, members] : by_group) {
    if (static_cast<int>(members.size()) < min_samples) continue;
    NormalEquations eq(3);
    for (const Sample* s : members) {
      x.clear();
      const auto f = glue_features(*s->row);
      for (int j = 0; j < 3; ++j)
        if (f[j] != 0) x.emplace_back(j, f[j]);
      eq.add(x, s->y, s->w);
    }
    const Eigen::VectorXd beta = eq.solve();
    GroupFit& g = out[k];
    g.coef = {beta(0), beta(1), beta(2)};
    for (const Sample* s : members) extend(g, s->row->prev_bytes_out);
  }
}

}  // namespace

double FeatureModel::mac_rate(const std::map<std::string, double>& rates, const std::string& dtype) const {
  if (auto it = rates.find(dtype); it != rates.end()) return it->second;
  // An element type never seen with MACs: the slowest known rate, a conservative guess.
  double worst = 0;
  for (const auto& [k, v] : rates) worst = std::max(worst, v);
  return worst;
}

const GroupFit* FeatureModel::covering(const std::map<std::string, GroupFit>& groups, const std::string& key,
                                       double size, bool guard) const {
  const auto it = groups.find(key);
  if (it == groups.end()) return nullptr;
  const GroupFit& g = it->second;
  const double f = options_.max_extrapolation;
  if (guard && (size * f < g.min_size || size > g.max_size * f)) return nullptr;
  return &g;
}

FeatureLevel FeatureModel::level(const FeatureRow& row) const {
  if (row.kind == model::SegmentKind::Call)
    return covering(call_groups_, row.group, row.act_bytes, options_.guard_calls) ? FeatureLevel::Group
                                                                                  : FeatureLevel::Pooled;
  if (covering(glue_fine_, row.group, row.prev_bytes_out, true)) return FeatureLevel::Group;
  if (covering(glue_coarse_, row.coarse, row.prev_bytes_out, true)) return FeatureLevel::Coarse;
  return FeatureLevel::Pooled;
}

double FeatureModel::predict_ns(const FeatureRow& row) const {
  if (row.kind == model::SegmentKind::Call) {
    if (const GroupFit* g = covering(call_groups_, row.group, row.act_bytes, options_.guard_calls))
      return dot(g->coef, call_features(row)) + row.macs * mac_rate(ns_per_mac_, row.dtype);
    return dot(call_pooled_.coef, call_features(row)) + row.macs * mac_rate(ns_per_mac_pooled_, row.dtype);
  }
  if (const GroupFit* g = covering(glue_fine_, row.group, row.prev_bytes_out, true))
    return dot(g->coef, glue_features(row));
  if (const GroupFit* g = covering(glue_coarse_, row.coarse, row.prev_bytes_out, true))
    return dot(g->coef, glue_features(row));
  return dot(glue_pooled_.coef, glue_features(row));
}

std::vector<double> FeatureModel::predict_ns(std::span<const FeatureRow> rows) const {
  std::vector<double> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(predict_ns(r));
  return out;
}

FeatureModel fit_feature_model(std::span<const FeatureRow> rows, std::span<const double> gpu_ns,
                               const FeatureModelOptions& options) {
  if (rows.size() != gpu_ns.size())
    throw std::invalid_argument("feature model: rows and GPU times differ in length");
  std::vector<Sample> calls, glue;
  std::map<std::string, int> call_count;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = gpu_ns[i];
    if (!std::isfinite(y) || y < 0)
      throw std::invalid_argument("feature model: GPU times must be finite and >= 0");
    const Sample s{&rows[i], y, 1.0 / std::sqrt(std::max(y, options.weight_floor_ns))};
    if (rows[i].kind == model::SegmentKind::Call) {
      calls.push_back(s);
      ++call_count[rows[i].group];
    } else {
      glue.push_back(s);
    }
  }
  FeatureModel m;
  m.options_ = options;
  // Rare layer types stay out of the per-type fit (they would only fit themselves) and use the pool.
  std::vector<Sample> common;
  for (const auto& s : calls)
    if (call_count[s.row->group] >= options.min_group_samples) common.push_back(s);
  fit_calls(
      common, [](const FeatureRow& r) { return r.group; }, m.call_groups_, m.ns_per_mac_);
  std::map<std::string, GroupFit> pooled;
  fit_calls(
      calls, [](const FeatureRow&) { return std::string(); }, pooled, m.ns_per_mac_pooled_);
  if (!pooled.empty()) m.call_pooled_ = pooled.begin()->second;

  const int min = options.min_group_samples;
  fit_glue(
      glue, [](const FeatureRow& r) { return r.group; }, min, m.glue_fine_);
  fit_glue(
      glue, [](const FeatureRow& r) { return r.coarse; }, min, m.glue_coarse_);
  std::map<std::string, GroupFit> glue_pooled;
  fit_glue(
      glue, [](const FeatureRow&) { return std::string(); }, 1, glue_pooled);
  if (!glue_pooled.empty()) m.glue_pooled_ = glue_pooled.begin()->second;
  return m;
}

}  // namespace flame::features
