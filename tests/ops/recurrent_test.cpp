// LSTM, GRU and RNN (RNNLayer): small cases checked against a plain implementation of the ONNX
// equations written here (one gate matrix at a time, independent of ops/recurrent.cpp), through
// the whole pipeline (build, plan round trip, run); every CPU tactic against the reference
// kernel on odd shapes, all outputs compared; and the layer's error cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/tactic.h"
#include "core/thread_pool.h"
#include "ir/op_registry.h"
#include "network/network_impl.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Case {
  RNNOperation op = RNNOperation::kLSTM;
  int64_t steps = 3, batch = 1, input = 2, hidden = 2;
  RNNDirection direction = RNNDirection::kFORWARD;
  bool batchFirst = false;
  bool bias = true;
  std::vector<int32_t> lengths = {};  //!< empty: no sequence_lens input
  bool initialH = false, initialC = false, peepholes = false;
  float clip = 0.f;
  bool inputForget = false, linearBeforeReset = false;
  std::vector<ActivationType> activations = {};  //!< empty: the defaults
  std::vector<float> alphas = {}, betas = {};    //!< one per activation when activations are given

  int64_t gates() const { return op == RNNOperation::kLSTM ? 4 : op == RNNOperation::kGRU ? 3 : 1; }
  int64_t perDirection() const {
    return op == RNNOperation::kLSTM ? 3 : op == RNNOperation::kGRU ? 2 : 1;
  }
  int64_t dirs() const { return direction == RNNDirection::kBIDIRECTIONAL ? 2 : 1; }
  bool lstm() const { return op == RNNOperation::kLSTM; }
  Dims xDims() const { return batchFirst ? Dims{batch, steps, input} : Dims{steps, batch, input}; }
  Dims stateDims() const {
    return batchFirst ? Dims{batch, dirs(), hidden} : Dims{dirs(), batch, hidden};
  }
  Dims yDims() const {
    return batchFirst ? Dims{batch, steps, dirs(), hidden} : Dims{steps, dirs(), batch, hidden};
  }
};

struct Data {
  std::vector<float> x, w, r, b, h0, c0, p;
};

Data randomData(const Case& c, uint32_t seed) {
  const int64_t gh = c.gates() * c.hidden;
  Data d;
  d.x = randomFloats(volume(c.xDims()), seed);
  d.w = randomFloats(c.dirs() * gh * c.input, seed + 1, -0.8f, 0.8f);
  d.r = randomFloats(c.dirs() * gh * c.hidden, seed + 2, -0.8f, 0.8f);
  if (c.bias) d.b = randomFloats(c.dirs() * 2 * gh, seed + 3, -0.5f, 0.5f);
  if (c.initialH) d.h0 = randomFloats(volume(c.stateDims()), seed + 4);
  if (c.initialC) d.c0 = randomFloats(volume(c.stateDims()), seed + 5);
  if (c.peepholes) d.p = randomFloats(c.dirs() * 3 * c.hidden, seed + 6);
  return d;
}

struct Outputs {
  std::vector<float> y, yh, yc;
};

// The activation functions as ONNX defines them (Softplus: log(1 + e^x)).
double activation(ActivationType type, double x, double alpha, double beta) {
  switch (type) {
    case ActivationType::kSIGMOID:
      return 1.0 / (1.0 + std::exp(-x));
    case ActivationType::kTANH:
      return std::tanh(x);
    case ActivationType::kRELU:
      return x > 0 ? x : 0.0;
    case ActivationType::kLEAKY_RELU:
      return x >= 0 ? x : alpha * x;
    case ActivationType::kHARD_SIGMOID:
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    case ActivationType::kSCALED_TANH:
      return alpha * std::tanh(beta * x);
    case ActivationType::kELU:
      return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    case ActivationType::kSOFTSIGN:
      return x / (1.0 + std::fabs(x));
    case ActivationType::kSOFTPLUS:
      return std::log1p(std::exp(x));
    default:
      ADD_FAILURE() << "no test activation " << static_cast<int>(type);
      return 0.0;
  }
}

