// PointwiseChain on float32 ("cpu.pointwise_chain.vec"): the output is cut into blocks of
// contiguous elements; each block runs every step in turn over an L1-resident buffer with the
// vectorized kernels of pointwise_vec.h (the ISA picked at run time). Pointwise steps commute
// with broadcasting, so every input is laid out at the output's shape first: same-shape inputs
// are read in place, scalars are passed as one value, the rest are gathered per block. An input
// that is constant along the output's rows (a [C, 1, 1] scale or bias against [N, C, H, W]: a
// BatchNorm left after a concatenation) is one value per row: blocks then never cross rows, and
// it passes as a scalar per block.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "core/cpu_info.h"
#include "core/shape_util.h"
#include "ops/activation.h"
#include "ops/broadcast.h"
#include "ops/pointwise_chain.h"

namespace kiln::backends::cpu {

const PointwiseVecKernels& bestPointwiseVec() {
  static const PointwiseVecKernels& best = []() -> const PointwiseVecKernels& {
    const CpuInfo& cpu = hostCpu();
    if (cpu.has("avx512f") && cpu.has("avx512bw") && cpu.has("avx512dq") && cpu.has("avx512vl") &&
        cpu.has("avx2") && cpu.has("fma") && cpu.has("f16c")) {
      return avx512PointwiseVec();
    }
    if (cpu.has("avx2") && cpu.has("fma") && cpu.has("f16c")) return avx2PointwiseVec();
    return portablePointwiseVec();
  }();
  return best;
}

void activateInPlace(int32_t type, float alpha, float beta, float* y, int64_t n) {
  if (n <= 0) return;
  if (vecActivationSupported(type)) {
    bestPointwiseVec().activate(type, alpha, beta, y, y, n);
    return;
  }
  const auto t = static_cast<ActivationType>(type);
  for (int64_t i = 0; i < n; ++i)
    y[i] = static_cast<float>(ops::applyActivation(t, y[i], alpha, beta));
}

bool vecActivationSupported(int32_t type) {
  return type >= static_cast<int32_t>(ActivationType::kRELU) &&
         type <= static_cast<int32_t>(ActivationType::kHARD_SWISH);
}

bool vecUnarySupported(int32_t op) {
  // Every float -> float op; NOT, ISINF and ISNAN involve bool.
  const auto u = static_cast<UnaryOperation>(op);
  return op >= 0 && op <= static_cast<int32_t>(UnaryOperation::kISNAN) &&
         u != UnaryOperation::kNOT && u != UnaryOperation::kISINF && u != UnaryOperation::kISNAN;
}

bool vecElementWiseSupported(int32_t op) {
  switch (static_cast<ElementWiseOperation>(op)) {
    case ElementWiseOperation::kSUM:
    case ElementWiseOperation::kPROD:
    case ElementWiseOperation::kMAX:
    case ElementWiseOperation::kMIN:
    case ElementWiseOperation::kSUB:
    case ElementWiseOperation::kDIV:
    case ElementWiseOperation::kPOW:
    case ElementWiseOperation::kFLOOR_DIV:
    case ElementWiseOperation::kMOD:
    case ElementWiseOperation::kFMOD:
      return true;
    default:
      return false;
  }
}

namespace {

// Elements per block: the running value and gathered operands stay in L1.
constexpr int64_t kBlock = 1024;
// Shortest rows along which an input constant per row is passed as a scalar per block (blocks
// then end at row ends); shorter rows (7x7 planes) are gathered, as blocks that short would cost
// more in calls than the gather does.
constexpr int64_t kMinUniformRow = 256;
// Blocks per task below which threads cost more than they give.
constexpr int64_t kGrainBlocks = 4;
// Most inputs a chain has (the op's schema allows 16).
constexpr std::size_t kMaxInputs = 16;

// How one input is read along the flat output.
struct InputLayout {
  enum class Kind { kContiguous, kScalar, kRowUniform, kGathered };
  Kind kind = Kind::kContiguous;
  int32_t input = 0;        //!< node input index
  ops::BroadcastPlan plan;  //!< kGathered, kRowUniform: the walk of this input over the output
};

InputLayout layoutOf(int32_t input, const Dims& in, const Dims& out) {
  InputLayout layout;
  layout.input = input;
  const Dims dims[1] = {in};
  layout.plan = ops::planBroadcast(out, dims);
  const auto last = static_cast<std::size_t>(layout.plan.rank - 1);
  if (volume(in) == 1 && volume(out) != 1) {
    layout.kind = InputLayout::Kind::kScalar;
  } else if (layout.plan.rank == 1 && layout.plan.stride[0][0] == 1) {
    layout.kind = InputLayout::Kind::kContiguous;
  } else if (layout.plan.stride[0][last] == 0 && layout.plan.extent[last] >= kMinUniformRow) {
    layout.kind = InputLayout::Kind::kRowUniform;
  } else {
    layout.kind = InputLayout::Kind::kGathered;
  }
  return layout;
}

// The input's offset at the start of output row @p row (rows of plan.extent[rank - 1]).
int64_t rowOffset(const ops::BroadcastPlan& plan, int64_t row) {
  int64_t offset = 0;
  for (int32_t d = plan.rank - 2; d >= 0; --d) {
    const auto du = static_cast<std::size_t>(d);
    offset += row % plan.extent[du] * plan.stride[0][du];
    row /= plan.extent[du];
  }
  return offset;
}

// How the flat output is cut into blocks: whole of kBlock elements, or, with row-uniform inputs,
// each row of rowLength into blocksPerRow equal pieces (a multiple of 16 elements but the last).
struct Blocking {
  int64_t rowLength = 0;  //!< 0: plain blocks of kBlock
  int64_t blocksPerRow = 1;
  int64_t piece = kBlock;

