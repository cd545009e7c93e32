// LSTM, GRU and RNN (ONNX LSTM/GRU/RNN, TensorRT's IRNNv2Layer): one recurrent layer, forward,
// reverse or bidirectional, with ONNX's optional inputs (bias, sequence lengths, initial states,
// peepholes) and attributes (activations, clip, input_forget, linear_before_reset, layout). The
// layout of every tensor is in ops/recurrent.h. Steps past a batch entry's sequence length write
// zeros to Y and leave its state alone, so Y_h / Y_c hold the state after its last step (the
// initial state for length 0), as ONNX Runtime does; the reverse direction starts at the entry's
// last step. Attributes: "hidden_size", "direction" (RNNDirection), "batch_first" (ONNX layout 0/1;
// "layout" names the layout pass's string attribute), "clip" (> 0; absent or 0: none),
// "input_forget" (LSTM), "linear_before_reset" (GRU), "activations" (ActivationType per cell
// function, one direction's list or one per direction; absent: the ONNX defaults) with
// "activation_alpha" and "activation_beta" (one per activation).
#include "ops/recurrent.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ops/activation.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

bool recurrentKindOf(std::string_view op, RecurrentKind& kind) {
  if (op == "LSTM") {
    kind = RecurrentKind::kLSTM;
  } else if (op == "GRU") {
    kind = RecurrentKind::kGRU;
  } else if (op == "RNN") {
    kind = RecurrentKind::kRNN;
  } else {
    return false;
  }
  return true;
}

std::array<RecurrentActivation, 3> defaultRecurrentActivations(RecurrentKind kind) {
  const RecurrentActivation sigmoid{ActivationType::kSIGMOID, 0.f, 0.f};
  const RecurrentActivation tanh{ActivationType::kTANH, 0.f, 0.f};
  switch (kind) {
    case RecurrentKind::kLSTM:
      return {sigmoid, tanh, tanh};
    case RecurrentKind::kGRU:
      return {sigmoid, tanh, tanh};
    case RecurrentKind::kRNN:
      break;
  }
  return {tanh, tanh, tanh};
}

RecurrentConfig recurrentConfig(const ir::Node& node) {
  RecurrentConfig c;
  if (!recurrentKindOf(node.op, c.kind)) {
    fail(ErrorCode::kINTERNAL_ERROR, "'", node.op, "' is not a recurrent op");
  }
  const ir::Attributes& a = node.attrs;
  c.hidden = a.getInt("hidden_size", 0);
  if (c.hidden <= 0)
    fail(ErrorCode::kINVALID_ARGUMENT, "hidden_size must be positive, not ", c.hidden);
  const int64_t direction = a.getInt("direction", 0);
  if (direction < 0 || direction > 2) {
    fail(ErrorCode::kINVALID_ARGUMENT, "direction ", direction,
         " is none of forward (0), reverse (1) and bidirectional (2)");
  }
  c.direction = static_cast<RNNDirection>(direction);
  c.directions = c.direction == RNNDirection::kBIDIRECTIONAL ? 2 : 1;
  const int64_t layout = a.getInt("batch_first", 0);
  if (layout != 0 && layout != 1) {
    fail(ErrorCode::kINVALID_ARGUMENT, "batch_first (ONNX layout) must be 0 or 1, not ", layout);
  }
  c.batchFirst = layout == 1;
  const double clip = a.getFloat("clip", 0.0);
  if (!(clip >= 0.0)) fail(ErrorCode::kINVALID_ARGUMENT, "clip must be positive, not ", clip);
  c.clip = static_cast<float>(clip);
  c.inputForget = a.getInt("input_forget", 0) != 0;
  c.linearBeforeReset = a.getInt("linear_before_reset", 0) != 0;

  const auto defaults = defaultRecurrentActivations(c.kind);
  c.activations = {defaults, defaults};
  const std::vector<int64_t> types = a.getInts("activations");
  if (types.empty()) return c;
  const int32_t per = c.nbActivations();
  if (types.size() != static_cast<std::size_t>(per) &&
      types.size() != static_cast<std::size_t>(per * c.directions)) {
    fail(ErrorCode::kINVALID_ARGUMENT, node.op, " takes ", per, " activations per direction; ",
         types.size(), " given for ", c.directions, " direction", c.directions == 1 ? "" : "s");
  }
  const std::vector<double> alphas = a.getFloats("activation_alpha");
  const std::vector<double> betas = a.getFloats("activation_beta");
  if ((!alphas.empty() && alphas.size() != types.size()) ||
      (!betas.empty() && betas.size() != types.size())) {
    fail(ErrorCode::kINVALID_ARGUMENT,
         "activation_alpha and activation_beta need one value per "
         "activation (",
         types.size(), "), or none");
  }
  std::vector<RecurrentActivation> parsed;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (types[i] < 0 || types[i] > static_cast<int64_t>(ActivationType::kHARD_SWISH)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "activation ", i, " has unknown type ", types[i]);
    }
    const auto type = static_cast<ActivationType>(types[i]);
    RecurrentActivation act{type, static_cast<float>(activationDefaultAlpha(type)),
                            static_cast<float>(activationDefaultBeta(type))};
    if (!alphas.empty()) act.alpha = static_cast<float>(alphas[i]);
    if (!betas.empty()) act.beta = static_cast<float>(betas[i]);
    parsed.push_back(act);
  }
  // One direction's list serves both directions of a bidirectional layer.
  const bool shared = types.size() == static_cast<std::size_t>(per);
  for (std::size_t d = 0; d < static_cast<std::size_t>(c.directions); ++d) {
    for (std::size_t k = 0; k < static_cast<std::size_t>(per); ++k) {
      c.activations[d][k] = parsed[shared ? k : d * static_cast<std::size_t>(per) + k];
    }
  }
  return c;
}

