// LSTM, GRU and RNN on the packed GEMM ("cpu.rnn.<isa>"). The input projection X * W^T (+ the
// biases) of every step is one GEMM per direction, over all steps and batch entries at once; each
// step then needs only the recurrent product H(t-1) * R^T, a few rows against R packed once
// (the GEMM's small-rows path streams it like a GEMV), and the gate arithmetic on rows of H
// values with the vectorized activations. Directions of a bidirectional layer run in parallel.
// Semantics (ops/recurrent.h) and the reference kernel (ops/recurrent.cpp) are the truth; the
// tests compare every output with them.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "ops/recurrent.h"

namespace kiln::backends::cpu {

namespace {

using ops::RecurrentKind;

// Workspace regions start on 64-byte boundaries.
constexpr int64_t kAlignFloats = 16;
int64_t aligned(int64_t floats) {
  return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

class RnnKernel final : public Kernel {
 public:
  RnnKernel(const MicroKernel& mk, const NodeSpec& spec)
      : mk_(mk), vec_(bestPointwiseVec()), config_(ops::recurrentConfig(spec.node)) {
    const Dims& x = spec.inputs[0].dims;
    steps_ = config_.batchFirst ? x[1] : x[0];
    batch_ = config_.batchFirst ? x[0] : x[1];
    in_ = x[2];
    h_ = config_.hidden;
    gh_ = config_.gates() * h_;
    // The default GRU multiplies r . H(t-1) by Rh after the reset gate: its product is separate.
    splitCandidate_ = config_.kind == RecurrentKind::kGRU && !config_.linearBeforeReset;
    const float* w = spec.inputs[1].constAs<float>();
    const float* r = spec.inputs[2].constAs<float>();
    PreparedWeights* prepared = spec.prepared;
    for (int64_t d = 0; d < config_.directions; ++d) {
      // B operands are the transposes of W [G*H, I] and R [G*H, H]: column n is row n.
      wT_.push_back(packB({weightsAt(w, d * gh_ * in_), 1, in_}, in_, gh_, mk.nr, prepared));
      const float* rd = weightsAt(r, d * gh_ * h_);
      rT_.push_back(packB({rd, 1, h_}, h_, recurrentColumns(), mk.nr, prepared));
      if (splitCandidate_) {
        rhT_.push_back(packB({weightsAt(rd, 2 * h_ * h_), 1, h_}, h_, h_, mk.nr, prepared));
      }
    }
    absorbPrepared(prepared, 1);
    absorbPrepared(prepared, 2);
  }

  std::size_t workspaceBytes() const override {
    return static_cast<std::size_t>(projectionFloats() + config_.directions * directionFloats()) *
           sizeof(float);
  }

  void execute(const ir::KernelContext& ctx) const override {
    auto* ws = static_cast<float*>(ctx.workspace);
    const int64_t rows = steps_ * batch_;
    withPool(ctx, [&](ThreadPool& pool) {
      for (int64_t d = 0; d < config_.directions; ++d) {
        float* bias = directionScratch(ws, d);
        fillBias(ctx, d, bias);
        GemmProblem p;
        p.m = rows;
        p.n = gh_;
        p.k = in_;
        p.a.strided = {ctx.input(0).as<const float>(), in_, 1};
        p.b.packed = &wT_[static_cast<std::size_t>(d)];
        p.c = ws + d * rows * gh_;
        p.ldc = gh_;
        p.epilogue.colBias = bias;
        gemm(mk_, p, pool);
      }
      // One direction: each step's product may use the pool (2 threads: ~15% faster on the
      // reference LSTM and GRU than serial steps); two: one direction per thread.
      if (config_.directions == 1) {
        runDirection(ctx, ws, 0, pool, false, 0);
      } else {
        pool.run(config_.directions,
                 [&](int64_t d, int32_t worker) { runDirection(ctx, ws, d, pool, true, worker); });
      }
    });
  }

 private:
  // Columns of the per-step recurrent product: every gate, or z and r of the default GRU.
  int64_t recurrentColumns() const { return splitCandidate_ ? 2 * h_ : gh_; }
  int64_t projectionFloats() const { return aligned(config_.directions * steps_ * batch_ * gh_); }
  // Per direction: bias [G*H], R's candidate bias [H], recurrent product [B, columns], and
  // [B, H] each: hidden state, cell state, a temporary, the GRU's reset hidden state and its
  // candidate product.
  int64_t directionFloats() const {
    return aligned(gh_) + aligned(h_) + aligned(batch_ * recurrentColumns()) +
           5 * aligned(batch_ * h_);
  }
  float* directionScratch(float* ws, int64_t d) const {
    return ws + projectionFloats() + d * directionFloats();
  }

  // The bias added by the input projection: W's bias plus R's, except for the candidate of a
  // GRU with linear_before_reset, whose R bias is scaled by the reset gate (kept apart).
  void fillBias(const ir::KernelContext& ctx, int64_t d, float* bias) const {
    float* rbh = bias + aligned(gh_);
    if (!ctx.hasInput(3)) {
      std::fill_n(bias, gh_, 0.f);
      std::fill_n(rbh, h_, 0.f);
      return;
    }
    const float* wb = ctx.input(3).as<const float>() + d * 2 * gh_;
    const float* rb = wb + gh_;
    const bool keepCandidate = config_.kind == RecurrentKind::kGRU && config_.linearBeforeReset;
    for (int64_t j = 0; j < gh_; ++j) {
      bias[j] = wb[j] + (keepCandidate && j >= 2 * h_ ? 0.f : rb[j]);
    }
    for (int64_t j = 0; j < h_; ++j) rbh[j] = keepCandidate ? rb[2 * h_ + j] : 0.f;
  }

  int64_t sequenceLength(const ir::KernelContext& ctx, int64_t b) const {
    if (!ctx.hasInput(4)) return steps_;
    const auto& lengths = ctx.input(4);
    const int64_t n = lengths.dtype == DataType::kINT32 ? lengths.as<const int32_t>()[b]
                                                        : lengths.as<const int64_t>()[b];
    if (n < 0 || n > steps_) {
      fail(ErrorCode::kFAILED_EXECUTION, "sequence length ", n, " (batch entry ", b,
           ") is outside [0, ", steps_, "]");
    }
    return n;
  }

  void activate(const ops::RecurrentActivation& a, float* v, int64_t n) const {
    vec_.activate(static_cast<int32_t>(a.type), a.alpha, a.beta, v, v, n);
  }
  void clip(float* v, int64_t n) const {
    if (config_.clip <= 0.f) return;
    const float hi = config_.clip;
    const float lo = -hi;
    for (int64_t j = 0; j < n; ++j) v[j] = std::min(std::max(v[j], lo), hi);
  }

  void runDirection(const ir::KernelContext& ctx, float* ws, int64_t d, ThreadPool& pool,
                    bool serial, int32_t worker) const {
    const int64_t cols = recurrentColumns();
    const int64_t stateOffset = aligned(gh_) + aligned(h_) + aligned(batch_ * cols);
    float* bias = directionScratch(ws, d);
    const float* rbh = bias + aligned(gh_);
    float* gates = bias + aligned(gh_) + aligned(h_);
    float* hidden = bias + stateOffset;
    float* cell = hidden + aligned(batch_ * h_);
    float* temp = cell + aligned(batch_ * h_);
    float* reset = temp + aligned(batch_ * h_);
    float* candidate = reset + aligned(batch_ * h_);
    const float* xw = ws + d * steps_ * batch_ * gh_;
    const bool lstm = config_.kind == RecurrentKind::kLSTM;
    const int64_t dirs = config_.directions;
    const auto& acts = config_.activations[static_cast<std::size_t>(d)];
    const float* peep =
        lstm && ctx.hasInput(7) ? ctx.input(7).as<const float>() + d * 3 * h_ : nullptr;
    float* y = ctx.output(0).as<float>();
    const auto state = [&](int64_t b) {
      return (config_.batchFirst ? b * dirs + d : d * batch_ + b) * h_;
    };
    const auto yRow = [&](int64_t t, int64_t b) {
      return y +
             (config_.batchFirst ? (b * steps_ + t) * dirs + d : (t * dirs + d) * batch_ + b) * h_;
    };
    const auto xwRow = [&](int64_t t, int64_t b) {
      return xw + (config_.batchFirst ? b * steps_ + t : t * batch_ + b) * gh_;
    };

    std::vector<int64_t> lengths(static_cast<std::size_t>(batch_));
    int64_t longest = 0;
    for (int64_t b = 0; b < batch_; ++b) {
      lengths[static_cast<std::size_t>(b)] = sequenceLength(ctx, b);
      longest = std::max(longest, lengths[static_cast<std::size_t>(b)]);
      const float* h0 = ctx.hasInput(5) ? ctx.input(5).as<const float>() + state(b) : nullptr;
      const float* c0 =
          lstm && ctx.hasInput(6) ? ctx.input(6).as<const float>() + state(b) : nullptr;
      for (int64_t j = 0; j < h_; ++j) {
        hidden[b * h_ + j] = h0 != nullptr ? h0[j] : 0.f;
        cell[b * h_ + j] = c0 != nullptr ? c0[j] : 0.f;
      }
    }

    const auto product = [&](const float* a, const PackedMatrix& b, int64_t n, float* c) {
      GemmProblem p;
      p.m = batch_;
      p.n = n;
      p.k = h_;
      p.a.strided = {a, h_, 1};
      p.b.packed = &b;
      p.c = c;
      p.ldc = n;
      gemm(mk_, p, pool, serial, worker);
    };
    for (int64_t s = 0; s < longest; ++s) {
      product(hidden, rT_[static_cast<std::size_t>(d)], cols, gates);
      // The step of each batch entry (the reverse direction starts at each one's last step).
      const auto stepOf = [&](int64_t b) {
        const int64_t len = lengths[static_cast<std::size_t>(b)];
        return config_.reversed(static_cast<int32_t>(d)) ? len - 1 - s : s;
      };
      const auto active = [&](int64_t b) { return s < lengths[static_cast<std::size_t>(b)]; };
      if (splitCandidate_) {
        // z and r first; the candidate's product needs r . H(t-1) of every entry.
        for (int64_t b = 0; b < batch_; ++b) {
          float* g = gates + b * cols;
          float* rh = reset + b * h_;
          if (!active(b)) {
            std::fill_n(rh, h_, 0.f);
            continue;
          }
          const float* xr = xwRow(stepOf(b), b);
          for (int64_t j = 0; j < 2 * h_; ++j) g[j] += xr[j];
          clip(g, 2 * h_);
          activate(acts[0], g, 2 * h_);
          const float* hb = hidden + b * h_;
          for (int64_t j = 0; j < h_; ++j) rh[j] = g[h_ + j] * hb[j];
        }
        product(reset, rhT_[static_cast<std::size_t>(d)], h_, candidate);
      }
      for (int64_t b = 0; b < batch_; ++b) {
        if (!active(b)) continue;
        const int64_t t = stepOf(b);
        const float* xr = xwRow(t, b);
        float* g = gates + b * cols;
        float* hb = hidden + b * h_;
        switch (config_.kind) {
          case RecurrentKind::kLSTM:
            lstmCell(acts, xr, g, peep, cell + b * h_, temp + b * h_, hb);
            break;
          case RecurrentKind::kGRU:
            if (splitCandidate_) {
              float* cand = candidate + b * h_;
              for (int64_t j = 0; j < h_; ++j) cand[j] += xr[2 * h_ + j];
              gruUpdate(acts, g, cand, hb);
            } else {
              // linear_before_reset: the candidate's R product (+ Rbh) is scaled by r.
              for (int64_t j = 0; j < 2 * h_; ++j) g[j] += xr[j];
              clip(g, 2 * h_);
              activate(acts[0], g, 2 * h_);
              float* cand = g + 2 * h_;
              for (int64_t j = 0; j < h_; ++j) {
                cand[j] = xr[2 * h_ + j] + g[h_ + j] * (cand[j] + rbh[j]);
              }
              gruUpdate(acts, g, cand, hb);
            }
            break;
          case RecurrentKind::kRNN:
            for (int64_t j = 0; j < h_; ++j) g[j] += xr[j];
            clip(g, h_);
            activate(acts[0], g, h_);
            std::copy_n(g, h_, hb);
            break;
        }
        std::copy_n(hb, h_, yRow(t, b));
      }
    }

    float* yh = ctx.outputs.size() > 1 ? ctx.output(1).as<float>() : nullptr;
    float* yc = lstm && ctx.outputs.size() > 2 ? ctx.output(2).as<float>() : nullptr;
    for (int64_t b = 0; b < batch_; ++b) {
      for (int64_t t = lengths[static_cast<std::size_t>(b)]; t < steps_; ++t) {
        std::fill_n(yRow(t, b), h_, 0.f);
      }
      if (yh != nullptr) std::copy_n(hidden + b * h_, h_, yh + state(b));
      if (yc != nullptr) std::copy_n(cell + b * h_, h_, yc + state(b));
    }
  }

  // One LSTM step of one batch entry: g holds H(t-1) * R^T (gates i o f c), xr the input
  // projection with both biases; c is updated in place, h gets the new hidden state.
  void lstmCell(const std::array<ops::RecurrentActivation, 3>& acts, const float* xr, float* g,
                const float* peep, float* c, float* temp, float* h) const {
    float* gi = g;
    float* go = g + h_;
    float* gf = g + 2 * h_;
    float* gc = g + 3 * h_;
    for (int64_t j = 0; j < gh_; ++j) g[j] += xr[j];
    if (peep != nullptr) {
      // The output gate's peephole reads the new cell state: it is clipped and activated last.
      for (int64_t j = 0; j < h_; ++j) {
        gi[j] += peep[j] * c[j];
        gf[j] += peep[2 * h_ + j] * c[j];
      }
      clip(gi, h_);
      clip(gf, 2 * h_);  // f and c
      activate(acts[0], gi, h_);
      activate(acts[0], gf, h_);
    } else {
      // i, o and f are adjacent and share f(): one call.
      clip(g, gh_);
      activate(acts[0], g, 3 * h_);
    }
    if (config_.inputForget) {
      for (int64_t j = 0; j < h_; ++j) gf[j] = 1.f - gi[j];
    }
    activate(acts[1], gc, h_);
    for (int64_t j = 0; j < h_; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (peep != nullptr) {
      for (int64_t j = 0; j < h_; ++j) go[j] += peep[h_ + j] * c[j];
      clip(go, h_);
      activate(acts[0], go, h_);
    }
    std::copy_n(c, h_, temp);
    activate(acts[2], temp, h_);
    for (int64_t j = 0; j < h_; ++j) h[j] = go[j] * temp[j];
  }

  // The GRU's candidate (pre-activation in cand, g holding the activated z and r) and
  // H(t) = (1 - z) . candidate + z . H(t-1).
  void gruUpdate(const std::array<ops::RecurrentActivation, 3>& acts, const float* g, float* cand,
                 float* h) const {
    clip(cand, h_);
    activate(acts[1], cand, h_);
    for (int64_t j = 0; j < h_; ++j) h[j] = (1.f - g[j]) * cand[j] + g[j] * h[j];
  }

  const MicroKernel& mk_;
  const PointwiseVecKernels& vec_;
  ops::RecurrentConfig config_;
  int64_t steps_ = 0, batch_ = 0, in_ = 0, h_ = 0, gh_ = 0;
  bool splitCandidate_ = false;
  std::vector<PackedMatrix> wT_;
  std::vector<PackedMatrix> rT_;   //!< all gates, or z and r of the default GRU
  std::vector<PackedMatrix> rhT_;  //!< the default GRU's candidate
};

// Float32 tensors with constant W and R (packed once; a network that computes them at run time
// gets the reference kernel).
bool supportsRnn(const NodeSpec& spec) {
  if (spec.inputs.size() < 3 || spec.outputs.empty()) return false;
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    if (i != 4 && spec.inputs[i].present && spec.inputs[i].dtype != DataType::kFLOAT) return false;
  }
  if (spec.inputs[0].dims.nbDims != 3) return false;
  return spec.inputs[1].isConstant() && spec.inputs[2].isConstant();
}

}  // namespace

void registerRnnTactics(TacticRegistry& registry) {
  for (const char* op : {"LSTM", "GRU", "RNN"}) {
    addGemmIsaTactics<RnnKernel>(registry, op, "cpu.rnn", supportsRnn);
  }
}

}  // namespace kiln::backends::cpu