  explicit Blocking(int64_t row) : rowLength(row) {
    if (rowLength == 0) return;
    blocksPerRow = (rowLength + kBlock - 1) / kBlock;
    piece = ((rowLength + blocksPerRow - 1) / blocksPerRow + 15) / 16 * 16;
  }
  int64_t count(int64_t total) const {
    return rowLength == 0 ? (total + kBlock - 1) / kBlock : total / rowLength * blocksPerRow;
  }
  //! Block @p b: its first element and its length.
  std::pair<int64_t, int64_t> block(int64_t b, int64_t total) const {
    if (rowLength == 0) return {b * kBlock, std::min(kBlock, total - b * kBlock)};
    const int64_t row = b / blocksPerRow;
    const int64_t begin = b % blocksPerRow * piece;
    return {row * rowLength + begin, std::min(piece, rowLength - begin)};
  }
};

// dst[0..n) = the input's values at flat output positions [start, start + n).
void gather(const ops::BroadcastPlan& plan, const float* src, int64_t start, int64_t n,
            float* dst) {
  const int32_t last = plan.rank - 1;
  const auto lastU = static_cast<std::size_t>(last);
  const int64_t rowLength = plan.extent[lastU];
  const int64_t step = plan.stride[0][lastU];
  int64_t row = start / rowLength;
  int64_t col = start % rowLength;
  for (int64_t done = 0; done < n; ++row, col = 0) {
    int64_t rest = row;
    int64_t offset = 0;
    for (int32_t d = last - 1; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      offset += rest % plan.extent[du] * plan.stride[0][du];
      rest /= plan.extent[du];
    }
    const int64_t count = std::min(n - done, rowLength - col);
    float* out = dst + done;
    if (step == 0) {
      std::fill(out, out + count, src[offset]);
    } else if (step == 1) {
      std::memcpy(out, src + offset + col, static_cast<std::size_t>(count) * sizeof(float));
    } else {
      for (int64_t j = 0; j < count; ++j) out[j] = src[offset + (col + j) * step];
    }
    done += count;
  }
}

class ChainKernel final : public Kernel {
 public:
  explicit ChainKernel(const NodeSpec& spec) : kernels_(bestPointwiseVec()) {
    const Dims& out = spec.outputs[0].dims;
    x_ = layoutOf(0, spec.inputs[0].dims, out);
    for (const auto& step : ops::pointwiseSteps(spec.node.attrs)) {
      VecStep v;
      const ir::Attributes& a = step.node.attrs;
      if (step.node.op == "Activation") {
        const auto type = a.getEnum("type", ActivationType::kRELU);
        v.kind = VecStepKind::kActivation;
        v.op = static_cast<int32_t>(type);
        v.alpha = static_cast<float>(a.getFloat("alpha", ops::activationDefaultAlpha(type)));
        v.beta = static_cast<float>(a.getFloat("beta", ops::activationDefaultBeta(type)));
      } else if (step.node.op == "Unary") {
        v.kind = VecStepKind::kUnary;
        v.op = static_cast<int32_t>(a.getInt("op", 0));
      } else {
        v.kind = VecStepKind::kElementWise;
        v.op = static_cast<int32_t>(a.getInt("op", 0));
        v.operandFirst = step.operandFirst;
        // One slot per distinct operand input: a chain often reads one input twice (x * f(x)).
        const auto it = std::find_if(operands_.begin(), operands_.end(),
                                     [&](const InputLayout& l) { return l.input == step.operand; });
        v.operand = static_cast<int32_t>(it - operands_.begin());
        if (it == operands_.end()) {
          operands_.push_back(layoutOf(
              step.operand, spec.inputs[static_cast<std::size_t>(step.operand)].dims, out));
        }
      }
      steps_.push_back(v);
    }
    // Row-uniform inputs share one row length (the first's); any other is gathered.
    for (auto& l : operands_) {
      if (l.kind != InputLayout::Kind::kRowUniform) continue;
      const int64_t row = l.plan.extent[static_cast<std::size_t>(l.plan.rank - 1)];
      if (rowLength_ == 0) rowLength_ = row;
      if (row != rowLength_) l.kind = InputLayout::Kind::kGathered;
    }
    if (x_.kind == InputLayout::Kind::kRowUniform) x_.kind = InputLayout::Kind::kGathered;
    for (const auto& l : operands_) {
      if (l.kind == InputLayout::Kind::kGathered) ++gathered_;
    }
    if (x_.kind != InputLayout::Kind::kContiguous) ++gathered_;
  }

