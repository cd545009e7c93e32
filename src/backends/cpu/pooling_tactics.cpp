// Max and average pooling (NCHW float32, 1-d and 2-d, "cpu.pool", "cpu.pool.avx2" and
// "cpu.pool.avx512"), row by row like the depthwise kernel, and global pooling as a plane
// reduction; threaded over planes. "cpu.pool.nchw8c.avx2": 2-d pooling in NCHW8c, a pixel
// vector of 8 channels at a time, threaded over rows. Also Reduce SUM/AVG over the innermost
// dimensions ("cpu.reduce.inner[.avx2|.avx512]"): the global average pooling of ONNX models
// arrives as such a Reduce.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/pooling.h"
#include "backends/cpu/tactics.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

int64_t clippedCount(int64_t start, int64_t size, int64_t lo, int64_t hi) {
  const int64_t b = start > lo ? start : lo;
  const int64_t e = start + size < hi ? start + size : hi;
  return e > b ? e - b : 0;
}

// @p p from a pooling node whose x and y, shown channels-first, are @p x and @p y.
bool describePoolOf(const NodeSpec& spec, const Dims& x, const Dims& y, Pool2d& p) {
  if (spec.inputs.empty() || spec.inputs[0].dtype != DataType::kFLOAT) return false;
  if (x.nbDims != 3 && x.nbDims != 4) return false;
  const auto type = spec.node.attrs.getEnum("type", PoolingType::kMAX);
  if (type != PoolingType::kMAX && type != PoolingType::kAVERAGE) return false;
  const ops::WindowParams params = ops::readWindowParams(spec.node.attrs, "window");
  if (params.rank() != x.nbDims - 2) return false;
  const ops::Geometry3 g = ops::makeGeometry(params, x, y, false, ops::CeilRule::kDropPaddingOnly);
  p.average = type == PoolingType::kAVERAGE;
  p.excludePadding = spec.node.attrs.getInt("exclude_padding", 1) != 0;
  p.planes = x[0] * x[1];
  p.ih = g.in[1];
  p.iw = g.in[2];
  p.oh = g.out[1];
  p.ow = g.out[2];
  p.kh = g.kernel[1];
  p.kw = g.kernel[2];
  p.sh = g.stride[1];
  p.sw = g.stride[2];
  p.ph = g.pre[1];
  p.pw = g.pre[2];
  p.qh = g.post[1];
  p.qw = g.post[2];
  return true;
}

// NCHW nodes (channels-last ones come only from the GPU layout pass; blocked ones have their
// own kernel).
bool describePool(const NodeSpec& spec, Pool2d& p) {
  if (!ops::channelsFirst(spec.node.attrs) || spec.inputs.empty()) return false;
  return describePoolOf(spec, spec.inputs[0].dims, spec.outputs[0].dims, p);
}

// 2-d nodes in NCHW8c: planes counts blocks of 8 channels.
bool describeBlockedPool(const NodeSpec& spec, Pool2d& p) {
  if (ops::layoutOf(spec.node.attrs) != ops::Layout::kChannelsBlocked || spec.inputs.empty()) {
    return false;
  }
  const Dims& x = spec.inputs[0].dims;
  const Dims& y = spec.outputs[0].dims;
  if (x.nbDims != 5 || y.nbDims != 5 || x[4] != ops::kChannelBlock) return false;
  if (!describePoolOf(spec, ops::fromChannelsBlocked(x), ops::fromChannelsBlocked(y), p)) {
    return false;
  }
  p.planes = x[0] * x[1];
  return true;
}

// An average's divisors per output row and column: the window cells inside the input (exclude
// padding) or inside the padded input.
struct PoolDivisors {
  PoolDivisors() = default;
  explicit PoolDivisors(const Pool2d& p) {
    rows.resize(static_cast<std::size_t>(p.oh));
    cols.resize(static_cast<std::size_t>(p.ow));
    for (int64_t oy = 0; oy < p.oh; ++oy) {
      const int64_t s = oy * p.sh - p.ph;
      rows[static_cast<std::size_t>(oy)] =
          static_cast<float>(p.excludePadding ? clippedCount(s, p.kh, 0, p.ih)
                                              : clippedCount(s, p.kh, -p.ph, p.ih + p.qh));
    }
    for (int64_t ox = 0; ox < p.ow; ++ox) {
      const int64_t s = ox * p.sw - p.pw;
      cols[static_cast<std::size_t>(ox)] =
          static_cast<float>(p.excludePadding ? clippedCount(s, p.kw, 0, p.iw)
                                              : clippedCount(s, p.kw, -p.pw, p.iw + p.qw));
    }
  }
  std::vector<float> rows;
  std::vector<float> cols;
};

void poolPlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
               const float* rowDivisor) {
  Span spans[kSpans];
  for (int64_t kx = 0; kx < p.kw && kx < kSpans; ++kx)
    columnSpan(p, kx, spans[kx].lo, spans[kx].hi);
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  for (int64_t oy = 0; oy < p.oh; ++oy) {
    float* yr = y + oy * p.ow;
    for (int64_t ox = 0; ox < p.ow; ++ox) yr[ox] = p.average ? 0.f : kLowest;
    for (int64_t ky = 0; ky < p.kh; ++ky) {
      const int64_t iy = oy * p.sh - p.ph + ky;
      if (iy < 0 || iy >= p.ih) continue;
      const float* xr = x + iy * p.iw;
      for (int64_t kx = 0; kx < p.kw; ++kx) {
        const int64_t offset = kx - p.pw;
        int64_t lo = 0;
        int64_t hi = 0;
        if (kx < kSpans) {
          lo = spans[kx].lo;
          hi = spans[kx].hi;
        } else {
          columnSpan(p, kx, lo, hi);
        }
        if (p.average) {
          for (int64_t ox = lo; ox < hi; ++ox) yr[ox] += xr[ox * p.sw + offset];
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) {
            const float v = xr[ox * p.sw + offset];
            const float m = yr[ox];
            yr[ox] = (v > m || v != v) && m == m ? v : m;  // NaN propagates and stays
          }
        }
      }
    }
    if (p.average) {
      const float rd = rowDivisor[oy];
      for (int64_t ox = 0; ox < p.ow; ++ox) yr[ox] = yr[ox] / (rd * colDivisor[ox]);
    }
  }
}

class PoolKernel final : public Kernel {
 public:
  PoolKernel(PoolPlaneFn plane, const NodeSpec& spec) : plane_(plane) {
    describePool(spec, pool_);
    const Pool2d& p = pool_;
    divisors_ = PoolDivisors(p);
    global_ = p.oh == 1 && p.ow == 1 && p.kh == p.ih && p.kw == p.iw && p.ph == 0 && p.pw == 0;
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Pool2d& p = pool_;
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t inPlane = p.ih * p.iw;
    const int64_t outPlane = p.oh * p.ow;
    withPool(ctx, [&](ThreadPool& pool) {
      // Enough window cells per task to pay for waking a thread.
      const int64_t perPlane = std::max<int64_t>(global_ ? inPlane : outPlane * p.kh * p.kw, 1);
      const int64_t grain = std::max<int64_t>(1, (int64_t{32} << 10) / perPlane);
      parallelFor(&pool, p.planes, grain, [&](int64_t begin, int64_t end, int32_t) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const float* xp = x + plane * inPlane;
          if (global_) {
            if (p.average) {
              double sum = 0.0;
              for (int64_t i = 0; i < inPlane; ++i) sum += xp[i];
              y[plane] = static_cast<float>(sum / static_cast<double>(inPlane));
            } else {
              float m = -std::numeric_limits<float>::infinity();
              for (int64_t i = 0; i < inPlane; ++i) {
                const float v = xp[i];
                m = (v > m || v != v) && m == m ? v : m;
              }
              y[plane] = m;
            }
          } else {
            plane_(p, xp, y + plane * outPlane, divisors_.cols.data(), divisors_.rows.data());
          }
        }
      });
    });
  }

 private:
  PoolPlaneFn plane_;
  Pool2d pool_;
  PoolDivisors divisors_;
  bool global_ = false;
};

// NCHW8c: rows of pixel vectors, threaded over (plane block, output row).
class BlockedPoolKernel final : public Kernel {
 public:
  BlockedPoolKernel(BlockedPoolRowFn row, const NodeSpec& spec) : row_(row) {
    describeBlockedPool(spec, pool_);
    divisors_ = PoolDivisors(pool_);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Pool2d& p = pool_;
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t inPlane = p.ih * p.iw * ops::kChannelBlock;
    const int64_t outRow = p.ow * ops::kChannelBlock;
    withPool(ctx, [&](ThreadPool& pool) {
      // Enough window cells per task to pay for waking a thread.
      const int64_t grain =
          std::max<int64_t>(1, (int64_t{4} << 10) / std::max<int64_t>(p.ow * p.kh * p.kw, 1));
      const auto scratchBytes = sizeof(float) * static_cast<std::size_t>(blockedPoolScratch(p));
      parallelTasks(pool, p.planes * p.oh, grain, [&](int64_t begin, int64_t end, int32_t worker) {
        auto* scratch = static_cast<float*>(pool.scratch(worker, scratchBytes));
        for (int64_t r = begin; r < end; ++r) {
          const int64_t plane = r / p.oh;
          const int64_t oy = r % p.oh;
          row_(p, x + plane * inPlane, oy, y + r * outRow, divisors_.cols.data(),
               divisors_.rows[static_cast<std::size_t>(oy)], scratch);
        }
      });
    });
  }

 private:
  BlockedPoolRowFn row_;
  Pool2d pool_;
  PoolDivisors divisors_;
};

class BlockedPoolTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.pool.nchw8c.avx2"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Pool2d p;
    return describeBlockedPool(spec, p);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<BlockedPoolKernel>(avx2BlockedPoolRow(), spec);
  }
};

PoolPlaneFn portablePoolPlane() {
  return poolPlane;
}

