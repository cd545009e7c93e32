// Deconvolution tactics (the CUDA backend's cuDNN one where a GPU is present) against the
// reference kernel: symmetric padding (cuDNN pads directly), output-padding style pre > post,
// post > pre and SAME modes (full output cropped), groups, dilation, 1-d and 3-d, run-time
// weights and the fused epilogue. Without a GPU the cases still check which ones the CUDA tactic
// takes.
#include <gtest/gtest.h>

#include "gpu_tactic_support.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

constexpr std::string_view kDeconv = "cuda.deconv.cudnn";

struct DeconvCase {
  Dims x;
  int64_t outputs;
  Dims kernel;
  int64_t groups = 1;
  Dims stride{};
  Dims pre{};
  Dims post{};
  Dims dilation{};
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
};

ir::Attributes deconvAttrs(const DeconvCase& c) {
  ir::Attributes a;
  a.set("num_output", c.outputs);
  a.set("kernel", c.kernel);
  a.set("groups", c.groups);
  if (c.stride.nbDims > 0) a.set("stride", c.stride);
  if (c.pre.nbDims > 0) a.set("pre_padding", c.pre);
  if (c.post.nbDims > 0) a.set("post_padding", c.post);
  if (c.dilation.nbDims > 0) a.set("dilation", c.dilation);
  a.set("padding_mode", c.mode);
  return a;
}

std::vector<CheckInput> deconvInputs(const DeconvCase& c, uint32_t seed, bool constant, bool bias) {
  Dims w;
  w.nbDims = c.kernel.nbDims + 2;
  w[0] = c.x[1];
  w[1] = c.outputs / c.groups;
  for (int32_t i = 0; i < c.kernel.nbDims; ++i) w[2 + i] = c.kernel[i];
  std::vector<CheckInput> in = {randomInput(c.x, seed), randomInput(w, seed + 1, constant)};
  if (bias) in.push_back(randomInput(shape({c.outputs}), seed + 2, true));
  return in;
}

TEST(DeconvGpuTactics, GpuIsPresent) {
  if (!backends::gpuPresent()) GTEST_SKIP() << "no GPU: the CUDA tactics' outputs are not compared";
}

TEST(DeconvGpuTactics, Shapes) {
  const DeconvCase cases[] = {
      // Upsampling x2 with kernel 4, padding 1: symmetric, cuDNN pads directly.
      {shape({2, 32, 8, 8}), 16, shape({4, 4}), 1, shape({2, 2}), shape({1, 1}), shape({1, 1})},
      // pre > post by less than the stride: cuDNN's output padding.
      {shape({1, 6, 5, 7}), 4, shape({3, 3}), 1, shape({2, 2}), shape({1, 1}), shape({0, 0})},
      // post > pre: the full output is cropped.
      {shape({1, 6, 5, 7}), 4, shape({3, 3}), 1, shape({2, 2}), shape({0, 1}), shape({2, 1})},
      // Groups and dilation.
      {shape({2, 8, 6, 5}), 12, shape({3, 2}), 4, shape({1, 2}), shape({1, 0}), shape({1, 0}),
       shape({2, 1})},
      // Depthwise.
      {shape({1, 16, 9, 9}), 16, shape({3, 3}), 16, shape({1, 1}), shape({1, 1}), shape({1, 1})},
      // SAME modes.
      {shape({1, 5, 6, 7}), 3, shape({3, 3}), 1, shape({2, 2}), Dims{}, Dims{}, Dims{},
       PaddingMode::kSAME_UPPER},
      {shape({1, 5, 6, 7}), 3, shape({4, 4}), 1, shape({2, 2}), Dims{}, Dims{}, Dims{},
       PaddingMode::kSAME_LOWER},
      // 1-d and 3-d.
      {shape({2, 4, 11}), 6, shape({5}), 2, shape({3}), shape({2}), shape({2})},
      {shape({1, 3, 4, 5, 3}), 4, shape({2, 3, 2}), 1, shape({2, 1, 2}), shape({0, 1, 0}),
       shape({0, 1, 1})},
      // 1x1, stride 1, no padding.
      {shape({3, 40, 4, 6}), 24, shape({1, 1})},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (bool constant : {true, false}) {
      for (bool bias : {true, false}) {
        const auto in = deconvInputs(c, seed, constant, bias);
        seed += 3;
        checkWithGpu("Deconvolution", kDeconv, deconvAttrs(c), in);
      }
    }
  }
}