// The ONNX equations, batch entry by batch entry, with the gate matrices indexed as the spec
// names them.
Outputs expected(const Case& c, const Data& data) {
  const int64_t T = c.steps, B = c.batch, I = c.input, H = c.hidden, D = c.dirs(), G = c.gates();
  Outputs out;
  out.y.assign(static_cast<std::size_t>(volume(c.yDims())), 0.f);
  out.yh.assign(static_cast<std::size_t>(volume(c.stateDims())), 0.f);
  out.yc = out.yh;
  const auto xAt = [&](int64_t t, int64_t b, int64_t i) {
    return data
        .x[static_cast<std::size_t>(c.batchFirst ? (b * T + t) * I + i : (t * B + b) * I + i)];
  };
  const auto stateIndex = [&](int64_t d, int64_t b, int64_t j) {
    return static_cast<std::size_t>(c.batchFirst ? (b * D + d) * H + j : (d * B + b) * H + j);
  };
  const auto yIndex = [&](int64_t t, int64_t d, int64_t b, int64_t j) {
    return static_cast<std::size_t>(c.batchFirst ? ((b * T + t) * D + d) * H + j
                                                 : ((t * D + d) * B + b) * H + j);
  };
  const auto clip = [&](double v) {
    return c.clip > 0 ? std::max(-static_cast<double>(c.clip), std::min<double>(c.clip, v)) : v;
  };
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = c.direction == RNNDirection::kREVERSE || d == 1;
    // f, g, h of this direction.
    const auto act = [&](int64_t k, double v) {
      if (c.activations.empty()) {
        const bool sigmoid = k == 0 && c.op != RNNOperation::kRNN;
        return activation(sigmoid ? ActivationType::kSIGMOID : ActivationType::kTANH, v, 0, 0);
      }
      const auto idx =
          static_cast<std::size_t>(static_cast<int64_t>(c.activations.size()) == c.perDirection()
                                       ? k
                                       : d * c.perDirection() + k);
      return activation(c.activations[idx], v, c.alphas[idx], c.betas[idx]);
    };
    const auto W = [&](int64_t gate, int64_t j, int64_t i) {
      return static_cast<double>(
          data.w[static_cast<std::size_t>(((d * G + gate) * H + j) * I + i)]);
    };
    const auto R = [&](int64_t gate, int64_t j, int64_t k) {
      return static_cast<double>(
          data.r[static_cast<std::size_t>(((d * G + gate) * H + j) * H + k)]);
    };
    const auto Wb = [&](int64_t gate, int64_t j) {
      return c.bias ? data.b[static_cast<std::size_t>(d * 2 * G * H + gate * H + j)] : 0.0;
    };
    const auto Rb = [&](int64_t gate, int64_t j) {
      return c.bias ? data.b[static_cast<std::size_t>(d * 2 * G * H + G * H + gate * H + j)] : 0.0;
    };
    const auto P = [&](int64_t which, int64_t j) {  // 0 i, 1 o, 2 f
      return c.peepholes ? data.p[static_cast<std::size_t>(d * 3 * H + which * H + j)] : 0.0;
    };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = c.lengths.empty() ? T : c.lengths[static_cast<std::size_t>(b)];
      std::vector<double> h(static_cast<std::size_t>(H)), cell(static_cast<std::size_t>(H));
      for (int64_t j = 0; j < H; ++j) {
        h[static_cast<std::size_t>(j)] = c.initialH ? data.h0[stateIndex(d, b, j)] : 0.0;
        cell[static_cast<std::size_t>(j)] = c.initialC ? data.c0[stateIndex(d, b, j)] : 0.0;
      }
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        const auto xw = [&](int64_t gate, int64_t j) {
          double s = Wb(gate, j);
          for (int64_t i = 0; i < I; ++i) s += xAt(t, b, i) * W(gate, j, i);
          return s;
        };
        const auto hr = [&](int64_t gate, int64_t j, const std::vector<double>& v) {
          double s = Rb(gate, j);
          for (int64_t k = 0; k < H; ++k) s += v[static_cast<std::size_t>(k)] * R(gate, j, k);
          return s;
        };
        std::vector<double> hn(static_cast<std::size_t>(H)), cn(static_cast<std::size_t>(H));
        if (c.op == RNNOperation::kLSTM) {
          for (int64_t j = 0; j < H; ++j) {
            const double cp = cell[static_cast<std::size_t>(j)];
            const double it = act(0, clip(xw(0, j) + hr(0, j, h) + P(0, j) * cp));
            const double ft =
                c.inputForget ? 1.0 - it : act(0, clip(xw(2, j) + hr(2, j, h) + P(2, j) * cp));
            const double ct = act(1, clip(xw(3, j) + hr(3, j, h)));
            const double cnew = ft * cp + it * ct;
            const double ot = act(0, clip(xw(1, j) + hr(1, j, h) + P(1, j) * cnew));
            cn[static_cast<std::size_t>(j)] = cnew;
            hn[static_cast<std::size_t>(j)] = ot * act(2, cnew);
          }
          cell = cn;
        } else if (c.op == RNNOperation::kGRU) {
          std::vector<double> z(static_cast<std::size_t>(H)), rh(static_cast<std::size_t>(H)),
              r(static_cast<std::size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            z[static_cast<std::size_t>(j)] = act(0, clip(xw(0, j) + hr(0, j, h)));
            r[static_cast<std::size_t>(j)] = act(0, clip(xw(1, j) + hr(1, j, h)));
            rh[static_cast<std::size_t>(j)] =
                r[static_cast<std::size_t>(j)] * h[static_cast<std::size_t>(j)];
          }
          for (int64_t j = 0; j < H; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            const double candidate = c.linearBeforeReset
                                         ? act(1, clip(xw(2, j) + r[jj] * hr(2, j, h)))
                                         : act(1, clip(xw(2, j) + hr(2, j, rh)));
            hn[jj] = (1 - z[jj]) * candidate + z[jj] * h[jj];
          }
        } else {
          for (int64_t j = 0; j < H; ++j)
            hn[static_cast<std::size_t>(j)] = act(0, clip(xw(0, j) + hr(0, j, h)));
        }
        h = hn;
        for (int64_t j = 0; j < H; ++j) {
          out.y[yIndex(t, d, b, j)] = static_cast<float>(h[static_cast<std::size_t>(j)]);
        }
      }
      for (int64_t j = 0; j < H; ++j) {
        out.yh[stateIndex(d, b, j)] = static_cast<float>(h[static_cast<std::size_t>(j)]);
        out.yc[stateIndex(d, b, j)] = static_cast<float>(cell[static_cast<std::size_t>(j)]);
      }
    }
  }
  if (!c.lstm()) out.yc.clear();
  return out;
}

