// Attention (ops/attention.cpp) as two GEMMs around a row softmax ("cpu.attention.<isa>"): per
// batch entry, scores = Q K * scale + mask, softmax along the keys, y = P V. Batch entries (heads)
// are spread over the threads; the scores live in the worker's scratch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kScoresSlot = 3;

class AttentionKernel final : public Kernel {
 public:
  AttentionKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk), vec_(bestPointwiseVec()) {
    const Dims& q = spec.inputs[0].dims;
    const Dims& k = spec.inputs[1].dims;
    const Dims& v = spec.inputs[2].dims;
    transposeK_ = spec.node.attrs.getInt("transpose_k", 0) != 0;
    scale_ = static_cast<float>(spec.node.attrs.getFloat("scale", 1.0));
    rank_ = q.nbDims;
    qDims_ = q;
    sq_ = q[rank_ - 2];
    d_ = q[rank_ - 1];
    sk_ = transposeK_ ? k[rank_ - 2] : k[rank_ - 1];
    dv_ = v[rank_ - 1];
    for (int32_t i = 0; i < rank_ - 2; ++i) batch_ *= q[i];
    maskStride_.assign(static_cast<std::size_t>(rank_), 0);
    if (spec.inputs.size() > 3 && spec.inputs[3].present) {
      const Dims& md = spec.inputs[3].dims;
      int64_t stride = 1;
      for (int32_t i = md.nbDims - 1; i >= 0; --i) {
        const int32_t dim = rank_ - md.nbDims + i;
        if (md[i] != 1) maskStride_[static_cast<std::size_t>(dim)] = stride;
        stride *= md[i];
      }
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const float* q = ctx.input(0).as<float>();
    const float* k = ctx.input(1).as<float>();
    const float* v = ctx.input(2).as<float>();
    const float* mask = ctx.hasInput(3) ? ctx.input(3).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t msRow = maskStride_[static_cast<std::size_t>(rank_ - 2)];
    const int64_t msCol = maskStride_[static_cast<std::size_t>(rank_ - 1)];
    withPool(ctx, [&](ThreadPool& pool) {
      pool.run(batch_, [&](int64_t b, int32_t worker) {
        auto* scores = static_cast<float*>(pool.scratch(
            worker, sizeof(float) * static_cast<std::size_t>(std::max<int64_t>(sq_ * sk_, 1)),
            kScoresSlot));
        GemmProblem s;
        s.m = sq_;
        s.n = sk_;
        s.k = d_;
        s.a.strided = {q + b * sq_ * d_, d_, 1};
        s.b.strided = transposeK_ ? StridedMatrix{k + b * sk_ * d_, 1, d_}
                                  : StridedMatrix{k + b * d_ * sk_, sk_, 1};
        s.c = scores;
        s.ldc = sk_;
        gemm(mk_, s, pool, true, worker);
        int64_t maskBase = 0;
        int64_t rest = b;
        for (int32_t i = rank_ - 3; i >= 0; --i) {
          maskBase += (rest % qDims_[i]) * maskStride_[static_cast<std::size_t>(i)];
          rest /= qDims_[i];
        }
        for (int64_t i = 0; i < sq_; ++i) {
          float* row = scores + i * sk_;
          float largest = -INFINITY;
          for (int64_t j = 0; j < sk_; ++j) {
            float score = row[j] * scale_;
            if (mask != nullptr) score += mask[maskBase + i * msRow + j * msCol];
            row[j] = score;
            largest = std::fmax(largest, score);
          }
          const bool empty = std::isinf(largest) && largest < 0;
          // Vectorized exp (pointwise_vec.h): a per-element std::exp was most of this loop.
          const float sum = empty ? 0.f : vec_.expShiftSum(row, sk_, largest);
          if (empty) std::fill(row, row + sk_, 0.f);
          const float inv = sum > 0.f ? 1.f / sum : NAN;
          for (int64_t j = 0; j < sk_; ++j) row[j] *= inv;
        }
        GemmProblem o;
        o.m = sq_;
        o.n = dv_;
        o.k = sk_;
        o.a.strided = {scores, sk_, 1};
        o.b.strided = {v + b * sk_ * dv_, dv_, 1};
        o.c = y + b * sq_ * dv_;
        o.ldc = dv_;
        gemm(mk_, o, pool, true, worker);
      });
    });
  }

 private:
  const MicroKernel& mk_;
  const PointwiseVecKernels& vec_;
  bool transposeK_ = false;
  float scale_ = 1.f;
  int32_t rank_ = 0;
  Dims qDims_;
  int64_t batch_ = 1, sq_ = 0, sk_ = 0, d_ = 0, dv_ = 0;
  std::vector<int64_t> maskStride_;
};

bool supportsAttention(const NodeSpec& spec) {
  if (spec.inputs.size() < 3 || spec.inputs[0].dims.nbDims < 2) return false;
  for (const auto& in : spec.inputs) {
    if (in.present && in.dtype != DataType::kFLOAT) return false;
  }
  return true;
}

}  // namespace

void registerAttentionTactics(TacticRegistry& registry) {
  addGemmIsaTactics<AttentionKernel>(registry, "Attention", "cpu.attention", supportsAttention);
}

}  // namespace kiln::backends::cpu
