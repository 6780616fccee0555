#pragma once
// Versioned YAML model files (docs/model-format.md): what `flame fit` writes and flamed loads.
// Top level: format: flame-model, version: 1 or 2, kind: <kind>, name: <served name>; the rest depends
// on the kind. Loading dispatches on kind; errors name file:line:column.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flame/model/latency_model.hpp"
#include "flame/model/layerwise_model.hpp"
#include "flame/model/segment_profile.hpp"

namespace flame::model {

// Version 2 added the host curve's EMC term to kind layerwise (a third `cpu` value); version 3 the
// busy power form (`power.terms`) of kind layerwise; version 4 `derived` (a model from one profiled
// point, which must be served with a wider margin, so a build that does not know it must refuse it).
// Additive optional keys keep the version (each segment's `layer` is in version 3 files), so only
// derived files are written as version 4. Grid files are unchanged and still written as version 1,
// and older files of every kind load as before.
inline constexpr int kModelFileVersion = 4;           // the newest this build reads
inline constexpr int kUnderivedModelFileVersion = 3;  // what files without `derived` are written as
inline constexpr int kOldestModelFileVersion = 1;

// Bounds on what a model file may hold, so that loading one (also on flamed's event loop at a
// reload) stays well under a second: real files are tens of kilobytes and hundreds of segments.
inline constexpr std::uintmax_t kMaxModelFileBytes = 4u << 20;
inline constexpr std::size_t kMaxModelSegments = 20000;

struct ModelFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A layer-wise model whose curves come from a prior, not from its own profile (docs/feature-model.md,
// "Curves from one profiled point"): served with a wider margin until calibration confirms it.
struct Derivation {
  std::string prior;                // the prior as `flame profile --prior` named it
  std::vector<std::string> models;  // the fully profiled models the prior learned from
  std::size_t profiled = 1;         // clock combinations this model itself was profiled at
  bool operator==(const Derivation&) const = default;
};

// What a layer-wise file holds beside the model.
struct LayerwiseFileExtras {
  std::vector<SegmentTraits> traits;  // per segment; empty = not known
  std::optional<Derivation> derived;
};

struct LoadedModel {
  std::string name;
  std::string kind;
  std::string board;   // the board the model was fitted for ("" = not said); flamed serves it only there
  std::string digest;  // of the file's text (CRC-32, hex): a re-profiled model is a different model
  std::shared_ptr<const LatencyModel> model;
  LayerwiseFileExtras extras;  // kind layerwise
};

// The digest load_model_file gives a file with this text.
std::string model_digest(const std::string& text);

LoadedModel load_model_file(const std::filesystem::path& path);
LoadedModel parse_model_file(const std::string& yaml, const std::string& source);

// kind: layerwise
class LayerwiseLatencyModel : public LatencyModel {
 public:
  explicit LayerwiseLatencyModel(LayerwiseModel m) : m_(std::move(m)) {}
  Estimate estimate(const Clocks& clocks, const Workload&) const override { return m_.estimate(clocks); }
  std::string kind() const override { return "layerwise"; }
  const LayerwiseModel& layerwise() const { return m_; }

 private:
  LayerwiseModel m_;
};

std::string layerwise_to_yaml(const LayerwiseModel& m, const std::string& name, const std::string& board,
                              const std::string& provenance, const LayerwiseFileExtras& extras = {});

}  // namespace flame::model
