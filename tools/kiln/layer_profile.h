// kiln exec --dumpProfile / --exportProfile: per-layer times of a profiled run (a Profiler on
// the execution context), as trtexec reports them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "kiln/runtime.h"

namespace kiln::cli {

//! Collects the layer times an execution context reports, in layer order.
class LayerProfile final : public Profiler {
 public:
  void reportLayerTime(std::string_view layerName, float ms) noexcept override;

  struct Layer {
    std::string name;
    std::vector<float> ms;  //!< one per profiled inference
    double totalMs() const;
    double medianMs() const;
  };
  const std::vector<Layer>& layers() const noexcept { return layers_; }
  //! Profiled inferences (the most times any layer reported).
  int64_t runs() const;
  double totalMs() const;

 private:
  std::vector<Layer> layers_;
  std::size_t next_ = 0;  // where the next report most likely goes (layers come in order)
};

//! Runs @p iterations inferences of @p context with @p profile attached.
void runProfiled(ExecutionContext& context, LayerProfile& profile, int64_t iterations);

//! The table: each layer's total, average and median time and its share of the total.
void printProfile(std::ostream& out, const LayerProfile& profile);

//! trtexec's --exportProfile JSON: [{"count": N}, {"name", "timeMs", "averageMs", "medianMs",
//! "percentage"}, ...].
std::string profileJson(const LayerProfile& profile);

}  // namespace kiln::cli