  void execute(const ir::KernelContext& ctx) const override {
    const int64_t total = ctx.output(0).count();
    if (total <= 0) return;
    float* y = ctx.output(0).as<float>();
    const float* x = ctx.input(0).as<float>();
    const Blocking blocking(rowLength_);
    const int64_t blocks = blocking.count(total);
    const std::size_t nbOperands = operands_.size();
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, blocks, kGrainBlocks, [&](int64_t b0, int64_t b1, int32_t worker) {
        // Two scratch buffers for the running value, then one per gathered input.
        const auto bytes = static_cast<std::size_t>((2 + gathered_) * kBlock) * sizeof(float);
        float* next = static_cast<float*>(pool.scratch(worker, bytes));
        ChainBlock block;
        block.scratch[0] = next;
        block.scratch[1] = next + kBlock;
        next += 2 * kBlock;
        float* xBuffer = nullptr;
        if (x_.kind != InputLayout::Kind::kContiguous) {
          xBuffer = next;
          next += kBlock;
        }
        std::array<const float*, kMaxInputs> pointers{};
        std::array<float*, kMaxInputs> buffers{};
        std::array<bool, kMaxInputs> scalar{};
        for (std::size_t i = 0; i < nbOperands; ++i) {
          scalar[i] = operands_[i].kind == InputLayout::Kind::kScalar ||
                      operands_[i].kind == InputLayout::Kind::kRowUniform;
          if (operands_[i].kind == InputLayout::Kind::kGathered) {
            buffers[i] = next;
            next += kBlock;
          }
        }
        block.operands = pointers.data();
        block.scalar = scalar.data();
        for (int64_t b = b0; b < b1; ++b) {
          const auto [start, n] = blocking.block(b, total);
          if (xBuffer == nullptr) {
            block.x = x + start;
          } else {
            gather(x_.plan, x, start, n, xBuffer);
            block.x = xBuffer;
          }
          for (std::size_t i = 0; i < nbOperands; ++i) {
            const InputLayout& l = operands_[i];
            const float* src = ctx.input(l.input).as<float>();
            switch (l.kind) {
              case InputLayout::Kind::kContiguous:
                pointers[i] = src + start;
                break;
              case InputLayout::Kind::kScalar:
                pointers[i] = src;
                break;
              case InputLayout::Kind::kRowUniform:
                pointers[i] = src + rowOffset(l.plan, start / rowLength_);
                break;
              case InputLayout::Kind::kGathered:
                gather(l.plan, src, start, n, buffers[i]);
                pointers[i] = buffers[i];
                break;
            }
          }
          block.y = y + start;
          block.n = n;
          kernels_.chainBlock(steps_.data(), static_cast<int32_t>(steps_.size()), block);
        }
      });
    });
  }

 private:
  const PointwiseVecKernels& kernels_;
  std::vector<VecStep> steps_;
  InputLayout x_;
  std::vector<InputLayout> operands_;
  int64_t gathered_ = 0;   //!< inputs (x included) that need a gather buffer
  int64_t rowLength_ = 0;  //!< rows of the row-uniform inputs; 0 when there are none
};

bool allFloat(std::span<const ir::TensorInfo> infos) {
  for (const auto& info : infos) {
    if (!info.present || info.dtype != DataType::kFLOAT) return false;
    for (int32_t d = 0; d < info.dims.nbDims; ++d) {
      if (info.dims[d] < 0) return false;
    }
  }
  return true;
}

class ChainTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.pointwise_chain.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.empty() || spec.inputs.size() > kMaxInputs || spec.outputs.size() != 1) {
      return false;
    }
    if (!allFloat(spec.inputs) || !allFloat(spec.outputs)) return false;
    const auto steps = ops::pointwiseSteps(spec.node.attrs);
    if (steps.empty()) return false;
    for (const auto& step : steps) {
      const ir::Attributes& a = step.node.attrs;
      if (step.node.op == "ElementWise") {
        if (step.operand < 1 || static_cast<std::size_t>(step.operand) >= spec.inputs.size()) {
          return false;
        }
        if (!vecElementWiseSupported(static_cast<int32_t>(a.getInt("op", 0)))) return false;
        continue;
      }
      if (step.operand >= 0) return false;
      if (step.node.op == "Activation") {
        if (!vecActivationSupported(static_cast<int32_t>(a.getInt("type", 0)))) return false;
      } else if (step.node.op == "Unary") {
        if (!vecUnarySupported(static_cast<int32_t>(a.getInt("op", 0)))) return false;
      } else {
        return false;
      }
    }
    return true;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<ChainKernel>(spec);
  }
};

}  // namespace

void registerPointwiseChainTactics(TacticRegistry& registry) {
  registry.add("PointwiseChain", std::make_unique<ChainTactic>());
}

}  // namespace kiln::backends::cpu
