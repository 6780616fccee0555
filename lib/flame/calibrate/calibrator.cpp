#include "flame/calibrate/calibrator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace flame::calibrate {

Calibrator::Calibrator(CalibratorOptions options) : o_(options) {}

std::string Calibrator::key(const std::string& model, const std::string& phase, int ctx) {
  if (phase.empty() && ctx <= 0) return model;
  int bucket = 1;
  while (bucket < ctx && bucket < (1 << 30)) bucket <<= 1;
  return model + "/" + (phase.empty() ? "any" : phase) + (ctx > 0 ? "/ctx" + std::to_string(bucket) : "");
}

std::string Calibrator::model_id(const std::string& name, const std::string& digest) {
  return digest.empty() ? name : name + "@" + digest;
}

std::vector<std::string> Calibrator::retain(const std::vector<std::string>& served_ids) {
  const auto served = [&](const std::string& k) {
    return std::any_of(served_ids.begin(), served_ids.end(), [&](const std::string& id) {
      return k == id || (k.size() > id.size() && k.compare(0, id.size(), id) == 0 && k[id.size()] == '/');
    });
  };
  std::vector<std::pair<uint64_t, std::string>> stale;
  for (const auto& [k, s] : states_)
    if (!served(k)) stale.emplace_back(s.seen, k);
  std::vector<std::string> dropped;
  if (stale.size() <= o_.max_stale_buckets) return dropped;
  std::sort(stale.begin(), stale.end());  // least recently observed first
  for (size_t i = 0; i < stale.size() - o_.max_stale_buckets; ++i) {
    states_.erase(stale[i].second);
    dropped.push_back(stale[i].second);
  }
  return dropped;
}

double Calibrator::factor(const std::string& key) const {
  auto it = states_.find(key);
  return it == states_.end() ? 1.0 : it->second.factor;
}

double Calibrator::divisor(const std::string& key, double safety_margin_pct) const {
  double margin = safety_margin_pct / 100.0;
  auto it = states_.find(key);
  if (it == states_.end()) return 1.0 + margin;
  if (o_.noise_z > 0 && it->second.samples >= o_.min_noise_samples)
    margin = std::max(margin, o_.noise_z * it->second.spread());
  return it->second.factor * (1.0 + margin);
}

bool Calibrator::observe(const std::string& key, double model_ms, double measured_ms) {
  if (!(model_ms > 0) || !(measured_ms > 0) || !std::isfinite(model_ms) || !std::isfinite(measured_ms))
    return false;
  CalibrationState& s = states_[key];
  s.seen = ++observations_;
  const double ratio = measured_ms / model_ms;
  s.last_ratio = ratio;
  const double rel = ratio / s.factor;
  if (rel > o_.outlier_ratio || rel < 1.0 / o_.outlier_ratio) {
    ++s.rejected;
    const bool same_side = s.pending.empty() || ((s.pending.back() > s.factor) == (ratio > s.factor));
    if (!same_side) s.pending.clear();
    s.pending.push_back(ratio);
    if (static_cast<int>(s.pending.size()) < o_.regime_change_run) return false;
    std::vector<double> v = s.pending;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    s.factor = std::clamp(v[v.size() / 2], o_.min_factor, o_.max_factor);
    s.pending.clear();
    ++s.samples;
    return true;
  }
  s.pending.clear();
  s.variance = (1 - o_.alpha) * s.variance + o_.alpha * (rel - 1) * (rel - 1);
  s.factor = std::clamp((1 - o_.alpha) * s.factor + o_.alpha * ratio, o_.min_factor, o_.max_factor);
  ++s.samples;
  return true;
}

void Calibrator::set_options(const CalibratorOptions& options) {
  o_ = options;
  for (auto& [k, s] : states_) s.factor = std::clamp(s.factor, o_.min_factor, o_.max_factor);
}

nlohmann::json to_json(const CalibrationState& s) {
  return {{"factor", s.factor},         {"samples", s.samples}, {"rejected", s.rejected},
          {"last_ratio", s.last_ratio}, {"spread", s.spread()}, {"seen", s.seen}};
}

nlohmann::json Calibrator::to_json() const {
  nlohmann::json buckets = nlohmann::json::object();
  for (const auto& [k, s] : states_) buckets[k] = flame::calibrate::to_json(s);
  nlohmann::json out = {{"version", 1}, {"buckets", buckets}};
  if (!set_aside_.empty()) out["set_aside"] = set_aside_;
  return out;
}

namespace {

// One bucket of the state file, or why it cannot be used with these options.
std::string read_bucket(const nlohmann::json& v, const CalibratorOptions& o, CalibrationState& s) {
  if (!v.is_object() || !v.contains("factor") || !v["factor"].is_number()) return "no numeric factor";
  s.factor = v["factor"].get<double>();
  if (!std::isfinite(s.factor) || s.factor < o.min_factor || s.factor > o.max_factor)
    return fmt::format("factor {} outside [{}, {}]", s.factor, o.min_factor, o.max_factor);
  const auto count = [&](const char* key) -> std::optional<long> {
    if (!v.contains(key)) return 0L;
    if (!v[key].is_number_integer() || v[key].get<long>() < 0) return std::nullopt;
    return v[key].get<long>();
  };
  const auto samples = count("samples"), rejected = count("rejected");
  if (!samples || !rejected) return "samples and rejected must be non-negative integers";
  s.samples = *samples;
  s.rejected = *rejected;
  const double last =
      v.contains("last_ratio") && v["last_ratio"].is_number() ? v["last_ratio"].get<double>() : 0.0;
  s.last_ratio = std::isfinite(last) ? last : 0.0;
  const double spread = v.contains("spread") && v["spread"].is_number() ? v["spread"].get<double>() : 0.0;
  if (!std::isfinite(spread) || spread < 0 || spread > 10) return "spread out of range";
  s.variance = spread * spread;
  s.seen = v.contains("seen") && v["seen"].is_number_unsigned() ? v["seen"].get<uint64_t>() : 0;
  return "";
}

}  // namespace

std::vector<std::string> Calibrator::load_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("buckets") || !j["buckets"].is_object())
    throw std::runtime_error("calibration state: expected {\"version\": 1, \"buckets\": {...}}");
  std::map<std::string, CalibrationState> next;
  nlohmann::json aside = nlohmann::json::object();
  std::vector<std::string> problems;
  const auto take = [&](const std::string& k, const nlohmann::json& v) {
    CalibrationState s;
    const std::string why = read_bucket(v, o_, s);
    if (why.empty()) {
      next[k] = s;
      return;
    }
    aside[k] = v;
    problems.push_back(fmt::format("calibration bucket '{}' set aside: {}", k, why));
  };
  for (const auto& [k, v] : j["buckets"].items()) take(k, v);
  if (j.contains("set_aside") && j["set_aside"].is_object())
    for (const auto& [k, v] : j["set_aside"].items())
      if (!next.count(k) && !aside.contains(k)) take(k, v);
  states_ = std::move(next);
  set_aside_ = std::move(aside);
  observations_ = 0;
  for (const auto& [k, st] : states_) observations_ = std::max(observations_, st.seen);
  return problems;
}

}  // namespace flame::calibrate