// The layer for @p c in @p net, every output marked (Y, Y_h, then Y_c); network inputs: x, then
// as present the lengths, h0 and c0.
RNNLayer addLayer(NetworkDefinition& net, const Case& c, const Data& data) {
  const int64_t gh = c.gates() * c.hidden;
  const auto constant = [&](const Dims& dims, const std::vector<float>& v) {
    return net.addConstant(dims, floatWeights(v)).output(0);
  };
  Tensor x = net.addInput("x", DataType::kFLOAT, c.xDims());
  RNNLayer layer = net.addRNN(x, c.op, c.hidden, constant(Dims{c.dirs(), gh, c.input}, data.w),
                              constant(Dims{c.dirs(), gh, c.hidden}, data.r));
  if (!layer) return layer;
  layer.setName("rnn");
  layer.setDirection(c.direction);
  layer.setBatchFirst(c.batchFirst);
  if (c.clip > 0) layer.setClip(c.clip);
  if (c.inputForget) layer.setInputForget(true);
  if (c.linearBeforeReset) layer.setLinearBeforeReset(true);
  if (!c.activations.empty()) layer.setActivations(c.activations, c.alphas, c.betas);
  if (c.bias) layer.setInput(3, constant(Dims{c.dirs(), 2 * gh}, data.b));
  if (!c.lengths.empty()) layer.setInput(4, net.addInput("len", DataType::kINT32, Dims{c.batch}));
  if (c.initialH) layer.setInput(5, net.addInput("h0", DataType::kFLOAT, c.stateDims()));
  if (c.initialC) layer.setInput(6, net.addInput("c0", DataType::kFLOAT, c.stateDims()));
  if (c.peepholes) layer.setInput(7, constant(Dims{c.dirs(), 3 * c.hidden}, data.p));
  for (int32_t i = 0; i < layer.nbOutputs(); ++i) net.markOutput(layer.output(i));
  return layer;
}

std::vector<HostTensor> networkInputs(const Case& c, const Data& data) {
  std::vector<HostTensor> inputs{HostTensor::fromFloats(c.xDims(), data.x)};
  if (!c.lengths.empty()) inputs.push_back(HostTensor::fromInts(Dims{c.batch}, c.lengths));
  if (c.initialH) inputs.push_back(HostTensor::fromFloats(c.stateDims(), data.h0));
  if (c.initialC) inputs.push_back(HostTensor::fromFloats(c.stateDims(), data.c0));
  return inputs;
}

