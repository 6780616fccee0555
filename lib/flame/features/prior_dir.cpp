#include "flame/features/prior_dir.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "flame/model/model_file.hpp"

namespace flame::features {

namespace fs = std::filesystem;

PriorDir load_prior_dir(const fs::path& dir, const std::string& board, const Clocks& ref,
                        const std::vector<double>& emc_levels, const std::string& exclude) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".yaml" || it->path().extension() == ".yml") files.push_back(it->path());
  if (ec) throw std::runtime_error(fmt::format("prior {}: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  PriorDir out;
  std::vector<ShapeSample> samples;
  for (const auto& f : files) {
    const std::string file = f.filename().string();
    model::LoadedModel m;
    try {
      m = model::load_model_file(f);
    } catch (const std::exception& e) {
      out.skipped.push_back(fmt::format("{}: {}", file, e.what()));
      continue;
    }
    const auto* lw = dynamic_cast<const model::LayerwiseLatencyModel*>(m.model.get());
    std::string why;
    if (!lw)
      why = fmt::format("kind {} (only layer-wise models teach a prior)", m.kind);
    else if (m.name == exclude)
      why = "the model being derived";
    else if (m.extras.derived)
      why = "itself derived from a prior";
    else if (!board.empty() && !m.board.empty() && m.board != board)
      why = fmt::format("fitted on board {}", m.board);
    else if (m.extras.traits.empty())
      why = "no segment traits (written before model files kept them)";
    else if (lw->layerwise().gpu_curves().front().emc_hz != emc_levels)
      why = "other EMC levels";
    if (!why.empty()) {
      out.skipped.push_back(fmt::format("{}: {}", file, why));
      continue;
    }
    const auto& layerwise = lw->layerwise();
    std::vector<model::Segment> segments;
    for (std::size_t i = 0; i < m.extras.traits.size(); ++i)
      segments.push_back(model::segment_at(i, layerwise.names()[i], m.extras.traits[i]));
    const auto shapes = shape_samples(layerwise, segments, ref);
    samples.insert(samples.end(), shapes.begin(), shapes.end());
    out.models.push_back(m.name);
    if (const auto& p = layerwise.power())
      if (const auto* busy = std::get_if<model::BusyPowerModel>(&*p)) out.power.push_back(*busy);
  }
  if (!samples.empty()) out.prior.emplace(std::move(samples), emc_levels);
  return out;
}

}  // namespace flame::features
