// Pointwise ops on float32, threaded and written for the compiler to vectorize ("cpu.vec"):
// Activation, ElementWise (with numpy broadcasting) and Unary.
#include <cmath>
#include <cstdint>
#include <limits>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "ops/activation.h"
#include "ops/broadcast.h"

namespace kiln::backends::cpu {

namespace {

// Elements per task below which threads cost more than they give.
constexpr int64_t kGrain = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Activation

void activateRange(ActivationType type, float alpha, float beta, const float* x, float* y,
                   int64_t n) {
  switch (type) {
    case ActivationType::kRELU:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
      return;
    case ActivationType::kLEAKY_RELU:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.f ? x[i] : alpha * x[i];
      return;
    case ActivationType::kCLIP:
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        const float lo = v < alpha ? alpha : v;
        y[i] = v != v ? v : (lo > beta ? beta : lo);
      }
      return;
    default:
      // Transcendental ones: the vectorized float math (no per-element std::exp or double).
      bestPointwiseVec().activate(static_cast<int32_t>(type), alpha, beta, x, y, n);
  }
}

class ActivationKernel final : public Kernel {
 public:
  explicit ActivationKernel(const NodeSpec& spec) {
    type_ = spec.node.attrs.getEnum("type", ActivationType::kRELU);
    alpha_ =
        static_cast<float>(spec.node.attrs.getFloat("alpha", ops::activationDefaultAlpha(type_)));
    beta_ = static_cast<float>(spec.node.attrs.getFloat("beta", ops::activationDefaultBeta(type_)));
  }
  void execute(const ir::KernelContext& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    withPool(ctx, [&](ThreadPool& pool) {
      parallelFor(&pool, ctx.output(0).count(), kGrain, [&](int64_t b, int64_t e, int32_t) {
        activateRange(type_, alpha_, beta_, x + b, y + b, e - b);
      });
    });
  }

 private:
  ActivationType type_ = ActivationType::kRELU;
  float alpha_ = 0.f;
  float beta_ = 0.f;
};

class ActivationTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    return spec.inputs.size() == 1 && spec.inputs[0].dtype == DataType::kFLOAT;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<ActivationKernel>(spec);
  }
};

// ---------------------------------------------------------------------------------------------
// ElementWise

using Op = ElementWiseOperation;

// y[j] = f(a[j * sa], b[j * sb]) for j < n; the common strides get their own loops so they
// vectorize.
template <typename F>
void binaryRow(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n, F f) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = 0; j < n; ++j) y[j] = f(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int64_t j = 0; j < n; ++j) y[j] = f(a[j], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int64_t j = 0; j < n; ++j) y[j] = f(av, b[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) y[j] = f(a[j * sa], b[j * sb]);
  }
}

void rowOp(Op op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  switch (op) {
    case Op::kSUM:
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) { return p + q; });
    case Op::kSUB:
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) { return p - q; });
    case Op::kPROD:
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) { return p * q; });
    case Op::kDIV:
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) { return p / q; });
    case Op::kMAX:
      return binaryRow(a, sa, b, sb, y, n,
                       [](float p, float q) { return p != p || q != q ? nan : (p > q ? p : q); });
    case Op::kMIN:
      return binaryRow(a, sa, b, sb, y, n,
                       [](float p, float q) { return p != p || q != q ? nan : (p < q ? p : q); });
    case Op::kPOW:
      if (sb == 0 && b[0] == 2.f) {
        return binaryRow(a, sa, b, sb, y, n, [](float p, float) { return p * p; });
      }
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) {
        return static_cast<float>(std::pow(static_cast<double>(p), static_cast<double>(q)));
      });
    case Op::kFLOOR_DIV:
      return binaryRow(a, sa, b, sb, y, n, [](float p, float q) { return std::floor(p / q); });
    default:
      return;
  }
}