// Builds (plan round trip included) and runs the layer; compares every output with expected().
void expectMatchesEquations(const Case& c, uint32_t seed = 7) {
  const Data data = randomData(c, seed);
  NetworkFixture f;
  RNNLayer layer = addLayer(f.net(), c, data);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.output(0).dimensions(), c.yDims());
  EXPECT_EQ(layer.output(1).dimensions(), c.stateDims());
  const auto out = f.run(networkInputs(c, data));
  ASSERT_EQ(out.size(), c.lstm() ? 3u : 2u) << f.logger.errors();
  const Outputs want = expected(c, data);
  EXPECT_EQ(out[0].dims, c.yDims());
  expectClose(out[0].floats(), want.y, 1e-5, 1e-4, "Y");
  expectClose(out[1].floats(), want.yh, 1e-5, 1e-4, "Y_h");
  if (c.lstm()) expectClose(out[2].floats(), want.yc, 1e-5, 1e-4, "Y_c");
}

// --- hand-checked and equation-checked cases through the pipeline ----------------------------

TEST(Recurrent, RnnByHand) {
  // One unit, W = 0.5, R = -1, no bias: h1 = tanh(0.5 * 1), h2 = tanh(0.5 * 2 - h1).
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 1, 1});
  const std::vector<float> w{0.5f}, r{-1.f};
  RNNLayer layer = f.net().addRNN(x, RNNOperation::kRNN, 1,
                                  f.net().addConstant(Dims{1, 1, 1}, floatWeights(w)).output(0),
                                  f.net().addConstant(Dims{1, 1, 1}, floatWeights(r)).output(0));
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kRNN);
  EXPECT_EQ(layer.operation(), RNNOperation::kRNN);
  EXPECT_EQ(layer.hiddenSize(), 1);
  EXPECT_EQ(layer.nbOutputs(), 2);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(layer.output(1));
  const auto out = f.run({HostTensor::fromFloats(Dims{2, 1, 1}, std::vector<float>{1, 2})});
  ASSERT_EQ(out.size(), 2u);
  const double h1 = std::tanh(0.5), h2 = std::tanh(1.0 - h1);
  expectClose(out[0].floats(), std::vector<float>{static_cast<float>(h1), static_cast<float>(h2)},
              1e-6, 1e-6);
  expectClose(out[1].floats(), std::vector<float>{static_cast<float>(h2)}, 1e-6, 1e-6);
}

TEST(Recurrent, LstmByHand) {
  // One unit, one step, x = 1, W = (i 1, o 2, f 3, c 4), R = 0, B = 0, c0 = 0.5:
  // i = s(1), o = s(2), f = s(3), c~ = tanh(4), c = f * 0.5 + i * c~, h = o * tanh(c).
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 1});
  Tensor c0 = f.net().addInput("c0", DataType::kFLOAT, Dims{1, 1, 1});
  const std::vector<float> w{1, 2, 3, 4}, r{0, 0, 0, 0};
  RNNLayer layer = f.net().addRNN(x, RNNOperation::kLSTM, 1,
                                  f.net().addConstant(Dims{1, 4, 1}, floatWeights(w)).output(0),
                                  f.net().addConstant(Dims{1, 4, 1}, floatWeights(r)).output(0));
  ASSERT_TRUE(layer) << f.logger.errors();
  layer.setInput(6, c0);
  EXPECT_EQ(layer.nbOutputs(), 3);
  for (int32_t i = 0; i < 3; ++i) f.net().markOutput(layer.output(i));
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 1}, std::vector<float>{1}),
                          HostTensor::fromFloats(Dims{1, 1, 1}, std::vector<float>{0.5f})});
  ASSERT_EQ(out.size(), 3u) << f.logger.errors();
  const auto s = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double c = s(3) * 0.5 + s(1) * std::tanh(4.0);
  const double h = s(2) * std::tanh(c);
  expectClose(out[0].floats(), std::vector<float>{static_cast<float>(h)}, 1e-6, 1e-6, "Y");
  expectClose(out[1].floats(), std::vector<float>{static_cast<float>(h)}, 1e-6, 1e-6, "Y_h");
  expectClose(out[2].floats(), std::vector<float>{static_cast<float>(c)}, 1e-6, 1e-6, "Y_c");
}