TEST(DeconvGpuTactics, EmptyBatchIsANoOp) {
  const DeconvCase c{shape({0, 2, 3, 3}), 2, shape({2, 2}), 1, shape({2, 2})};
  checkWithGpu("Deconvolution", kDeconv, deconvAttrs(c), deconvInputs(c, 5, true, true));
}

TEST(DeconvGpuTactics, Epilogue) {
  const DeconvCase cases[] = {
      {shape({2, 6, 5, 4}), 8, shape({3, 3}), 2, shape({2, 2}), shape({1, 1}), shape({1, 1})},
      {shape({1, 4, 5, 6}), 4, shape({2, 3}), 1, shape({2, 2}), shape({0, 1}), shape({1, 2})},
  };
  for (const auto& c : cases) {
    for (auto type : {ActivationType::kRELU, ActivationType::kSIGMOID, ActivationType::kGELU_ERF}) {
      for (bool residual : {true, false}) {
        const ir::Attributes plain = deconvAttrs(c);
        ir::Attributes attrs = plain;
        attrs.set("epilogue.activation", type);
        auto in = deconvInputs(c, 11, true, true);
        std::vector<float> added;
        if (residual) {
          attrs.set("epilogue.residual", int64_t{3});
          const auto out = ir::inferNode(
              [&] {
                ir::Node n;
                n.op = "Deconvolution";
                n.attrs = plain;
                n.inputs = {0, 1, 2};
                n.outputs = {3};
                return n;
              }(),
              std::vector<ir::TensorInfo>{{true, DataType::kFLOAT, in[0].dims},
                                          {true, DataType::kFLOAT, in[1].dims},
                                          {true, DataType::kFLOAT, in[2].dims}});
          in.push_back(randomInput(out[0].dims, 77));
          added = in[3].values;
        }
        checkWithGpu("Deconvolution", kDeconv, attrs, in, &plain, [&](std::vector<float>& y) {
          for (std::size_t i = 0; i < y.size(); ++i) {
            const float v = added.empty() ? y[i] : y[i] + added[i];
            y[i] = static_cast<float>(ops::applyActivation(type, v, 0.0, 0.0));
          }
        });
      }
    }
  }
}

// Kernel == stride without padding (x2 upsampling): the CPU tactic's one-pass col2im. Odd sizes,
// unequal kernels, a single input row, groups, 1-d, and the fused bias, residual and activations.
TEST(DeconvCpuTactics, KernelEqualsStride) {
  const DeconvCase cases[] = {
      {shape({1, 8, 5, 7}), 6, shape({2, 2}), 1, shape({2, 2})},
      {shape({2, 3, 1, 4}), 5, shape({3, 2}), 1, shape({3, 2})},
      {shape({1, 8, 3, 3}), 4, shape({2, 2}), 2, shape({2, 2})},
      {shape({1, 1, 1, 1}), 1, shape({2, 2}), 1, shape({2, 2})},
      {shape({1, 4, 6}), 3, shape({2}), 1, shape({2})},
  };
  uint32_t seed = 101;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      EXPECT_GE(
          checkTactics("Deconvolution", deconvAttrs(c), deconvInputs(c, seed, true, bias)).tactics,
          1);
      seed += 3;
    }
  }
  const DeconvCase c{shape({1, 6, 5, 3}), 4, shape({2, 2}), 1, shape({2, 2})};
  for (auto type : {ActivationType::kRELU, ActivationType::kSIGMOID}) {
    for (bool residual : {true, false}) {
      const ir::Attributes plain = deconvAttrs(c);
      ir::Attributes attrs = plain;
      attrs.set("epilogue.activation", type);
      auto in = deconvInputs(c, 13, true, true);
      std::vector<float> added;
      if (residual) {
        attrs.set("epilogue.residual", int64_t{3});
        in.push_back(randomInput(shape({1, 4, 10, 6}), 78));
        added = in[3].values;
      }
      checkTactics("Deconvolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
        for (std::size_t i = 0; i < y.size(); ++i) {
          const float v = added.empty() ? y[i] : y[i] + added[i];
          y[i] = static_cast<float>(ops::applyActivation(type, v, 0.0, 0.0));
        }
      });
    }
  }
}

}  // namespace
}  // namespace kiln::test