class PoolTactic final : public Tactic {
 public:
  PoolTactic(std::string name, std::vector<std::string> features, PoolPlaneFn (*plane)())
      : name_(std::move(name)), features_(std::move(features)), plane_(plane) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return features_; }
  bool supports(const NodeSpec& spec) const override {
    Pool2d p;
    return describePool(spec, p);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<PoolKernel>(plane_(), spec);
  }

 private:
  std::string name_;
  std::vector<std::string> features_;
  PoolPlaneFn (*plane_)();
};

// Reduce (SUM or AVG, float32) over the innermost dimensions, as global average pooling is
// imported: every output is the sum of one contiguous run of the input.
struct InnerReduce {
  int64_t rows = 0, inner = 0;
  bool average = false;
};

bool describeInnerReduce(const NodeSpec& spec, InnerReduce& r) {
  if (spec.inputs.size() != 1 || spec.inputs[0].dtype != DataType::kFLOAT) return false;
  const auto op = spec.node.attrs.getEnum("op", ReduceOperation::kSUM);
  if (op != ReduceOperation::kSUM && op != ReduceOperation::kAVG) return false;
  const Dims& x = spec.inputs[0].dims;
  const int64_t axes = spec.node.attrs.getInt("axes", 0);
  if (x.nbDims < 1 || x.nbDims > 30 || axes <= 0 || axes >= (int64_t{1} << x.nbDims)) return false;
  const int64_t lowest = axes & -axes;
  if (axes + lowest != (int64_t{1} << x.nbDims)) return false;  // not the trailing dims
  r.rows = 1;
  r.inner = 1;
  for (int32_t d = 0; d < x.nbDims; ++d) ((int64_t{1} << d) >= lowest ? r.inner : r.rows) *= x[d];
  r.average = op == ReduceOperation::kAVG;
  return true;
}

void portableSumRows(const float* x, int64_t rows, int64_t inner, float scale, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * inner;
    double sum = 0.0;
    for (int64_t j = 0; j < inner; ++j) sum += xr[j];
    y[r] = static_cast<float>(sum * static_cast<double>(scale));
  }
}

SumRowsFn portableSumRowsFn() {
  return portableSumRows;
}

class InnerReduceKernel final : public Kernel {
 public:
  InnerReduceKernel(SumRowsFn fn, const NodeSpec& spec) : fn_(fn) { describeInnerReduce(spec, r_); }

  void execute(const ir::KernelContext& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const float scale =
        r_.average && r_.inner > 0 ? static_cast<float>(1.0 / static_cast<double>(r_.inner)) : 1.f;
    if (r_.average && r_.inner == 0) {  // the mean of nothing, as the reference computes it
      for (int64_t i = 0; i < r_.rows; ++i) y[i] = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    // Tens of thousands of elements take microseconds: threads only beyond that.
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{128} << 10) / std::max<int64_t>(r_.inner, 1));
    auto body = [&](int64_t begin, int64_t end, int32_t) {
      fn_(x + begin * r_.inner, end - begin, r_.inner, scale, y + begin);
    };
    if (ctx.threads == nullptr || r_.rows < 2 * grain) {
      body(0, r_.rows, 0);
    } else {
      parallelFor(ctx.threads, r_.rows, grain, body);
    }
  }

 private:
  SumRowsFn fn_;
  InnerReduce r_;
};

class InnerReduceTactic final : public Tactic {
 public:
  InnerReduceTactic(std::string name, std::vector<std::string> features, SumRowsFn (*fn)())
      : name_(std::move(name)), features_(std::move(features)), fn_(fn) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return features_; }
  bool supports(const NodeSpec& spec) const override {
    InnerReduce r;
    return describeInnerReduce(spec, r);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<InnerReduceKernel>(fn_(), spec);
  }

 private:
  std::string name_;
  std::vector<std::string> features_;
  SumRowsFn (*fn_)();
};

}  // namespace

void registerPoolingTactics(TacticRegistry& registry) {
  registry.add("Reduce",
               std::make_unique<InnerReduceTactic>(
                   "cpu.reduce.inner.avx512", std::vector<std::string>{"avx512f"}, avx512SumRows));
  registry.add("Reduce",
               std::make_unique<InnerReduceTactic>(
                   "cpu.reduce.inner.avx2", std::vector<std::string>{"avx2", "fma"}, avx2SumRows));
  registry.add("Reduce", std::make_unique<InnerReduceTactic>(
                             "cpu.reduce.inner", std::vector<std::string>{}, portableSumRowsFn));
  registry.add("Pooling",
               std::make_unique<PoolTactic>("cpu.pool.avx512", std::vector<std::string>{"avx512f"},
                                            avx512PoolPlane));
  registry.add("Pooling",
               std::make_unique<PoolTactic>(
                   "cpu.pool.avx2", std::vector<std::string>{"avx2", "fma"}, avx2PoolPlane));
  registry.add("Pooling", std::make_unique<PoolTactic>("cpu.pool", std::vector<std::string>{},
                                                       portablePoolPlane));
  registry.add("Pooling", std::make_unique<BlockedPoolTactic>());
}

}  // namespace kiln::backends::cpu