TEST(Recurrent, LstmForward) {
  expectMatchesEquations({.op = RNNOperation::kLSTM, .batch = 2});
}

TEST(Recurrent, LstmWithoutBias) {
  expectMatchesEquations({.op = RNNOperation::kLSTM, .bias = false});
}

TEST(Recurrent, LstmReverseWithShorterSequences) {
  expectMatchesEquations({.op = RNNOperation::kLSTM,
                          .steps = 4,
                          .batch = 3,
                          .direction = RNNDirection::kREVERSE,
                          .lengths = {4, 2, 0}});
}

TEST(Recurrent, LstmBidirectionalStatesAndPeepholes) {
  expectMatchesEquations({.op = RNNOperation::kLSTM,
                          .batch = 2,
                          .direction = RNNDirection::kBIDIRECTIONAL,
                          .lengths = {3, 2},
                          .initialH = true,
                          .initialC = true,
                          .peepholes = true});
}

TEST(Recurrent, LstmBatchFirstBidirectional) {
  expectMatchesEquations({.op = RNNOperation::kLSTM,
                          .batch = 2,
                          .input = 3,
                          .direction = RNNDirection::kBIDIRECTIONAL,
                          .batchFirst = true,
                          .lengths = {1, 3},
                          .initialH = true,
                          .initialC = true});
}

TEST(Recurrent, LstmClipAndInputForget) {
  expectMatchesEquations({.op = RNNOperation::kLSTM, .batch = 2, .clip = 0.3f, .inputForget = true},
                         11);
}

TEST(Recurrent, LstmActivationsPerDirection) {
  expectMatchesEquations({.op = RNNOperation::kLSTM,
                          .direction = RNNDirection::kBIDIRECTIONAL,
                          .activations = {ActivationType::kHARD_SIGMOID, ActivationType::kTANH,
                                          ActivationType::kSOFTSIGN, ActivationType::kSIGMOID,
                                          ActivationType::kSCALED_TANH, ActivationType::kELU},
                          .alphas = {0.3f, 0, 0, 0, 0.7f, 0.9f},
                          .betas = {0.4f, 0, 0, 0, 1.5f, 0}});
}

TEST(Recurrent, GruDefault) {
  expectMatchesEquations({.op = RNNOperation::kGRU, .batch = 2, .initialH = true});
}

TEST(Recurrent, GruLinearBeforeReset) {
  expectMatchesEquations(
      {.op = RNNOperation::kGRU, .batch = 2, .initialH = true, .linearBeforeReset = true});
}

TEST(Recurrent, GruBidirectionalBatchFirstClipped) {
  expectMatchesEquations({.op = RNNOperation::kGRU,
                          .steps = 4,
                          .batch = 2,
                          .input = 3,
                          .direction = RNNDirection::kBIDIRECTIONAL,
                          .batchFirst = true,
                          .lengths = {2, 4},
                          .initialH = true,
                          .clip = 0.5f});
}

TEST(Recurrent, GruReverseWithOneActivationList) {
  expectMatchesEquations({.op = RNNOperation::kGRU,
                          .direction = RNNDirection::kREVERSE,
                          .linearBeforeReset = true,
                          .activations = {ActivationType::kLEAKY_RELU, ActivationType::kSOFTPLUS},
                          .alphas = {0.2f, 1.f},
                          .betas = {0.f, 1.f}});
}

TEST(Recurrent, RnnReluBidirectional) {
  expectMatchesEquations({.op = RNNOperation::kRNN,
                          .batch = 2,
                          .direction = RNNDirection::kBIDIRECTIONAL,
                          .initialH = true,
                          .activations = {ActivationType::kRELU},
                          .alphas = {0.f},
                          .betas = {0.f}});
}

// --- every CPU tactic against the reference kernel --------------------------------------------

