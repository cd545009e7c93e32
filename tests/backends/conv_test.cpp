// Convolution tactics (GEMM with implicit im2col, 1x1 as plain GEMM, direct depthwise) against
// the reference kernel: odd sizes, groups, stride, dilation, asymmetric and SAME padding, 1-d,
// size-1 and empty dims, constant and run-time weights, and the fused epilogue.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "backends/tactic.h"
#include "gpu_tactic_support.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct ConvCase {
  Dims x;
  int64_t outputs;
  Dims kernel;
  int64_t groups = 1;
  Dims stride{};
  Dims dilation{};
  Dims pre{};
  Dims post{};
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
};

ir::Attributes convAttrs(const ConvCase& c) {
  ir::Attributes a;
  a.set("num_output", c.outputs);
  a.set("kernel", c.kernel);
  a.set("groups", c.groups);
  if (c.stride.nbDims > 0) a.set("stride", c.stride);
  if (c.dilation.nbDims > 0) a.set("dilation", c.dilation);
  if (c.pre.nbDims > 0) a.set("pre_padding", c.pre);
  if (c.post.nbDims > 0) a.set("post_padding", c.post);
  a.set("padding_mode", c.mode);
  return a;
}

std::vector<CheckInput> convInputs(const ConvCase& c, uint32_t seed, bool constant, bool bias) {
  Dims w;
  w.nbDims = c.kernel.nbDims + 2;
  w[0] = c.outputs;
  w[1] = c.x[1] / c.groups;
  for (int32_t i = 0; i < c.kernel.nbDims; ++i) w[2 + i] = c.kernel[i];
  std::vector<CheckInput> in = {randomInput(c.x, seed), randomInput(w, seed + 1, constant)};
  if (bias) in.push_back(randomInput(shape({c.outputs}), seed + 2, true));
  return in;
}

TEST(ConvTactics, OddShapes) {
  const ConvCase cases[] = {
      {shape({1, 3, 11, 13}), 5, shape({3, 3})},
      {shape({2, 4, 9, 7}), 6, shape({3, 2}), 2, shape({2, 1}), shape({1, 2}), shape({1, 0}),
       shape({2, 1})},
      {shape({1, 6, 10, 10}), 6, shape({3, 3}), 6, shape({1, 1}), shape({1, 1}), shape({1, 1}),
       shape({1, 1})},
      {shape({2, 5, 9, 8}), 5, shape({3, 3}), 5, shape({2, 2}), shape({2, 2}), shape({2, 1}),
       shape({0, 2})},
      {shape({1, 5, 7, 7}), 10, shape({5, 5}), 5},
      {shape({1, 17, 5, 6}), 19, shape({1, 1})},
      {shape({1, 7, 8, 9}), 13, shape({1, 1}), 1, shape({2, 2})},
      {shape({1, 3, 1, 1}), 4, shape({1, 1})},
      {shape({1, 3, 15}), 4, shape({3}), 1, shape({2}), shape({1}), shape({1}), shape({1})},
      {shape({1, 2, 6, 6}), 3, shape({3, 3}), 1, shape({2, 2}), Dims{}, Dims{}, Dims{},
       PaddingMode::kSAME_UPPER},
      {shape({0, 3, 5, 5}), 4, shape({3, 3})},
      {shape({1, 40, 20, 20}), 36, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 300, 7, 7}), 14, shape({1, 1})},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (bool constant : {true, false}) {
      for (bool bias : {true, false}) {
        const auto r =
            checkTactics("Convolution", convAttrs(c), convInputs(c, seed, constant, bias));
        seed += 3;
        EXPECT_GE(r.tactics, 1) << toString(c.x);
      }
    }
  }
}