class ElementWiseKernel final : public Kernel {
 public:
  explicit ElementWiseKernel(const NodeSpec& spec) {
    op_ = spec.node.attrs.getEnum("op", Op::kSUM);
    const Dims dims[2] = {spec.inputs[0].dims, spec.inputs[1].dims};
    plan_ = ops::planBroadcast(spec.outputs[0].dims, dims);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const float* a = ctx.input(0).as<float>();
    const float* b = ctx.input(1).as<float>();
    float* y = ctx.output(0).as<float>();
    const ops::BroadcastPlan& plan = plan_;
    if (plan.volume <= 0) return;
    const int32_t last = plan.rank - 1;
    const auto lastU = static_cast<std::size_t>(last);
    const int64_t rowLength = plan.extent[lastU];
    const int64_t rows = plan.volume / rowLength;
    const int64_t sa = plan.stride[0][lastU];
    const int64_t sb = plan.stride[1][lastU];
    withPool(ctx, [&](ThreadPool& pool) {
      if (rows == 1) {
        parallelFor(&pool, rowLength, kGrain, [&](int64_t s, int64_t e, int32_t) {
          rowOp(op_, a + s * sa, sa, b + s * sb, sb, y + s, e - s);
        });
        return;
      }
      const int64_t grain = rowLength >= kGrain ? 1 : kGrain / rowLength;
      parallelFor(&pool, rows, grain, [&](int64_t r0, int64_t r1, int32_t) {
        for (int64_t r = r0; r < r1; ++r) {
          // Offsets of row r: its coordinates over the outer loops.
          int64_t rest = r;
          int64_t oa = 0;
          int64_t ob = 0;
          for (int32_t d = last - 1; d >= 0; --d) {
            const auto du = static_cast<std::size_t>(d);
            const int64_t coord = rest % plan.extent[du];
            rest /= plan.extent[du];
            oa += coord * plan.stride[0][du];
            ob += coord * plan.stride[1][du];
          }
          rowOp(op_, a + oa, sa, b + ob, sb, y + r * rowLength, rowLength);
        }
      });
    });
  }

 private:
  Op op_ = Op::kSUM;
  ops::BroadcastPlan plan_;
};

class ElementWiseTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1) return false;
    if (spec.inputs[0].dtype != DataType::kFLOAT || spec.inputs[1].dtype != DataType::kFLOAT ||
        spec.outputs[0].dtype != DataType::kFLOAT) {
      return false;
    }
    switch (spec.node.attrs.getEnum("op", Op::kSUM)) {
      case Op::kSUM:
      case Op::kSUB:
      case Op::kPROD:
      case Op::kDIV:
      case Op::kMAX:
      case Op::kMIN:
      case Op::kPOW:
      case Op::kFLOOR_DIV:
        return true;
      default:
        return false;
    }
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<ElementWiseKernel>(spec);
  }
};

// ---------------------------------------------------------------------------------------------
// Unary (float32 -> float32): a one-step chain of the vectorized kernels.

class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(const NodeSpec& spec) : kernels_(bestPointwiseVec()) {
    step_.kind = VecStepKind::kUnary;
    step_.op = static_cast<int32_t>(spec.node.attrs.getInt("op", 0));
  }
  void execute(const ir::KernelContext& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    withPool(ctx, [&](ThreadPool& pool) {
      parallelFor(&pool, ctx.output(0).count(), kGrain, [&](int64_t b, int64_t e, int32_t) {
        ChainBlock block;  // one step: it reads x and writes y, no scratch
        block.x = x + b;
        block.y = y + b;
        block.n = e - b;
        kernels_.chainBlock(&step_, 1, block);
      });
    });
  }

 private:
  const PointwiseVecKernels& kernels_;
  VecStep step_;
};

class UnaryTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    return spec.inputs.size() == 1 && spec.outputs.size() == 1 &&
           spec.inputs[0].dtype == DataType::kFLOAT && spec.outputs[0].dtype == DataType::kFLOAT &&
           vecUnarySupported(static_cast<int32_t>(spec.node.attrs.getInt("op", 0)));
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<UnaryKernel>(spec);
  }
};

}  // namespace

void registerPointwiseTactics(TacticRegistry& registry) {
  registry.add("Activation", std::make_unique<ActivationTactic>());
  registry.add("ElementWise", std::make_unique<ElementWiseTactic>());
  registry.add("Unary", std::make_unique<UnaryTactic>());
}

}  // namespace kiln::backends::cpu