// Runs the node of @p c through the reference kernel and every CPU tactic that takes it (two
// threads); every output must match, and the reference must match the equations. Returns how
// many fast tactics ran.
int32_t checkTactics(const Case& c, uint32_t seed) {
  const Data data = randomData(c, seed);
  NetworkFixture f;
  const RNNLayer layer = addLayer(f.net(), c, data);
  if (!layer) {
    ADD_FAILURE() << f.logger.errors();
    return 0;
  }
  // The node as the layer made it: its op and attributes.
  const ir::Node& made = f.net().impl().graph().node(detail::HandleAccess::id(layer));
  ir::Node node;
  node.name = "rnn";
  node.op = made.op;
  node.attrs = made.attrs;
  const int64_t gh = c.gates() * c.hidden;
  struct In {
    bool present;
    DataType type;
    Dims dims;
    const void* data;
    bool constant;
  };
  const std::vector<int32_t>& lens = c.lengths;
  const std::vector<In> ins = {
      {true, DataType::kFLOAT, c.xDims(), data.x.data(), false},
      {true, DataType::kFLOAT, Dims{c.dirs(), gh, c.input}, data.w.data(), true},
      {true, DataType::kFLOAT, Dims{c.dirs(), gh, c.hidden}, data.r.data(), true},
      {c.bias, DataType::kFLOAT, Dims{c.dirs(), 2 * gh}, data.b.data(), true},
      {!lens.empty(), DataType::kINT32, Dims{c.batch}, lens.data(), false},
      {c.initialH, DataType::kFLOAT, c.stateDims(), data.h0.data(), false},
      {c.initialC, DataType::kFLOAT, c.stateDims(), data.c0.data(), false},
      {c.peepholes, DataType::kFLOAT, Dims{c.dirs(), 3 * c.hidden}, data.p.data(), true}};
  const std::size_t nbInputs = c.lstm() ? 8 : 6;
  std::vector<ir::TensorInfo> infos;
  std::vector<ir::TensorView> views;
  for (std::size_t i = 0; i < nbInputs; ++i) {
    const In& in = ins[i];
    node.inputs.push_back(in.present ? static_cast<ir::ValueId>(i) : ir::kNoValue);
    ir::TensorInfo info;
    info.present = in.present;
    info.dtype = in.type;
    info.dims = in.dims;
    info.constData = in.present && in.constant ? in.data : nullptr;
    infos.push_back(info);
    views.push_back({in.type, in.dims, const_cast<void*>(in.data), in.present});
  }
  const std::size_t nbOutputs = c.lstm() ? 3 : 2;
  for (std::size_t o = 0; o < nbOutputs; ++o) {
    node.outputs.push_back(static_cast<ir::ValueId>(nbInputs + o));
  }
  const std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infos);

  const auto run = [&](const std::function<void(const ir::KernelContext&)>& fn, ThreadPool* pool,
                       std::size_t workspaceBytes) {
    std::vector<std::vector<float>> outs;
    std::vector<ir::TensorView> outViews;
    for (const auto& info : outInfos) {
      // Poisoned: an element a kernel skips fails the comparison.
      outs.emplace_back(static_cast<std::size_t>(volume(info.dims)), std::nanf(""));
    }
    for (std::size_t o = 0; o < outs.size(); ++o) {
      outViews.push_back({DataType::kFLOAT, outInfos[o].dims, outs[o].data(), true});
    }
    std::vector<float> workspace(workspaceBytes / sizeof(float) + 16);
    fn(ir::KernelContext{node, views, outViews, workspace.data(), workspaceBytes, pool});
    return outs;
  };
  const auto& schema = ir::OpRegistry::instance().get(node.op);
  const auto reference = run(schema.reference, nullptr, 0);
  const Outputs want = expected(c, data);
  expectClose(reference[0], want.y, 1e-5, 1e-4, "reference Y");
  expectClose(reference[1], want.yh, 1e-5, 1e-4, "reference Y_h");
  if (c.lstm()) expectClose(reference[2], want.yc, 1e-5, 1e-4, "reference Y_c");

  int32_t tactics = 0;
  ThreadPool pool(2);
  const backends::NodeSpec spec{node, infos, outInfos};
  for (const backends::Tactic* tactic :
       backends::TacticRegistry::instance().candidates(node.op, DeviceType::kCPU)) {
    if (tactic->name() == "cpu.reference" || !backends::runsHere(*tactic)) continue;
    if (!tactic->supports(spec)) continue;
    ++tactics;
    const auto kernel = tactic->instantiate(spec);
    const auto actual = run([&](const ir::KernelContext& ctx) { kernel->execute(ctx); }, &pool,
                            kernel->workspaceBytes());
    const std::string name(tactic->name());
    for (std::size_t o = 0; o < actual.size(); ++o) {
      expectClose(actual[o], reference[o], 1e-5, 1e-4, name + " output " + std::to_string(o));
    }
  }
  return tactics;
}