// The GEMM on a padded copy of the input (padding, or stride 2 split by column parity) packed a
// block of panels at a time: asymmetric padding, padding past every window, batches and groups,
// odd and even dilation with stride 2, stride 2 along one axis only, stride 3, output rows longer
// than a packing block (256 columns), 1x1 windows with padding, and the stem's 7x7 stride 2.
TEST(ConvTactics, PaddedIm2col) {
  const ConvCase cases[] = {
      {shape({1, 3, 23, 29}), 9, shape({7, 7}), 1, shape({2, 2}), Dims{}, shape({3, 3}),
       shape({2, 3})},
      {shape({2, 6, 17, 40}), 10, shape({3, 3}), 2, shape({2, 2}), Dims{}, shape({1, 1}),
       shape({1, 1})},
      {shape({1, 4, 5, 600}), 7, shape({3, 3}), 1, shape({1, 2}), Dims{}, shape({0, 1}),
       shape({0, 1})},
      {shape({1, 5, 8, 19}), 6, shape({1, 3}), 1, shape({2, 2}), shape({1, 2}), shape({0, 2}),
       shape({0, 1})},
      {shape({1, 3, 11, 21}), 5, shape({3, 3}), 1, shape({2, 2}), shape({2, 3}), shape({1, 4}),
       shape({2, 3})},
      {shape({1, 4, 14, 14}), 6, shape({3, 3}), 1, shape({3, 3}), Dims{}, shape({2, 2}),
       shape({2, 2})},
      {shape({1, 2, 4, 4}), 3, shape({2, 2}), 1, shape({2, 2}), Dims{}, shape({3, 3}),
       shape({3, 3})},
      {shape({1, 3, 5, 5}), 4, shape({1, 1}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({2, 3, 30, 34}), 13, shape({3, 3}), 1, shape({2, 2}), Dims{}, shape({1, 1}),
       shape({1, 1})},
      {shape({1, 3, 39, 39}), 8, shape({7, 7}), 1, shape({2, 2}), Dims{}, shape({3, 3}),
       shape({3, 3})},
      {shape({1, 24, 9, 9}), 40, shape({3, 3}), 1, shape({2, 2}), Dims{}, shape({1, 1}),
       shape({1, 1})},
  };
  uint32_t seed = 500;
  for (const auto& c : cases) {
    for (bool constant : {true, false}) {
      for (int32_t threads : {1, 2}) {
        const auto r =
            checkTactics("Convolution", convAttrs(c), convInputs(c, seed, constant, true), threads);
        seed += 3;
        EXPECT_GE(r.tactics, 2) << toString(c.x);
      }
    }
  }
}

TEST(ConvTactics, DepthwiseIsOffered) {
  const ConvCase c{shape({1, 8, 9, 9}), 8, shape({3, 3}), 8};
  int32_t depthwise = 0;
  const auto in = convInputs(c, 1, true, true);
  const auto r = checkTactics("Convolution", convAttrs(c), in);
  EXPECT_GE(r.tactics, 3);  // depthwise (portable, maybe avx2) and the GEMM ones
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    depthwise += t->name().find("depthwise") != std::string_view::npos;
  }
  EXPECT_GE(depthwise, 1);
}

