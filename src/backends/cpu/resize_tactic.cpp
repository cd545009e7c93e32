// Resize in nearest mode on float32 ("cpu.resize.nearest"), the upsampling of detection and
// segmentation necks (PaddleOCR's DB head, FPNs, UNets): the input row and column every output
// row and column reads are computed once (ops::nearestResizeIndices, the reference's own rule,
// any scale, transformation and rounding); then each output row gathers its columns from one
// input row, and a row that reads the same input row as the one before it copies that row. The
// reference walks every element with an index odometer on one thread (29 of PP-OCRv4's 150 ms).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "core/shape_util.h"
#include "ops/resize.h"

namespace kiln::backends::cpu {

namespace {

// Output elements a task takes at least: a row is a short copy, and waking a worker costs
// microseconds.
constexpr int64_t kGrainElements = int64_t{32} << 10;

// The per-dimension source indices when @p spec is a nearest Resize of float32 that only
// resizes its last two dimensions; empty otherwise.
std::vector<std::vector<int64_t>> planeIndices(const NodeSpec& spec) {
  if (spec.inputs.empty() || spec.outputs.size() != 1) return {};
  for (std::size_t i = 1; i < spec.inputs.size(); ++i) {
    if (spec.inputs[i].present) return {};  // scales, sizes or roi computed at run time
  }
  const ir::TensorInfo& x = spec.inputs[0];
  const ir::TensorInfo& y = spec.outputs[0];
  const int32_t rank = x.dims.nbDims;
  if (x.dtype != DataType::kFLOAT || y.dtype != DataType::kFLOAT || rank < 2 ||
      y.dims.nbDims != rank || x.boundedExtents != 0 || y.boundedExtents != 0 ||
      !isFullyKnown(x.dims) || !isFullyKnown(y.dims)) {
    return {};
  }
  auto indices = ops::nearestResizeIndices(spec.node.attrs, x.dims);
  if (indices.size() != static_cast<std::size_t>(rank)) return {};
  for (int32_t d = 0; d < rank; ++d) {
    const auto& map = indices[static_cast<std::size_t>(d)];
    if (static_cast<int64_t>(map.size()) != y.dims[d]) return {};
    // The leading dimensions (batch, channels) must map one to one.
    if (d < rank - 2) {
      if (x.dims[d] != y.dims[d]) return {};
      for (std::size_t i = 0; i < map.size(); ++i) {
        if (map[i] != static_cast<int64_t>(i)) return {};
      }
    }
  }
  return indices;
}

class NearestResizeKernel final : public Kernel {
 public:
  explicit NearestResizeKernel(const NodeSpec& spec) {
    auto indices = planeIndices(spec);
    const Dims& x = spec.inputs[0].dims;
    const int32_t rank = x.nbDims;
    rows_ = std::move(indices[static_cast<std::size_t>(rank - 2)]);
    columns_ = std::move(indices[static_cast<std::size_t>(rank - 1)]);
    inRows_ = x[rank - 2];
    inColumns_ = x[rank - 1];
  }

  void execute(const ir::KernelContext& ctx) const override {
    const auto outRows = static_cast<int64_t>(rows_.size());
    const auto outColumns = static_cast<int64_t>(columns_.size());
    const int64_t total = ctx.output(0).count();
    if (total == 0) return;
    const int64_t rowsTotal = total / outColumns;  // every plane's output rows
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t grain = std::max<int64_t>(1, kGrainElements / outColumns);
      parallelTasks(pool, rowsTotal, grain, [&](int64_t begin, int64_t end, int32_t) {
        for (int64_t r = begin; r < end; ++r) {
          const int64_t plane = r / outRows;
          const int64_t row = r % outRows;
          float* out = y + r * outColumns;
          const auto source = rows_[static_cast<std::size_t>(row)];
          if (r > begin && row > 0 && rows_[static_cast<std::size_t>(row - 1)] == source) {
            std::memcpy(out, out - outColumns,
                        sizeof(float) * static_cast<std::size_t>(outColumns));
            continue;
          }
          const float* in = x + (plane * inRows_ + source) * inColumns_;
          for (int64_t c = 0; c < outColumns; ++c)
            out[c] = in[columns_[static_cast<std::size_t>(c)]];
        }
      });
    });
  }

 private:
  std::vector<int64_t> rows_;     //!< input row of each output row
  std::vector<int64_t> columns_;  //!< input column of each output column
  int64_t inRows_ = 0;
  int64_t inColumns_ = 0;
};

class NearestResizeTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.resize.nearest"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override { return !planeIndices(spec).empty(); }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<NearestResizeKernel>(spec);
  }
};

}  // namespace

void registerResizeTactics(TacticRegistry& registry) {
  registry.add("Resize", std::make_unique<NearestResizeTactic>());
}

}  // namespace kiln::backends::cpu