TEST(RecurrentTactics, MatchReferenceOnOddShapes) {
  // Odd sizes: hidden sizes that fill no vector or GEMM panel, batches past the small-rows
  // limit of the GEMM.
  const std::vector<Case> cases = {
      {.op = RNNOperation::kLSTM, .steps = 5, .batch = 3, .input = 7, .hidden = 9},
      {.op = RNNOperation::kLSTM,
       .steps = 6,
       .batch = 5,
       .input = 4,
       .hidden = 17,
       .direction = RNNDirection::kBIDIRECTIONAL,
       .lengths = {6, 0, 3, 1, 5},
       .initialH = true,
       .initialC = true,
       .peepholes = true},
      {.op = RNNOperation::kLSTM,
       .steps = 4,
       .batch = 2,
       .input = 5,
       .hidden = 8,
       .direction = RNNDirection::kREVERSE,
       .batchFirst = true,
       .lengths = {3, 4},
       .clip = 0.4f,
       .inputForget = true},
      {.op = RNNOperation::kLSTM, .steps = 3, .batch = 1, .input = 33, .hidden = 40, .bias = false},
      {.op = RNNOperation::kGRU, .steps = 5, .batch = 3, .input = 7, .hidden = 9, .initialH = true},
      {.op = RNNOperation::kGRU,
       .steps = 5,
       .batch = 6,
       .input = 3,
       .hidden = 13,
       .direction = RNNDirection::kBIDIRECTIONAL,
       .batchFirst = true,
       .lengths = {5, 4, 0, 2, 5, 1},
       .linearBeforeReset = true},
      {.op = RNNOperation::kGRU,
       .steps = 4,
       .batch = 2,
       .input = 6,
       .hidden = 11,
       .direction = RNNDirection::kREVERSE,
       .lengths = {2, 4},
       .clip = 0.6f,
       .activations = {ActivationType::kHARD_SIGMOID, ActivationType::kSOFTSIGN},
       .alphas = {0.25f, 0.f},
       .betas = {0.45f, 0.f}},
      {.op = RNNOperation::kRNN,
       .steps = 5,
       .batch = 3,
       .input = 7,
       .hidden = 9,
       .direction = RNNDirection::kBIDIRECTIONAL,
       .initialH = true},
  };
  uint32_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE("case " + std::to_string(seed - 100));
    // cpu.rnn.avx2 and cpu.rnn.portable at least run on any x86 machine kiln targets.
    EXPECT_GE(checkTactics(c, seed++), 2);
  }
}

// --- errors --------------------------------------------------------------------------------------

TEST(RecurrentErrors, BadWeightShapes) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 1, 2});
  const std::vector<float> w(12), r(16), r2(12), b(10);
  const auto constant = [&](const Dims& dims, const std::vector<float>& v) {
    return f.net().addConstant(dims, floatWeights(v)).output(0);
  };
  // LSTM with hidden size 2: W [1, 8, 2] and R [1, 8, 2]; W here has 6 rows.
  RNNLayer badW = f.net().addRNN(x, RNNOperation::kLSTM, 2, constant(Dims{1, 6, 2}, w),
                                 constant(Dims{1, 8, 2}, r));
  badW.setName("lstm");
  expectInvalidLayer(f, badW,
                     "layer 'lstm' (LSTM): W has shape 1x6x2; it needs 1x8x2 (num_directions, "
                     "4*hidden_size, input_size)");

  // R [1, 6, 2] fits a GRU of hidden size 2 but this one says 3.
  RNNLayer hidden = f.net().addRNN(x, RNNOperation::kGRU, 3, constant(Dims{1, 6, 2}, r2),
                                   constant(Dims{1, 6, 2}, r2));
  hidden.setName("gru");
  expectInvalidLayer(f, hidden,
                     "layer 'gru' (GRU): W has shape 1x6x2; it needs 1x9x2 (num_directions, "
                     "3*hidden_size, input_size)");

  RNNLayer badB = f.net().addRNN(x, RNNOperation::kGRU, 2, constant(Dims{1, 6, 2}, r2),
                                 constant(Dims{1, 6, 2}, r2));
  badB.setName("gru_b");
  badB.setInput(3, constant(Dims{1, 10}, b));
  expectInvalidLayer(f, badB,
                     "layer 'gru_b' (GRU): B has shape 1x10; it needs 1x12 (num_directions, "
                     "2*3*hidden_size)");

  // Bidirectional needs two of everything.
  RNNLayer oneDirection = f.net().addRNN(x, RNNOperation::kGRU, 2, constant(Dims{1, 6, 2}, r2),
                                         constant(Dims{1, 6, 2}, r2));
  oneDirection.setName("bi");
  oneDirection.setDirection(RNNDirection::kBIDIRECTIONAL);
  expectInvalidLayer(f, oneDirection, "layer 'bi' (GRU): W has shape 1x6x2; it needs 2x6x2");
}