// The direct kernel (stride 1, one group, constant weights): full and partial blocks of output
// channels, full width tiles and masked tails, narrow rows stacked three to a tile (with one and
// two rows left over), asymmetric padding, every vectorized activation.
TEST(ConvTactics, DirectConv) {
  const ConvCase cases[] = {
      {shape({2, 3, 5, 70}), 19, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 5, 9, 16}), 8, shape({5, 5}), 1, Dims{}, Dims{}, shape({2, 2}), shape({2, 2})},
      {shape({1, 4, 7, 49}), 3, shape({3, 2}), 1, Dims{}, Dims{}, shape({0, 1}), shape({2, 0})},
      {shape({1, 2, 20}), 9, shape({3}), 1, Dims{}, Dims{}, shape({1}), shape({1})},
      {shape({1, 6, 4, 12}), 16, shape({3, 3})},
      {shape({2, 5, 7, 9}), 11, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 4, 5, 16}), 9, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 6, 4}), 2, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({3, 16, 7, 7}), 20, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 4, 5, 8}), 9, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 4, 6}), 5, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 21, 70}), 10, shape({7, 7}), 1, shape({2, 2}), Dims{}, shape({3, 3}),
       shape({3, 3})},
      {shape({2, 4, 9, 37}), 9, shape({3, 3}), 1, shape({2, 2}), Dims{}, shape({1, 1}),
       shape({1, 1})},
      {shape({1, 2, 10, 36}), 3, shape({3, 3}), 1, shape({2, 2})},
      {shape({1, 3, 9, 20}), 4, shape({3, 3}), 1, shape({2, 1}), Dims{}, shape({1, 1}),
       shape({1, 1})},
  };
  uint32_t seed = 300;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      checkTactics("Convolution", convAttrs(c), convInputs(c, seed, true, bias));
      seed += 3;
    }
  }
  for (auto type : {ActivationType::kRELU, ActivationType::kLEAKY_RELU, ActivationType::kCLIP,
                    ActivationType::kTANH}) {
    for (int64_t width : {int64_t{40}, int64_t{12}, int64_t{7}}) {
      const ConvCase c{shape({1, 5, 8, width}), 11,           shape({3, 3}), 1, Dims{}, Dims{},
                       shape({1, 1}),           shape({1, 1})};
      const ir::Attributes plain = convAttrs(c);
      ir::Attributes attrs = plain;
      attrs.set("epilogue.activation", type);
      attrs.set("epilogue.alpha", -0.3);
      attrs.set("epilogue.beta", 0.6);
      attrs.set("epilogue.residual", int64_t{3});
      auto in = convInputs(c, 17, true, true);
      in.push_back(randomInput(shape({1, 11, 8, width}), 98));
      const auto residual = in[3].values;
      checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
        for (std::size_t i = 0; i < y.size(); ++i) {
          y[i] = static_cast<float>(ops::applyActivation(type, y[i] + residual[i], -0.3, 0.6));
        }
      });
    }
  }
  // Offered where the host has AVX-512 or AVX2 and the node fits it (the NCHW direct tactics:
  // cpu.conv.direct.nchw8c.* takes blocked nodes, blocked_conv_test.cpp).
  const ConvCase c{shape({1, 5, 6, 40}), 11, shape({3, 3})};
  const auto in = convInputs(c, 1, true, true);
  std::vector<ir::TensorInfo> infos(in.size());
  ir::Node node;
  node.op = "Convolution";
  node.attrs = convAttrs(c);
  for (std::size_t i = 0; i < in.size(); ++i) {
    node.inputs.push_back(static_cast<ir::ValueId>(i));
    infos[i].dims = in[i].dims;
    infos[i].constData = in[i].values.data();
  }
  node.outputs.push_back(static_cast<ir::ValueId>(in.size()));
  const auto outs = ir::inferNode(node, infos);
  const backends::NodeSpec spec{node, infos, outs};
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    if (t->name().starts_with("cpu.conv.direct.") &&
        t->name().find("nchw8c") == std::string_view::npos && tacticRunsHere(*t)) {
      EXPECT_TRUE(t->supports(spec));
    }
  }
}

TEST(ConvTactics, Epilogue) {
  for (int64_t groups : {int64_t{1}, int64_t{6}}) {
    for (auto type : {ActivationType::kRELU, ActivationType::kCLIP, ActivationType::kSIGMOID}) {
      const ConvCase c{
          shape({2, 6, 9, 10}), 6, shape({3, 3}), groups, Dims{}, Dims{}, shape({1, 1}),
          shape({1, 1})};
      const ir::Attributes plain = convAttrs(c);
      ir::Attributes attrs = plain;
      attrs.set("epilogue.activation", type);
      attrs.set("epilogue.alpha", 0.0);
      attrs.set("epilogue.beta", 0.6);
      attrs.set("epilogue.residual", int64_t{3});
      auto in = convInputs(c, 7, true, true);
      in.push_back(randomInput(shape({2, 6, 9, 10}), 99));
      const auto residual = in[3].values;
      const auto r = checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
        for (std::size_t i = 0; i < y.size(); ++i) {
          y[i] = static_cast<float>(ops::applyActivation(type, y[i] + residual[i], 0.0, 0.6));
        }
      });
      EXPECT_GE(r.tactics, 1);
    }
  }
}

