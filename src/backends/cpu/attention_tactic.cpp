// Attention (ops/attention.cpp) as two GEMMs around a row softmax ("cpu.attention.<isa>"): per
// batch entry, scores = Q K * scale + mask, softmax along the keys, y = P V. Batch entries (heads)
// are spread over the threads; the scores live in the worker's scratch.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "ops/attention_geometry.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kScoresSlot = 3;
// Query rows a task takes at least when a matrix is split among threads.
constexpr int64_t kMinBlockRows = 32;

class AttentionKernel final : public Kernel {
 public:
  AttentionKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk), vec_(bestPointwiseVec()) {
    std::string error;
    const auto g = ops::attentionGeometry(spec.inputs[0].dims, spec.inputs[1].dims,
                                          spec.inputs[2].dims, spec.node.attrs, error);
    if (!g) fail(ErrorCode::kINTERNAL_ERROR, "cpu.attention: ", error);
    g_ = *g;
    scale_ = static_cast<float>(spec.node.attrs.getFloat("scale", 1.0));
    if (spec.inputs.size() > 3 && spec.inputs[3].present) {
      maskStrides_ = ops::attentionMaskStrides(g_, spec.inputs[3].dims);
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const float* q = ctx.input(0).as<float>();
    const float* k = ctx.input(1).as<float>();
    const float* v = ctx.input(2).as<float>();
    const float* mask = ctx.hasInput(3) ? ctx.input(3).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int32_t r = g_.scores.nbDims;
    const int64_t msRow = mask != nullptr ? maskStrides_[static_cast<std::size_t>(r - 2)] : 0;
    const int64_t msCol = mask != nullptr ? maskStrides_[static_cast<std::size_t>(r - 1)] : 0;
    const int64_t sq = g_.sq;
    const int64_t sk = g_.sk;
    withPool(ctx, [&](ThreadPool& pool) {
      // Fewer matrices than threads (a head or two): each matrix's queries split into blocks.
      const int64_t blocks = std::clamp<int64_t>(pool.size() / std::max<int64_t>(g_.count, 1), 1,
                                                 std::max<int64_t>(sq / kMinBlockRows, 1));
      const int64_t blockRows = (sq + blocks - 1) / std::max<int64_t>(blocks, 1);
      pool.run(g_.count * blocks, [&](int64_t task, int32_t worker) {
        const int64_t b = task / blocks;
        const int64_t r0 = (task % blocks) * blockRows;
        const int64_t rows = std::min(blockRows, sq - r0);
        if (rows <= 0) return;
        // The scores, then one row for a mask that is not contiguous along the keys.
        auto* scores = static_cast<float*>(pool.scratch(
            worker, sizeof(float) * static_cast<std::size_t>(std::max<int64_t>((rows + 1) * sk, 1)),
            kScoresSlot));
        float* maskRow = scores + rows * sk;
        GemmProblem s;
        s.m = rows;
        s.n = sk;
        s.k = g_.d;
        s.a.strided = {q + g_.qOffset(b) + r0 * g_.qPitch(), g_.qPitch(), 1};
        s.b.strided = g_.transposeK ? StridedMatrix{k + g_.kOffset(b), 1, g_.kPitch()}
                                    : StridedMatrix{k + g_.kOffset(b), g_.kPitch(), 1};
        s.c = scores;
        s.ldc = sk;
        gemm(mk_, s, pool, true, worker);
        const int64_t maskBase = mask != nullptr ? ops::attentionMaskBase(g_, maskStrides_, b) : 0;
        for (int64_t i = r0; i < r0 + rows; ++i) {
          // Vectorized scale, mask, maximum, exp and normalization (pointwise_vec.h); a mask
          // broadcast or strided along the keys is gathered into a contiguous row first.
          const float* maskKeys = nullptr;
          if (mask != nullptr) {
            maskKeys = mask + maskBase + i * msRow;
            if (msCol != 1) {
              for (int64_t j = 0; j < sk; ++j) maskRow[j] = maskKeys[j * msCol];
              maskKeys = maskRow;
            }
          }
          vec_.scaledSoftmaxRow(scores + (i - r0) * sk, sk, scale_, maskKeys);
        }
        GemmProblem o;
        o.m = rows;
        o.n = g_.dv;
        o.k = sk;
        o.a.strided = {scores, sk, 1};
        o.b.strided = {v + g_.vOffset(b), g_.vPitch(), 1};
        o.c = y + g_.yOffset(b) + r0 * g_.yPitch();
        o.ldc = g_.yPitch();
        gemm(mk_, o, pool, true, worker);
      });
    });
  }

 private:
  const MicroKernel& mk_;
  const PointwiseVecKernels& vec_;
  ops::AttentionGeometry g_;
  float scale_ = 1.f;
  std::vector<int64_t> maskStrides_;
};

bool supportsAttention(const NodeSpec& spec) {
  if (spec.inputs.size() < 3) return false;
  for (const auto& in : spec.inputs) {
    if (in.present && in.dtype != DataType::kFLOAT) return false;
  }
  std::string error;
  const auto g = ops::attentionGeometry(spec.inputs[0].dims, spec.inputs[1].dims,
                                        spec.inputs[2].dims, spec.node.attrs, error);
  if (!g) return false;
  return spec.inputs.size() < 4 || !spec.inputs[3].present ||
         !ops::attentionMaskStrides(*g, spec.inputs[3].dims).empty();
}

}  // namespace

void registerAttentionTactics(TacticRegistry& registry) {
  addGemmIsaTactics<AttentionKernel>(registry, "Attention", "cpu.attention", supportsAttention);
}

}  // namespace kiln::backends::cpu