TEST(RecurrentErrors, BadInputsAndSettings) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 2, 2});
  Tensor x2 = f.net().addInput("x2", DataType::kFLOAT, Dims{3, 2});
  Tensor lenF = f.net().addInput("lenF", DataType::kFLOAT, Dims{2});
  Tensor h0 = f.net().addInput("h0", DataType::kFLOAT, Dims{1, 3, 2});
  const std::vector<float> w(4), r(4);
  const auto constant = [&](const Dims& dims, const std::vector<float>& v) {
    return f.net().addConstant(dims, floatWeights(v)).output(0);
  };
  const auto rnn = [&](Tensor input, std::string_view name) {
    RNNLayer l = f.net().addRNN(input, RNNOperation::kRNN, 2, constant(Dims{1, 2, 2}, w),
                                constant(Dims{1, 2, 2}, r));
    l.setName(name);
    return l;
  };
  expectInvalidLayer(f, rnn(x2, "rank"),
                     "layer 'rank' (RNN): X has shape 3x2; it needs rank 3 ([seq_length, batch, "
                     "input_size])");
  RNNLayer lengths = rnn(x, "len");
  lengths.setInput(4, lenF);
  expectInvalidLayer(f, lengths,
                     "layer 'len' (RNN): sequence_lens must be int32 or int64, not "
                     "float32");
  RNNLayer state = rnn(x, "state");
  state.setInput(5, h0);
  expectInvalidLayer(f, state,
                     "layer 'state' (RNN): initial_h has shape 1x3x2; it needs 1x2x2 "
                     "(num_directions, batch, hidden_size)");
  RNNLayer acts = rnn(x, "acts");
  const std::vector<ActivationType> two{ActivationType::kTANH, ActivationType::kTANH};
  acts.setActivations(two);
  expectInvalidLayer(f, acts,
                     "layer 'acts' (RNN): RNN takes 1 activations per direction; 2 "
                     "given for 1 direction");
  RNNLayer unknown = rnn(x, "unknown");
  const std::vector<ActivationType> bad{static_cast<ActivationType>(99)};
  f.logger.clear();
  unknown.setActivations(bad);
  EXPECT_TRUE(f.logger.hasError("unknown activation type 99")) << f.logger.errors();
  unknown.setClip(-1.f);
  EXPECT_TRUE(f.logger.hasError("the clip threshold must be positive (or 0: none), not -1"))
      << f.logger.errors();
  unknown.setLinearBeforeReset(true);
  EXPECT_TRUE(f.logger.hasError("linear before reset applies to GRU layers only"))
      << f.logger.errors();
  EXPECT_FALSE(f.net().addRNN(x, RNNOperation::kLSTM, 0, constant(Dims{1, 2, 2}, w),
                              constant(Dims{1, 2, 2}, r)));
  EXPECT_TRUE(f.logger.hasError("addRNN: the hidden size must be positive, not 0"))
      << f.logger.errors();
}

TEST(RecurrentErrors, SequenceLengthBeyondTheSequenceFailsExecution) {
  const Case c{.op = RNNOperation::kGRU, .batch = 2, .lengths = {3, 4}};
  const Data data = randomData(c, 3);
  NetworkFixture f;
  ASSERT_TRUE(addLayer(f.net(), c, data));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<float> x = data.x, y(static_cast<std::size_t>(volume(c.yDims()))),
                     yh(static_cast<std::size_t>(volume(c.stateDims())));
  std::vector<int32_t> lengths = c.lengths;
  ASSERT_TRUE(context->setTensorAddress("x", x.data()));
  ASSERT_TRUE(context->setTensorAddress("len", lengths.data()));
  ASSERT_TRUE(context->setTensorAddress(f.net().output(0).name(), y.data()));
  ASSERT_TRUE(context->setTensorAddress(f.net().output(1).name(), yh.data()));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(
      f.logger.hasError("layer 'rnn' (GRU): sequence length 4 (batch entry 1) is outside "
                        "[0, 3]"))
      << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