// Few output pixels and many output channels: the GEMM splits M among the threads and the
// image's im2col panels (or its copy, 1x1) are packed once for all of them (cut along K), with
// partial panels, stride, asymmetric padding, a batch, run-time weights and the fused residual and
// activation.
TEST(ConvTactics, SharedPacking) {
  const ConvCase cases[] = {
      {shape({2, 32, 7, 7}), 64, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 40, 9, 11}), 70, shape({3, 3}), 1, shape({2, 2}), Dims{}, shape({1, 0}),
       shape({0, 1})},
      {shape({1, 24, 12, 5}), 100, shape({3, 2}), 1, Dims{}, shape({2, 1}), shape({2, 1}),
       shape({2, 0})},
      {shape({2, 300, 7, 7}), 64, shape({1, 1}), 1, Dims{}, Dims{}, shape({0, 0}), shape({0, 0})},
  };
  uint32_t seed = 300;
  for (const auto& c : cases) {
    for (bool constant : {true, false}) {
      const auto r = checkTactics("Convolution", convAttrs(c), convInputs(c, seed, constant, true));
      seed += 3;
      EXPECT_GE(r.tactics, 1) << toString(c.x);
    }
    const ir::Attributes plain = convAttrs(c);
    ir::Attributes attrs = plain;
    attrs.set("epilogue.activation", ActivationType::kRELU);
    attrs.set("epilogue.residual", int64_t{3});
    auto in = convInputs(c, seed, true, true);
    Dims y = c.x;
    y[1] = c.outputs;
    const int64_t oh = (c.x[2] + c.pre[0] + c.post[0] -
                        (c.dilation.nbDims > 0 ? c.dilation[0] : 1) * (c.kernel[0] - 1) - 1) /
                           (c.stride.nbDims > 0 ? c.stride[0] : 1) +
                       1;
    const int64_t ow = (c.x[3] + c.pre[1] + c.post[1] -
                        (c.dilation.nbDims > 0 ? c.dilation[1] : 1) * (c.kernel[1] - 1) - 1) /
                           (c.stride.nbDims > 0 ? c.stride[1] : 1) +
                       1;
    y[2] = oh;
    y[3] = ow;
    in.push_back(randomInput(y, seed + 7));
    const auto residual = in[3].values;
    const auto r = checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& v) {
      ASSERT_EQ(v.size(), residual.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::max(v[i] + residual[i], 0.f);
    });
    EXPECT_GE(r.tactics, 1) << toString(c.x);
  }
}

TEST(DeconvTactics, OddShapes) {
  struct Case {
    Dims x;
    int64_t outputs;
    Dims kernel;
    int64_t groups;
    Dims stride;
    Dims pre;
    Dims post;
  };
  const Case cases[] = {
      {shape({1, 4, 5, 6}), 3, shape({2, 2}), 1, shape({2, 2}), shape({0, 0}), shape({0, 0})},
      {shape({2, 4, 5, 3}), 6, shape({3, 3}), 2, shape({2, 1}), shape({1, 0}), shape({0, 1})},
      {shape({1, 3, 7}), 5, shape({4}), 1, shape({3}), shape({1}), shape({2})},
      {shape({1, 6, 4, 4}), 6, shape({3, 3}), 6, shape({1, 1}), shape({1, 1}), shape({1, 1})},
      {shape({0, 2, 3, 3}), 2, shape({2, 2}), 1, shape({2, 2}), shape({0, 0}), shape({0, 0})},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    ir::Attributes a;
    a.set("num_output", c.outputs);
    a.set("kernel", c.kernel);
    a.set("groups", c.groups);
    a.set("stride", c.stride);
    a.set("pre_padding", c.pre);
    a.set("post_padding", c.post);
    Dims w;
    w.nbDims = c.kernel.nbDims + 2;
    w[0] = c.x[1];
    w[1] = c.outputs / c.groups;
    for (int32_t i = 0; i < c.kernel.nbDims; ++i) w[2 + i] = c.kernel[i];
    for (bool constant : {true, false}) {
      const auto r = checkTactics("Deconvolution", a,
                                  {randomInput(c.x, seed), randomInput(w, seed + 1, constant),
                                   randomInput(shape({c.outputs}), seed + 2, true)});
      seed += 3;
      EXPECT_GE(r.tactics, 1) << toString(c.x);
    }
  }
}

