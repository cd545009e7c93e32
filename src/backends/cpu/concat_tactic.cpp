// Concatenation on any data type ("cpu.concat"): the output seen as a run of byte ranges (one per
// outer index and input, as the reference copies them), split into equal byte spans over the
// pool, each span copied with memcpy. The reference copies the same bytes on one thread; a
// channel concat at batch 1 (SqueezeNet's Fire modules, GoogLeNet's inception blocks) has a
// single outer index, so the spans cut across inputs rather than across rows.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "ops/data_movement.h"

namespace kiln::backends::cpu {

namespace {

// Bytes per task below which a second thread does not pay: a copy is bound by memory bandwidth
// that the threads share, and waking a worker (or waiting for one that the OS has given the
// other core to something else) costs microseconds. Measured on a loaded 2-core VM: ~0.5 MB
// copies gain, ~0.4 MB ones lost.
constexpr int64_t kGrainBytes = 256 * 1024;
// Spans start on cache-line boundaries, so two threads never write the same line.
constexpr int64_t kLine = 64;

class ConcatKernel final : public Kernel {
 public:
  void execute(const ir::KernelContext& ctx) const override {
    const auto& out = ctx.output(0);
    const int32_t rank = out.dims.nbDims;
    const int64_t rawAxis = ctx.attrs().getInt("axis", ops::concatenationDefaultAxis(rank));
    const auto axis = static_cast<int32_t>(rawAxis < 0 ? rawAxis + rank : rawAxis);
    const auto esize = static_cast<int64_t>(elementSize(out.dtype));
    int64_t outer = 1;
    for (int32_t k = 0; k < axis; ++k) outer *= out.dims[k];
    int64_t inner = esize;
    for (int32_t k = axis + 1; k < rank; ++k) inner *= out.dims[k];
    // Each input's bytes per outer index, and where they start in an output row.
    std::vector<Part> parts;
    parts.reserve(ctx.inputs.size());
    int64_t rowBytes = 0;
    for (const auto& in : ctx.inputs) {
      const int64_t bytes = in.dims[axis] * inner;
      if (bytes == 0) continue;
      parts.push_back({in.as<const std::byte>(), bytes, rowBytes});
      rowBytes += bytes;
    }
    const int64_t total = outer * rowBytes;
    if (total == 0) return;  // an empty output: no data to point at
    auto* dst = out.as<std::byte>();
    const int64_t lines = (total + kLine - 1) / kLine;
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, lines, kGrainBytes / kLine, [&](int64_t b, int64_t e, int32_t) {
        copySpan(parts, rowBytes, dst, b * kLine, std::min(e * kLine, total));
      });
    });
  }

 private:
  struct Part {
    const std::byte* src;
    int64_t bytes;   //!< per outer index
    int64_t offset;  //!< in an output row
  };

  // Output bytes [begin, end): the pieces of the parts that fall there.
  static void copySpan(const std::vector<Part>& parts, int64_t rowBytes, std::byte* dst,
                       int64_t begin, int64_t end) {
    int64_t o = begin / rowBytes;
    int64_t r = begin % rowBytes;
    std::size_t i = 0;
    while (parts[i].offset + parts[i].bytes <= r) ++i;
    int64_t pos = begin;
    while (pos < end) {
      const Part& p = parts[i];
      const int64_t within = r - p.offset;
      const int64_t n = std::min(p.bytes - within, end - pos);
      std::memcpy(dst + pos, p.src + o * p.bytes + within, static_cast<std::size_t>(n));
      pos += n;
      r += n;
      if (++i == parts.size()) {
        i = 0;
        r = 0;
        ++o;
      }
    }
  }
};

class ConcatTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.concat"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.empty() || spec.outputs.size() != 1) return false;
    if (spec.outputs[0].dims.nbDims < 1) return false;
    for (const auto& in : spec.inputs) {
      if (!in.present || in.dtype != spec.outputs[0].dtype) return false;
    }
    return true;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& /*spec*/) const override {
    return std::make_unique<ConcatKernel>();
  }
};

}  // namespace

void registerConcatTactics(TacticRegistry& registry) {
  registry.add("Concatenation", std::make_unique<ConcatTactic>());
}

}  // namespace kiln::backends::cpu