namespace {

std::string_view gateNames(RecurrentKind kind) {
  switch (kind) {
    case RecurrentKind::kLSTM:
      return "4*hidden_size";
    case RecurrentKind::kGRU:
      return "3*hidden_size";
    case RecurrentKind::kRNN:
      break;
  }
  return "hidden_size";
}

void inferRecurrent(ir::InferContext& ctx) {
  const RecurrentConfig c = withLayerContext(ctx, [&] { return recurrentConfig(ctx.node()); });
  const int64_t d = c.directions;
  const int64_t h = c.hidden;
  const int64_t gh = c.gates() * h;

  requireFloat(ctx, 0, "X");
  const Dims& x = ctx.input(0).dims;
  if (x.nbDims != 3) {
    ctx.fail("X has shape ", toString(x), "; it needs rank 3 (",
             c.batchFirst ? "[batch, seq_length, input_size]" : "[seq_length, batch, input_size]",
             ")");
  }
  const int64_t steps = c.batchFirst ? x[1] : x[0];
  const int64_t batch = c.batchFirst ? x[0] : x[1];
  const int64_t inputSize = x[2];

  // Each weight input against the shape it must have, spelled out with the names of ONNX.
  const auto expectShape = [&](int32_t index, std::string_view what, const Dims& want,
                               std::string_view spelled) {
    requireFloat(ctx, index, what);
    const Dims& got = ctx.input(index).dims;
    if (got != want) {
      ctx.fail(what, " has shape ", toString(got), "; it needs ", toString(want), " (", spelled,
               ")");
    }
  };
  const std::string gates(gateNames(c.kind));
  expectShape(1, "W", Dims{d, gh, inputSize}, "num_directions, " + gates + ", input_size");
  expectShape(2, "R", Dims{d, gh, h}, "num_directions, " + gates + ", hidden_size");
  if (ctx.hasInput(3)) {
    expectShape(3, "B", Dims{d, 2 * gh}, "num_directions, 2*" + gates);
  }
  if (ctx.hasInput(4)) {
    const auto& lengths = ctx.input(4);
    if (lengths.dtype != DataType::kINT32 && lengths.dtype != DataType::kINT64) {
      ctx.fail("sequence_lens must be int32 or int64, not ", toString(lengths.dtype));
    }
    if (lengths.dims != Dims{batch}) {
      ctx.fail("sequence_lens has shape ", toString(lengths.dims), "; it needs ", batch,
               " (batch)");
    }
  }
  const Dims state = c.batchFirst ? Dims{batch, d, h} : Dims{d, batch, h};
  const std::string_view stateSpelled =
      c.batchFirst ? "batch, num_directions, hidden_size" : "num_directions, batch, hidden_size";
  if (ctx.hasInput(5)) expectShape(5, "initial_h", state, stateSpelled);
  if (c.kind == RecurrentKind::kLSTM) {
    if (ctx.hasInput(6)) expectShape(6, "initial_c", state, stateSpelled);
    if (ctx.hasInput(7)) expectShape(7, "P", Dims{d, 3 * h}, "num_directions, 3*hidden_size");
  }

  ctx.setOutput(0, DataType::kFLOAT,
                c.batchFirst ? Dims{batch, steps, d, h} : Dims{steps, d, batch, h});
  for (int32_t o = 1; o < ctx.nbOutputs(); ++o) ctx.setOutput(o, DataType::kFLOAT, state);
}

// Plain loops, one batch entry and direction at a time, sums in double: the truth the CPU
// tactic is tested against.
void runRecurrent(const ir::KernelContext& ctx) {
  const RecurrentConfig c = recurrentConfig(ctx.node);
  const Dims& xd = ctx.input(0).dims;
  const int64_t steps = c.batchFirst ? xd[1] : xd[0];
  const int64_t batch = c.batchFirst ? xd[0] : xd[1];
  const int64_t in = xd[2];
  const int64_t dirs = c.directions;
  const int64_t hs = c.hidden;
  const int64_t g = c.gates();
  const bool lstm = c.kind == RecurrentKind::kLSTM;

  const float* x = ctx.input(0).as<const float>();
  const float* w = ctx.input(1).as<const float>();
  const float* r = ctx.input(2).as<const float>();
  const float* bias = ctx.hasInput(3) ? ctx.input(3).as<const float>() : nullptr;
  const float* h0 = ctx.hasInput(5) ? ctx.input(5).as<const float>() : nullptr;
  const float* c0 = lstm && ctx.hasInput(6) ? ctx.input(6).as<const float>() : nullptr;
  const float* peep = lstm && ctx.hasInput(7) ? ctx.input(7).as<const float>() : nullptr;
  float* y = ctx.output(0).as<float>();
  float* yh = ctx.outputs.size() > 1 ? ctx.output(1).as<float>() : nullptr;
  float* yc = lstm && ctx.outputs.size() > 2 ? ctx.output(2).as<float>() : nullptr;

  const auto xAt = [&](int64_t t, int64_t b) {
    return x + (c.batchFirst ? b * steps + t : t * batch + b) * in;
  };
  const auto yAt = [&](int64_t t, int64_t d, int64_t b) {
    return y + (c.batchFirst ? (b * steps + t) * dirs + d : (t * dirs + d) * batch + b) * hs;
  };
  const auto stateOffset = [&](int64_t d, int64_t b) {
    return (c.batchFirst ? b * dirs + d : d * batch + b) * hs;
  };
  const auto length = [&](int64_t b) -> int64_t {
    if (!ctx.hasInput(4)) return steps;
    const auto& lengths = ctx.input(4);
    const int64_t n = lengths.dtype == DataType::kINT32 ? lengths.as<const int32_t>()[b]
                                                        : lengths.as<const int64_t>()[b];
    if (n < 0 || n > steps) {
      fail(ErrorCode::kFAILED_EXECUTION, "sequence length ", n, " (batch entry ", b,
           ") is outside [0, ", steps, "]");
    }
    return n;
  };
  const auto clip = [&](double v) {
    return c.clip > 0.f ? std::clamp(v, -static_cast<double>(c.clip), static_cast<double>(c.clip))
                        : v;
  };

  std::vector<double> h(static_cast<std::size_t>(hs)), cell(static_cast<std::size_t>(hs));
  std::vector<double> xw(static_cast<std::size_t>(g * hs)), hr(static_cast<std::size_t>(g * hs));
  std::vector<double> gated(static_cast<std::size_t>(hs));
  for (int64_t d = 0; d < dirs; ++d) {
    const float* wd = w + d * g * hs * in;
    const float* rd = r + d * g * hs * hs;
    const float* wb = bias != nullptr ? bias + d * 2 * g * hs : nullptr;
    const float* rb = bias != nullptr ? wb + g * hs : nullptr;
    const float* pd = peep != nullptr ? peep + d * 3 * hs : nullptr;
    const auto& acts = c.activations[static_cast<std::size_t>(d)];
    const auto act = [&](int32_t which, double v) {
      const RecurrentActivation& a = acts[static_cast<std::size_t>(which)];
      return applyActivation(a.type, v, a.alpha, a.beta);
    };
    // Row j of matrix m (rows of width n) times vector v.
    const auto dot = [](const float* m, int64_t j, int64_t n, const auto& v) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += static_cast<double>(m[j * n + k]) * v(k);
      return s;
    };
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = length(b);
      const int64_t so = stateOffset(d, b);
      for (int64_t j = 0; j < hs; ++j) {
        h[static_cast<std::size_t>(j)] = h0 != nullptr ? h0[so + j] : 0.0;
        cell[static_cast<std::size_t>(j)] = c0 != nullptr ? c0[so + j] : 0.0;
      }
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = c.reversed(static_cast<int32_t>(d)) ? len - 1 - s : s;
        const float* xt = xAt(t, b);
        // xw: input projection with W's bias; hr: recurrent projection with R's bias.
        for (int64_t j = 0; j < g * hs; ++j) {
          xw[static_cast<std::size_t>(j)] =
              dot(wd, j, in, [&](int64_t k) { return static_cast<double>(xt[k]); }) +
              (wb != nullptr ? wb[j] : 0.0);
          hr[static_cast<std::size_t>(j)] =
              dot(rd, j, hs, [&](int64_t k) { return h[static_cast<std::size_t>(k)]; }) +
              (rb != nullptr ? rb[j] : 0.0);
        }
        const auto pre = [&](int64_t gate, int64_t j) {
          const auto k = static_cast<std::size_t>(gate * hs + j);
          return xw[k] + hr[k];
        };
        if (c.kind == RecurrentKind::kLSTM) {
          // Gates i o f c; peepholes i o f.
          for (int64_t j = 0; j < hs; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            const double cPrev = cell[jj];
            const double i = act(0, clip(pre(0, j) + (pd != nullptr ? pd[j] * cPrev : 0.0)));
            const double f =
                c.inputForget
                    ? 1.0 - i
                    : act(0, clip(pre(2, j) + (pd != nullptr ? pd[2 * hs + j] * cPrev : 0.0)));
            const double cc = act(1, clip(pre(3, j)));
            cell[jj] = f * cPrev + i * cc;
            const double o =
                act(0, clip(pre(1, j) + (pd != nullptr ? pd[hs + j] * cell[jj] : 0.0)));
            h[jj] = o * act(2, cell[jj]);
          }
        } else if (c.kind == RecurrentKind::kGRU) {
          // Gates z r h. The candidate's recurrent term is (r . h) * Rh + Rbh by default, and
          // r . (h * Rh + Rbh) with linear_before_reset (hr already holds the latter).
          std::vector<double> z(static_cast<std::size_t>(hs)), next(static_cast<std::size_t>(hs));
          for (int64_t j = 0; j < hs; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            z[jj] = act(0, clip(pre(0, j)));
            const double reset = act(0, clip(pre(1, j)));
            gated[jj] = c.linearBeforeReset ? reset * hr[static_cast<std::size_t>(2 * hs + j)]
                                            : reset * h[jj];
          }
          for (int64_t j = 0; j < hs; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            double recurrent = gated[jj];
            if (!c.linearBeforeReset) {
              recurrent = dot(rd, 2 * hs + j, hs,
                              [&](int64_t k) { return gated[static_cast<std::size_t>(k)]; }) +
                          (rb != nullptr ? rb[2 * hs + j] : 0.0);
            }
            const double candidate =
                act(1, clip(xw[static_cast<std::size_t>(2 * hs + j)] + recurrent));
            next[jj] = (1.0 - z[jj]) * candidate + z[jj] * h[jj];
          }
          h = next;
        } else {
          for (int64_t j = 0; j < hs; ++j) h[static_cast<std::size_t>(j)] = act(0, clip(pre(0, j)));
        }
        float* yt = yAt(t, d, b);
        for (int64_t j = 0; j < hs; ++j) yt[j] = static_cast<float>(h[static_cast<std::size_t>(j)]);
      }
      for (int64_t t = len; t < steps; ++t) std::fill_n(yAt(t, d, b), hs, 0.f);
      for (int64_t j = 0; j < hs; ++j) {
        if (yh != nullptr) yh[so + j] = static_cast<float>(h[static_cast<std::size_t>(j)]);
        if (yc != nullptr) yc[so + j] = static_cast<float>(cell[static_cast<std::size_t>(j)]);
      }
    }
  }
}

}  // namespace

void registerRecurrentOps(ir::OpRegistry& registry) {
  registry.add({.name = "LSTM",
                .minInputs = 3,
                .maxInputs = 8,
                .nbOutputs = 3,
                .infer = inferRecurrent,
                .reference = runRecurrent});
  registry.add({.name = "GRU",
                .minInputs = 3,
                .maxInputs = 6,
                .nbOutputs = 2,
                .infer = inferRecurrent,
                .reference = runRecurrent});
  registry.add({.name = "RNN",
                .minInputs = 3,
                .maxInputs = 6,
                .nbOutputs = 2,
                .infer = inferRecurrent,
                .reference = runRecurrent});
}

}  // namespace kiln::ops