// Cases for the CUDA backend's cuDNN tactic (compared where a GPU is present; without one, which
// cases it takes): direct symmetric padding, padding the input itself (asymmetric, SAME,
// ROUND_UP), larger channels, 1-d, 3-d, and each epilogue path (fused ReLU with bias and
// residual, and the separate epilogue kernel).
constexpr std::string_view kCudnnConv = "cuda.conv.cudnn";

TEST(ConvGpuTactics, Shapes) {
  const ConvCase cases[] = {
      {shape({2, 64, 13, 11}), 48, shape({3, 3}), 1, Dims{}, Dims{}, shape({1, 1}), shape({1, 1})},
      {shape({1, 32, 16, 16}), 32, shape({3, 3}), 32, shape({2, 2}), Dims{}, shape({1, 1}),
       shape({1, 1})},
      {shape({2, 12, 9, 10}), 18, shape({3, 3}), 3, shape({1, 2}), shape({2, 1}), shape({2, 1}),
       shape({2, 0})},
      {shape({1, 8, 10, 9}), 6, shape({3, 3}), 1, shape({2, 2}), Dims{}, Dims{}, Dims{},
       PaddingMode::kSAME_UPPER},
      {shape({1, 8, 10, 9}), 6, shape({4, 2}), 1, shape({3, 2}), Dims{}, Dims{}, Dims{},
       PaddingMode::kSAME_LOWER},
      {shape({1, 5, 10, 9}), 7, shape({3, 3}), 1, shape({2, 2}), Dims{}, shape({1, 0}),
       shape({1, 0}), PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 96, 7, 7}), 128, shape({1, 1})},
      {shape({2, 6, 33}), 10, shape({5}), 2, shape({2}), shape({2}), shape({2}), shape({1})},
      {shape({1, 4, 6, 7, 5}), 6, shape({3, 3, 3}), 1, shape({1, 2, 1}), Dims{}, shape({1, 1, 1}),
       shape({1, 0, 1})},
      {shape({1, 3, 9, 9}), 4, shape({3, 3}), 1, Dims{}, Dims{}, shape({4, 0}), shape({0, 4})},
  };
  uint32_t seed = 100;
  for (const auto& c : cases) {
    for (bool constant : {true, false}) {
      for (bool bias : {true, false}) {
        const auto in = convInputs(c, seed, constant, bias);
        seed += 3;
        checkWithGpu("Convolution", kCudnnConv, convAttrs(c), in);
      }
    }
  }
}

TEST(ConvGpuTactics, EmptyBatchIsANoOp) {
  const ConvCase c{shape({0, 3, 5, 5}), 4, shape({3, 3})};
  checkWithGpu("Convolution", kCudnnConv, convAttrs(c), convInputs(c, 3, true, true));
}

