// FullyConnected and MatrixMultiply on the packed GEMM ("cpu.gemm.<isa>"). Constant weights are
// packed for the micro-kernel once, when the kernel is instantiated.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "core/shape_util.h"

namespace kiln::backends::cpu {

namespace {

// An activation the micro-kernels do not apply in registers (GELU, sigmoid, tanh ...) runs after
// the GEMM over the whole output (activateInPlace): the GEMM applies it per tile otherwise, one
// call for every 16 values of a row, which made BERT's ff1 (bias + erf-GELU) a quarter slower.
struct PostActivation {
  bool active = false;
  int32_t type = 0;
  float alpha = 0.f;
  float beta = 0.f;

  //! Takes the activation out of @p e when the micro-kernels do not apply it.
  static PostActivation split(GemmEpilogue& e) {
    PostActivation post;
    if (vecActOf(e) != VecAct::kGeneric) return post;
    post = {true, static_cast<int32_t>(e.activation), e.alpha, e.beta};
    e.hasActivation = false;
    return post;
  }

  //! y[i] = activation(y[i]) for i < count, on this thread.
  void apply(float* y, int64_t count) const {
    if (active) activateInPlace(type, alpha, beta, y, count);
  }

  //! The same over the threads of @p pool.
  void apply(float* y, int64_t count, ThreadPool& pool) const {
    if (!active || count <= 0) return;
    constexpr int64_t kChunk = int64_t{1} << 14;
    const int64_t chunks = (count + kChunk - 1) / kChunk;
    if (chunks == 1 || pool.size() == 1) {
      apply(y, count);
      return;
    }
    pool.run(chunks, [&](int64_t i, int32_t) {
      apply(y + i * kChunk, std::min(kChunk, count - i * kChunk));
    });
  }
};

// ---------------------------------------------------------------------------------------------
// FullyConnected: y[rows, K] = x[rows, F] * W[K, F]^T + bias.

struct FcShape {
  int64_t rows = 1;
  int64_t flat = 1;
  int64_t outputs = 0;
};

FcShape fcShape(const Dims& in, int64_t outputs) {
  FcShape s;
  const int32_t kept = in.nbDims >= 3 ? in.nbDims - 3 : 1;
  for (int32_t i = 0; i < kept; ++i) s.rows *= in[i];
  for (int32_t i = kept; i < in.nbDims; ++i) s.flat *= in[i];
  s.outputs = outputs;
  return s;
}

class FcKernel final : public Kernel {
 public:
  FcKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk) {
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    shape_ = fcShape(spec.inputs[0].dims, spec.node.attrs.getInt("num_output", 0));
    if (spec.inputs[1].isConstant()) {
      packed_ = packB({spec.inputs[1].constAs<float>(), 1, shape_.flat}, shape_.flat,
                      shape_.outputs, mk.nr, spec.prepared);
      absorbPrepared(spec.prepared, 1);
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    GemmProblem p;
    p.m = shape_.rows;
    p.n = shape_.outputs;
    p.k = shape_.flat;
    p.a.strided = {ctx.input(0).as<float>(), shape_.flat, 1};
    if (packed_.buffer != nullptr) {
      p.b.packed = &packed_;
    } else {
      p.b.strided = {ctx.input(1).as<float>(), 1, shape_.flat};
    }
    p.c = ctx.output(0).as<float>();
    p.ldc = shape_.outputs;
    p.epilogue = gemmEpilogueOf(epilogue_);
    const PostActivation post = PostActivation::split(p.epilogue);
    p.epilogue.colBias =
        ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    if (epilogue_.residualInput) {
      p.epilogue.residual = ctx.input(*epilogue_.residualInput).as<float>();
      p.epilogue.ldr = shape_.outputs;
    }
    withPool(ctx, [&](ThreadPool& pool) {
      gemm(mk_, p, pool);
      post.apply(p.c, p.m * p.n, pool);
    });
  }

 private:
  const MicroKernel& mk_;
  ops::Epilogue epilogue_;
  FcShape shape_;
  PackedMatrix packed_;  //!< constant weights packed; no buffer when they come at run time
};

bool supportsFc(const NodeSpec& spec) {
  if (spec.inputs.size() < 2 || spec.inputs[0].dtype != DataType::kFLOAT) return false;
  if (!spec.inputs[1].present || spec.inputs[0].dims.nbDims < 2) return false;
  // An input 2 that is not the residual is the bias.
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  const int32_t fixed = e.residualInput && *e.residualInput == 2 ? 2 : 3;
  return onlyResidualExtra(spec, fixed);
}

// ---------------------------------------------------------------------------------------------
// MatrixMultiply: batched, broadcast batch dimensions, transposes and vectors.

struct MatOperand {
  MatrixOperation op = MatrixOperation::kNONE;
  Dims batch;
  int64_t inner = 1;
  int64_t outer = 1;
  bool vector = false;
};

MatOperand describe(const Dims& dims, MatrixOperation requested, bool first) {
  MatOperand o;
  const int32_t rank = dims.nbDims;
  o.op = rank == 1 && requested == MatrixOperation::kNONE ? MatrixOperation::kVECTOR : requested;
  if (o.op == MatrixOperation::kVECTOR) {
    o.vector = true;
    o.inner = dims[rank - 1];
    o.batch.nbDims = rank - 1;
  } else {
    const bool t = o.op == MatrixOperation::kTRANSPOSE;
    const int64_t rows = t ? dims[rank - 1] : dims[rank - 2];
    const int64_t cols = t ? dims[rank - 2] : dims[rank - 1];
    o.inner = first ? cols : rows;
    o.outer = first ? rows : cols;
    o.batch.nbDims = rank - 2;
  }
  for (int32_t i = 0; i < o.batch.nbDims; ++i) o.batch[i] = dims[i];
  return o;
}

// Matrix index in an operand's batch of output batch entry @p flat (size-1 dims repeat).
// Computed per entry, not tabled: a batch may have up to 2^40 entries.
int64_t batchIndex(int64_t flat, const Dims& outBatch, const Dims& batch) {
  int64_t rest = flat;
  int64_t offset = 0;
  int64_t stride = 1;
  for (int32_t i = outBatch.nbDims - 1; i >= 0; --i) {
    const int64_t coord = rest % outBatch[i];
    rest /= outBatch[i];
    const int32_t j = batch.nbDims - outBatch.nbDims + i;
    if (j < 0) continue;
    if (batch[j] != 1) offset += coord * stride;
    stride *= batch[j];
  }
  return offset;
}

class MatMulKernel final : public Kernel {
 public:
  MatMulKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk) {
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    const MatOperand lhs =
        describe(spec.inputs[0].dims, spec.node.attrs.getEnum("op0", MatrixOperation::kNONE), true);
    const MatOperand rhs = describe(spec.inputs[1].dims,
                                    spec.node.attrs.getEnum("op1", MatrixOperation::kNONE), false);
    m_ = lhs.outer;
    n_ = rhs.outer;
    k_ = lhs.inner;
    const bool ta = lhs.op == MatrixOperation::kTRANSPOSE;
    const bool tb = rhs.op == MatrixOperation::kTRANSPOSE;
    aRs_ = lhs.vector ? 0 : (ta ? 1 : k_);
    aCs_ = ta ? m_ : 1;
    bRs_ = rhs.vector ? 1 : (tb ? 1 : n_);
    bCs_ = rhs.vector ? 0 : (tb ? k_ : 1);
    const Dims& out = spec.outputs[0].dims;
    Dims outBatch;
    outBatch.nbDims = out.nbDims - (lhs.vector ? 0 : 1) - (rhs.vector ? 0 : 1);
    for (int32_t i = 0; i < outBatch.nbDims; ++i) outBatch[i] = out[i];
    outBatch_ = outBatch;
    aBatch_ = lhs.batch;
    bBatch_ = rhs.batch;
    batches_ = volume(out) == 0 ? 0 : volume(outBatch);
    if (spec.inputs[1].isConstant() && m_ > 0 && n_ > 0) {
      const auto* b = spec.inputs[1].constAs<float>();
      const int64_t matrices = volume(rhs.batch);
      for (int64_t i = 0; i < matrices; ++i) {
        packedB_.push_back(
            packB({weightsAt(b, i * k_ * n_), bRs_, bCs_}, k_, n_, mk.nr, spec.prepared));
      }
      absorbPrepared(spec.prepared, 1);
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const float* a = ctx.input(0).as<float>();
    const float* b = ctx.input(1).as<float>();
    float* y = ctx.output(0).as<float>();
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    // One value per column N, the same for every matrix of the batch.
    const float* bias = epilogue_.biasInput ? ctx.input(*epilogue_.biasInput).as<float>() : nullptr;
    const int64_t batches = batches_;
    auto problem = [&](int64_t i) {
      GemmProblem p;
      p.m = m_;
      p.n = n_;
      p.k = k_;
      const int64_t ai = batchIndex(i, outBatch_, aBatch_);
      const int64_t bi = batchIndex(i, outBatch_, bBatch_);
      p.a.strided = {a + ai * m_ * k_, aRs_, aCs_};
      if (!packedB_.empty()) {
        p.b.packed = &packedB_[static_cast<std::size_t>(bi)];
      } else {
        p.b.strided = {b + bi * k_ * n_, bRs_, bCs_};
      }
      p.c = y + i * m_ * n_;
      p.ldc = n_;
      p.epilogue = gemmEpilogueOf(epilogue_);
      PostActivation::split(p.epilogue);  // applied by the caller (post)
      p.epilogue.colBias = bias;
      if (residual != nullptr) {
        p.epilogue.residual = residual + i * m_ * n_;
        p.epilogue.ldr = n_;
      }
      return p;
    };
    GemmEpilogue whole = gemmEpilogueOf(epilogue_);
    const PostActivation post = PostActivation::split(whole);
    withPool(ctx, [&](ThreadPool& pool) {
      if (batches >= pool.size() && batches > 1) {
        pool.run(batches, [&](int64_t i, int32_t w) {
          gemm(mk_, problem(i), pool, true, w);
          post.apply(y + i * m_ * n_, m_ * n_);  // while the batch's output is in cache
        });
      } else {
        for (int64_t i = 0; i < batches; ++i) gemm(mk_, problem(i), pool);
        post.apply(y, batches * m_ * n_, pool);
      }
    });
  }

 private:
  const MicroKernel& mk_;
  ops::Epilogue epilogue_;
  int64_t m_ = 0, n_ = 0, k_ = 0;
  int64_t aRs_ = 0, aCs_ = 0, bRs_ = 0, bCs_ = 0;
  Dims outBatch_;  // output batch dims, and each operand's (numpy broadcasting)
  Dims aBatch_;
  Dims bBatch_;
  int64_t batches_ = 0;  // matrices to compute (0 when the output is empty)
  std::vector<PackedMatrix> packedB_;
};

bool supportsMatMul(const NodeSpec& spec) {
  if (spec.inputs.size() < 2) return false;
  for (int32_t i = 0; i < 2; ++i) {
    const auto& in = spec.inputs[static_cast<std::size_t>(i)];
    if (!in.present || in.dtype != DataType::kFLOAT || in.dims.nbDims < 1) return false;
  }
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  if (!e.biasInput) return onlyResidualExtra(spec, 2);
  // The epilogue bias: a float32 [N] over the columns of a matrix B, the GEMM's column bias.
  const auto b = static_cast<std::size_t>(*e.biasInput);
  if (b < 2 || b >= spec.inputs.size() || !spec.inputs[b].present) return false;
  const auto& bias = spec.inputs[b];
  const MatOperand rhs =
      describe(spec.inputs[1].dims, spec.node.attrs.getEnum("op1", MatrixOperation::kNONE), false);
  if (rhs.vector || bias.dtype != DataType::kFLOAT || bias.dims.nbDims != 1 ||
      bias.dims[0] != rhs.outer) {
    return false;
  }
  // The other extra inputs: the residual alone (checked as without a bias).
  std::vector<ir::TensorInfo> inputs(spec.inputs.begin(), spec.inputs.end());
  inputs[b].present = false;
  return onlyResidualExtra(NodeSpec{spec.node, inputs, spec.outputs}, 2);
}

}  // namespace

void registerGemmTactics(TacticRegistry& registry) {
  addGemmIsaTactics<FcKernel>(registry, "FullyConnected", "cpu.gemm", supportsFc);
  addGemmIsaTactics<MatMulKernel>(registry, "MatrixMultiply", "cpu.gemm", supportsMatMul);
}

}  // namespace kiln::backends::cpu
