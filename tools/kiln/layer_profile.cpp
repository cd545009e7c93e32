#include "layer_profile.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_error.h"

namespace kiln::cli {

void LayerProfile::reportLayerTime(std::string_view layerName, float ms) noexcept {
  try {
    if (next_ >= layers_.size() || layers_[next_].name != layerName) {
      const auto it = std::find_if(layers_.begin(), layers_.end(),
                                   [&](const Layer& l) { return l.name == layerName; });
      if (it == layers_.end()) {
        layers_.push_back({std::string(layerName), {}});
        next_ = layers_.size() - 1;
      } else {
        next_ = static_cast<std::size_t>(it - layers_.begin());
      }
    }
    layers_[next_].ms.push_back(ms);
    next_ = next_ + 1 == layers_.size() ? 0 : next_ + 1;
  } catch (...) {
    // Out of memory while profiling: the sample is lost, the inference goes on.
  }
}

double LayerProfile::Layer::totalMs() const {
  double sum = 0;
  for (float t : ms) sum += t;
  return sum;
}

double LayerProfile::Layer::medianMs() const {
  if (ms.empty()) return 0;
  std::vector<float> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
}

int64_t LayerProfile::runs() const {
  std::size_t most = 0;
  for (const Layer& l : layers_) most = std::max(most, l.ms.size());
  return static_cast<int64_t>(most);
}

double LayerProfile::totalMs() const {
  double sum = 0;
  for (const Layer& l : layers_) sum += l.totalMs();
  return sum;
}

void runProfiled(ExecutionContext& context, LayerProfile& profile, int64_t iterations) {
  context.setProfiler(&profile);
  for (int64_t i = 0; i < iterations; ++i) {
    if (!context.enqueueV3()) {
      context.setProfiler(nullptr);
      throw CliError("inference failed in the profiled run");
    }
  }
  context.setProfiler(nullptr);
}

void printProfile(std::ostream& out, const LayerProfile& profile) {
  const double total = profile.totalMs();
  const int64_t runs = std::max<int64_t>(profile.runs(), 1);
  std::size_t width = 5;
  for (const auto& layer : profile.layers()) width = std::max(width, layer.name.size());
  width = std::min<std::size_t>(width, 60);
  char line[512];
  out << "[I] === Profile (" << profile.runs() << " iterations) ===\n";
  std::snprintf(line, sizeof(line), "[I] %-*s %12s %12s %12s %8s\n", static_cast<int>(width),
                "Layer", "Time (ms)", "Avg. (ms)", "Median (ms)", "Time %");
  out << line;
  for (const auto& layer : profile.layers()) {
    const double t = layer.totalMs();
    std::snprintf(line, sizeof(line), "[I] %-*s %12.4f %12.4f %12.4f %8.1f\n",
                  static_cast<int>(width), layer.name.c_str(), t, t / static_cast<double>(runs),
                  layer.medianMs(), total > 0 ? 100.0 * t / total : 0.0);
    out << line;
  }
  std::snprintf(line, sizeof(line), "[I] %-*s %12.4f %12.4f %12s %8.1f\n", static_cast<int>(width),
                "Total", total, total / static_cast<double>(runs), "", 100.0);
  out << line;
}

std::string profileJson(const LayerProfile& profile) {
  const double total = profile.totalMs();
  const int64_t runs = std::max<int64_t>(profile.runs(), 1);
  nlohmann::json doc = nlohmann::json::array();
  doc.push_back({{"count", profile.runs()}});
  for (const auto& layer : profile.layers()) {
    const double t = layer.totalMs();
    doc.push_back({{"name", layer.name},
                   {"timeMs", t},
                   {"averageMs", t / static_cast<double>(runs)},
                   {"medianMs", layer.medianMs()},
                   {"percentage", total > 0 ? 100.0 * t / total : 0.0}});
  }
  return doc.dump(2) + "\n";
}

}  // namespace kiln::cli