TEST(ConvGpuTactics, EpiloguePaths) {
  struct Path {
    std::optional<ActivationType> activation;
    bool bias;
    bool residual;
  };
  const Path paths[] = {
      {ActivationType::kRELU, true, true},   // cudnnConvolutionBiasActivationForward
      {ActivationType::kRELU, true, false},  // fused too: z is the output, alpha2 = 0
      {ActivationType::kRELU, false, true},     {std::nullopt, false, true},
      {ActivationType::kGELU_TANH, true, true}, {ActivationType::kLEAKY_RELU, true, false},
      {ActivationType::kSILU, true, true},      {ActivationType::kHARD_SWISH, false, true},
  };
  for (bool shifted : {false, true}) {
    const ConvCase c{shape({2, 16, 9, 10}),
                     24,
                     shape({3, 3}),
                     2,
                     Dims{},
                     Dims{},
                     shifted ? shape({1, 0}) : shape({1, 1}),
                     shifted ? shape({1, 2}) : shape({1, 1})};
    for (const Path& p : paths) {
      const ir::Attributes plain = convAttrs(c);
      ir::Attributes attrs = plain;
      if (p.activation) {
        attrs.set("epilogue.activation", *p.activation);
        attrs.set("epilogue.alpha", 0.2);
      }
      auto in = convInputs(c, 21, true, p.bias);
      std::vector<float> residual;
      if (p.residual) {
        if (!p.bias) in.push_back(absentInput());
        attrs.set("epilogue.residual", int64_t{3});
        in.push_back(randomInput(shape({2, 24, 9, 10}), 55));  // both paddings keep 9 x 10
        residual = in[3].values;
      }
      checkWithGpu("Convolution", kCudnnConv, attrs, in, &plain, [&](std::vector<float>& y) {
        for (std::size_t i = 0; i < y.size(); ++i) {
          const float v = residual.empty() ? y[i] : y[i] + residual[i];
          y[i] = p.activation ? static_cast<float>(ops::applyActivation(*p.activation, v, 0.2, 0.0))
                              : v;
        }
      });
    }
  }
}

TEST(ConvGpuTactics, PointwiseAsGemm) {
  constexpr std::string_view kConv1x1 = "cuda.conv1x1.cublaslt";
  const ConvCase cases[] = {
      {shape({3, 24, 7, 9}), 40, shape({1, 1})},
      {shape({2, 5, 11}), 3, shape({1})},
      {shape({2, 6, 3, 4, 5}), 7, shape({1, 1, 1})},
      {shape({1, 64, 1, 1}), 1000, shape({1, 1})},
  };
  uint32_t seed = 300;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      checkWithGpu("Convolution", kConv1x1, convAttrs(c), convInputs(c, seed, true, bias));
      seed += 3;
    }
  }
  // Not pointwise GEMMs: stride, padding, groups.
  const ConvCase others[] = {
      {shape({1, 7, 8, 9}), 13, shape({1, 1}), 1, shape({2, 2})},
      {shape({1, 4, 5, 5}), 4, shape({1, 1}), 1, Dims{}, Dims{}, shape({1, 0}), shape({0, 0})},
      {shape({1, 4, 5, 5}), 4, shape({1, 1}), 2},
  };
  for (const auto& c : others) {
    expectGpuSupport("Convolution", kConv1x1, convAttrs(c), convInputs(c, 1, true, true), false);
  }
  // The epilogue: bias and activation after the GEMM, the residual as its C.
  const ConvCase c{shape({2, 16, 5, 6}), 12, shape({1, 1})};
  const ir::Attributes plain = convAttrs(c);
  for (auto type : {ActivationType::kRELU, ActivationType::kCLIP}) {
    ir::Attributes attrs = plain;
    attrs.set("epilogue.activation", type);
    attrs.set("epilogue.alpha", 0.0);
    attrs.set("epilogue.beta", 6.0);
    attrs.set("epilogue.residual", int64_t{3});
    auto in = convInputs(c, 31, true, true);
    in.push_back(randomInput(shape({2, 12, 5, 6}), 32));
    const auto residual = in[3].values;
    checkWithGpu("Convolution", kConv1x1, attrs, in, &plain, [&](std::vector<float>& y) {
      for (std::size_t i = 0; i < y.size(); ++i) {
        y[i] = static_cast<float>(ops::applyActivation(type, y[i] + residual[i], 0.0, 6.0));
      }
    });
  }
}

}  // namespace
}  // namespace kiln::test
