// Convolution and deconvolution whose kernel and bias are tensors computed at run time
// (setInput(1, t) / setInput(2, t), as TensorRT allows): the same results as constant weights,
// and their shapes checked as weights are.
#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Case {
  bool transposed = false;
  Dims input, kernel;  // kernel: the full weight shape
  int64_t outputs = 0, groups = 1;
  Dims stride{1, 1}, padding{0, 0};
  bool bias = true;
};

Layer addLayer(NetworkDefinition& net, const Case& c, Tensor x, Weights kernel, Weights bias) {
  const Dims window{c.kernel[2], c.kernel[3]};
  if (c.transposed) {
    DeconvolutionLayer d = net.addDeconvolution(x, c.outputs, window, kernel, bias);
    d.setNbGroups(c.groups);
    d.setStride(c.stride);
    d.setPadding(c.padding);
    return d;
  }
  ConvolutionLayer conv = net.addConvolution(x, c.outputs, window, kernel, bias);
  conv.setNbGroups(c.groups);
  conv.setStride(c.stride);
  conv.setPadding(c.padding);
  return conv;
}

void checkAgainstConstantWeights(const Case& c, uint32_t seed) {
  const HostTensor x = randomTensor(c.input, seed);
  const HostTensor w = randomTensor(c.kernel, seed + 1);
  const HostTensor b = randomTensor(Dims{c.outputs}, seed + 2);
  const std::vector<float> ws = w.floats(), bs = b.floats();

  NetworkFixture constant;
  Tensor cx = constant.net().addInput("x", DataType::kFLOAT, c.input);
  Layer cl =
      addLayer(constant.net(), c, cx, floatWeights(ws), c.bias ? floatWeights(bs) : Weights{});
  ASSERT_TRUE(cl) << constant.logger.errors();
  constant.net().markOutput(cl.output(0));
  const auto expected = constant.run({x});
  ASSERT_EQ(expected.size(), 1u);

  NetworkFixture runTime;
  Tensor rx = runTime.net().addInput("x", DataType::kFLOAT, c.input);
  Tensor rw = runTime.net().addInput("w", DataType::kFLOAT, c.kernel);
  Layer rl = addLayer(runTime.net(), c, rx, Weights{}, Weights{});
  ASSERT_TRUE(rl) << runTime.logger.errors();
  rl.setInput(1, rw);
  std::vector<HostTensor> inputs{x, w};
  if (c.bias) {
    Tensor rb = runTime.net().addInput("b", DataType::kFLOAT, Dims{c.outputs});
    rl.setInput(2, rb);
    inputs.push_back(b);
  }
  runTime.net().markOutput(rl.output(0));
  EXPECT_EQ(rl.output(0).dimensions(), cl.output(0).dimensions());
  const auto actual = runTime.run(inputs);
  ASSERT_EQ(actual.size(), 1u) << runTime.logger.errors();
  EXPECT_EQ(actual[0].dims, expected[0].dims);
  expectClose(actual[0].floats(), expected[0].floats(), 1e-6, 1e-6);
}

TEST(RunTimeWeights, ConvolutionMatchesConstantWeights) {
  checkAgainstConstantWeights({.input = {2, 3, 5, 4}, .kernel = {4, 3, 3, 2}, .outputs = 4}, 1);
  checkAgainstConstantWeights({.input = {1, 4, 6, 5},
                               .kernel = {6, 2, 3, 3},
                               .outputs = 6,
                               .groups = 2,
                               .stride = {2, 1},
                               .padding = {1, 1},
                               .bias = false},
                              2);
}

TEST(RunTimeWeights, DeconvolutionMatchesConstantWeights) {
  checkAgainstConstantWeights(
      {.transposed = true, .input = {2, 3, 3, 4}, .kernel = {3, 2, 3, 2}, .outputs = 2}, 3);
  checkAgainstConstantWeights({.transposed = true,
                               .input = {1, 4, 3, 3},
                               .kernel = {4, 1, 2, 3},
                               .outputs = 2,
                               .groups = 2,
                               .stride = {2, 3},
                               .padding = {1, 0}},
                              4);
}

TEST(RunTimeWeights, KernelTensorOfTheWrongShapeIsReported) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 5, 5});
  Tensor w = f.net().addInput("w", DataType::kFLOAT, Dims{4, 2, 3, 3});
  ConvolutionLayer conv = f.net().addConvolution(x, 4, Dims{3, 3}, Weights{}, Weights{});
  ASSERT_TRUE(conv);
  conv.setName("conv");
  conv.setInput(1, w);
  expectInvalidLayer(f, conv,
                     "layer 'conv' (Convolution): kernel weights have shape 4x2x3x3 (72 values); "
                     "with 3 input channels, 4 output maps and 1 group the layer needs 4x3x3x3");
}

TEST(RunTimeWeights, NonFloatKernelOrBiasTensorsAreReported) {
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
    Tensor w = f.net().addInput("w", DataType::kINT32, Dims{2, 1, 2, 2});
    ConvolutionLayer conv = f.net().addConvolution(x, 2, Dims{2, 2}, Weights{}, Weights{});
    conv.setInput(1, w);
    expectInvalidLayer(f, conv, "kernel weights must be float32");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
    Tensor w = f.net().addInput("w", DataType::kFLOAT, Dims{1, 2, 2, 2});
    Tensor b = f.net().addInput("b", DataType::kFLOAT, Dims{3});
    DeconvolutionLayer deconv = f.net().addDeconvolution(x, 2, Dims{2, 2}, Weights{}, Weights{});
    deconv.setInput(1, w);
    deconv.setInput(2, b);
    expectInvalidLayer(f, deconv,
                       "bias weights have 3 values (shape 3); the layer has 2 output maps");
  }
}

TEST(RunTimeWeights, MissingKernelIsReported) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
  ConvolutionLayer conv = f.net().addConvolution(x, 2, Dims{2, 2}, Weights{}, Weights{});
  expectInvalidLayer(f, conv,
                     "kernel weights are not set (call setKernelWeights, or setInput(1, tensor))");
}

}  // namespace
}  // namespace kiln::test
