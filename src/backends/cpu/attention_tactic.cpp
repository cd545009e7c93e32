// Attention (ops/attention.cpp) as two GEMMs around a row softmax ("cpu.attention.<isa>"): per
// batch entry, scores = Q K * scale + mask, softmax along the keys, y = P V. Batch entries (heads)
// are spread over the threads; the scores live in the worker's scratch.
#include <algorithm>
#include <cmath>
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
        auto* scores = static_cast<float*>(pool.scratch(
            worker, sizeof(float) * static_cast<std::size_t>(std::max<int64_t>(rows * sk, 1)),
            kScoresSlot));
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
          float* row = scores + (i - r0) * sk;
          if (mask == nullptr || msCol == 1) {
            // Vectorized scale, mask, maximum, exp and normalization (pointwise_vec.h).
            vec_.scaledSoftmaxRow(row, sk, scale_,
                                  mask != nullptr ? mask + maskBase + i * msRow : nullptr);
            continue;
          }
          float largest = -INFINITY;
          for (int64_t j = 0; j < sk; ++j) {
            float score = row[j] * scale_;
            score += mask[maskBase + i * msRow + j * msCol];
            row[j] = score;
            largest = std::fmax(largest, score);
          }
          const bool empty = std::isinf(largest) && largest < 0;
          const float sum = empty ? 0.f : vec_.expShiftSum(row, sk, largest);
          if (empty) std::fill(row, row + sk, 0.f);
          const float inv = sum > 0.f ? 1.f / sum : NAN;
          for (int64_t j = 0; j < sk; ++j) row[j] *= inv;
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
