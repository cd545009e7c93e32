// EinsumLayer (ONNX Einsum) through the whole pipeline (build, plan round trip, run): the ONNX
// examples, diagonals, implicit outputs, "..." broadcasting, three inputs, int32, odd random
// shapes against plain loops, empty tensors, and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// Runs one Einsum layer over float inputs of @p shapes (values from @p inputs).
HostTensor runEinsum(const std::string& equation, const std::vector<HostTensor>& inputs) {
  NetworkFixture f;
  std::vector<Tensor> tensors;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tensors.push_back(f.net().addInput("x" + std::to_string(i), inputs[i].dtype, inputs[i].dims));
  }
  EinsumLayer layer =
      f.net().addEinsum(tensors.data(), static_cast<int32_t>(tensors.size()), equation);
  EXPECT_TRUE(layer) << f.logger.errors();
  if (!layer) return {};
  f.net().markOutput(layer.output(0));
  auto out = f.run(inputs);
  EXPECT_EQ(out.size(), 1u) << f.logger.errors();
  return out.empty() ? HostTensor() : out[0];
}

HostTensor iotaTensor(const Dims& dims, float start = 1.f) {
  std::vector<float> v(static_cast<std::size_t>(volume(dims)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return HostTensor::fromFloats(dims, v);
}

TEST(Einsum, MatMulTransposeSumInnerProduct) {
  const HostTensor a = iotaTensor({2, 3});
  const HostTensor b = iotaTensor({3, 2});
  HostTensor y = runEinsum("ij,jk->ik", {a, b});
  EXPECT_EQ(y.dims, (Dims{2, 2}));
  EXPECT_EQ(y.floats(), (std::vector<float>{22, 28, 49, 64}));

  y = runEinsum("ij->ji", {a});
  EXPECT_EQ(y.dims, (Dims{3, 2}));
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 4, 2, 5, 3, 6}));

  y = runEinsum("ij->i", {a});
  EXPECT_EQ(y.dims, (Dims{2}));
  EXPECT_EQ(y.floats(), (std::vector<float>{6, 15}));

  y = runEinsum("i,i", {iotaTensor({4}), iotaTensor({4})});
  EXPECT_EQ(y.dims.nbDims, 0);
  EXPECT_EQ(y.floats(), (std::vector<float>{30}));

  // Implicit output: the letters used once, in ASCII order (upper case first).
  y = runEinsum("ba", {a});
  EXPECT_EQ(y.dims, (Dims{3, 2}));
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  y = runEinsum("aB", {a});
  EXPECT_EQ(y.dims, (Dims{3, 2}));
}

TEST(Einsum, DiagonalTraceAndEllipsis) {
  const HostTensor m = iotaTensor({3, 3});
  HostTensor y = runEinsum("ii->i", {m});
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 5, 9}));
  y = runEinsum("ii", {m});
  EXPECT_EQ(y.dims.nbDims, 0);
  EXPECT_EQ(y.floats(), (std::vector<float>{15}));

  // ONNX test_einsum_batch_diagonal, with spaces.
  y = runEinsum("...ii ->...i", {iotaTensor({2, 3, 3})});
  EXPECT_EQ(y.dims, (Dims{2, 3}));
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 5, 9, 10, 14, 18}));

  // "..." broadcasts: [2, 1] with [3] batch dims -> [2, 3].
  const HostTensor a = HostTensor::fromFloats({2, 1, 2}, std::vector<float>{1, 2, 3, 4});
  const HostTensor b = HostTensor::fromFloats({3, 2}, std::vector<float>{1, 0, 0, 1, 1, 1});
  y = runEinsum("...i,...i->...", {a, b});
  EXPECT_EQ(y.dims, (Dims{2, 3}));
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 2, 3, 3, 4, 7}));
  // "..." left out of an explicit output is summed.
  y = runEinsum("...i->i", {a});
  EXPECT_EQ(y.floats(), (std::vector<float>{4, 6}));
}

TEST(Einsum, ThreeInputsOuterProductAndInt32) {
  const HostTensor u = HostTensor::fromFloats({2}, std::vector<float>{1, 2});
  const HostTensor v = HostTensor::fromFloats({3}, std::vector<float>{1, 10, 100});
  HostTensor y = runEinsum("i,j->ij", {u, v});
  EXPECT_EQ(y.floats(), (std::vector<float>{1, 10, 100, 2, 20, 200}));
  y = runEinsum("i,j,i->j", {u, v, u});  // sum_i u_i^2 * v_j
  EXPECT_EQ(y.floats(), (std::vector<float>{5, 50, 500}));

  const std::vector<int32_t> values = {1, -2, 3, 4};
  const HostTensor m = HostTensor::fromInts({2, 2}, values);
  y = runEinsum("ij,jk->ik", {m, m});
  ASSERT_EQ(y.dtype, DataType::kINT32);
  const auto got = y.as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(got.begin(), got.end()), (std::vector<int32_t>{-5, -10, 15, 10}));
}

TEST(Einsum, RandomOddShapesMatchLoops) {
  // "bij,bjk->bik" and "ijk->kji" against plain loops, with lengths 1, 3, 5, 7.
  const int64_t B = 3, I = 5, J = 7, K = 1;
  const HostTensor a = randomTensor({B, I, J}, 11);
  const HostTensor b = randomTensor({B, J, K}, 12);
  const HostTensor y = runEinsum("bij, bjk -> bik", {a, b});
  ASSERT_EQ(y.dims, (Dims{B, I, K}));
  const auto av = a.floats();
  const auto bv = b.floats();
  std::vector<float> expected;
  for (int64_t n = 0; n < B; ++n) {
    for (int64_t i = 0; i < I; ++i) {
      for (int64_t k = 0; k < K; ++k) {
        double sum = 0;
        for (int64_t j = 0; j < J; ++j) {
          sum += static_cast<double>(av[static_cast<std::size_t>((n * I + i) * J + j)]) *
                 bv[static_cast<std::size_t>((n * J + j) * K + k)];
        }
        expected.push_back(static_cast<float>(sum));
      }
    }
  }
  expectClose(y.floats(), expected);

  const HostTensor x = randomTensor({3, 1, 5}, 13);
  const HostTensor t = runEinsum("ijk->kji", {x});
  ASSERT_EQ(t.dims, (Dims{5, 1, 3}));
  const auto xv = x.floats();
  std::vector<float> transposed;
  for (int64_t k = 0; k < 5; ++k) {
    for (int64_t i = 0; i < 3; ++i) transposed.push_back(xv[static_cast<std::size_t>(i * 5 + k)]);
  }
  EXPECT_EQ(t.floats(), transposed);
}

TEST(Einsum, EmptyTensors) {
  // A summed length of 0 gives zeros; an output length of 0 gives an empty output.
  HostTensor y = runEinsum(
      "ij,jk->ik", {HostTensor(DataType::kFLOAT, {2, 0}), HostTensor(DataType::kFLOAT, {0, 3})});
  EXPECT_EQ(y.dims, (Dims{2, 3}));
  EXPECT_EQ(y.floats(), std::vector<float>(6, 0.f));
  y = runEinsum("ij->ji", {HostTensor(DataType::kFLOAT, {0, 4})});
  EXPECT_EQ(y.dims, (Dims{4, 0}));
}

TEST(Einsum, LayerSettings) {
  NetworkFixture f;
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, {2, 3});
  EinsumLayer layer = f.net().addEinsum(&x, 1, "ij->ji");
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.type(), LayerType::kEINSUM);
  EXPECT_EQ(toString(LayerType::kEINSUM), "Einsum");
  EXPECT_EQ(layer.equation(), "ij->ji");
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{3, 2}));
  layer.setEquation("ij->i");
  EXPECT_EQ(layer.equation(), "ij->i");
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{2}));
  f.net().markOutput(layer.output(0));
  const auto out = f.run({iotaTensor({2, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{6, 15}));
}

TEST(Einsum, BadEquationsNameTheLayer) {
  struct Case {
    std::string equation;
    std::vector<Dims> shapes;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"ij,jk->ik", {{2, 3}}, "has 2 input terms but the layer has 1 input"},
      {"ijk->i", {{2, 3}}, "input 0 of shape 2x3 has rank 2 but its term names 3 dimensions"},
      {"ij,jk->ik", {{2, 3}, {4, 5}}, "'j' has length 3 elsewhere but length 4"},
      {"ij->k", {{2, 3}}, "output label 'k' appears in no input"},
      {"ij->ii", {{2, 3}}, "output label 'i' appears twice"},
      {"i1->i", {{2, 3}}, "'1' is not a letter"},
      {"i.j->i", {{2, 3}}, "'.' must come as one '...' per term"},
      {"ij->i,j", {{2, 3}}, "the output after '->' must be one term"},
      {"...i,...i->...", {{2, 3}, {4, 3}}, "do not broadcast"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.equation);
    NetworkFixture f;
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < c.shapes.size(); ++i) {
      inputs.push_back(f.net().addInput("x" + std::to_string(i), DataType::kFLOAT, c.shapes[i]));
    }
    EinsumLayer layer =
        f.net().addEinsum(inputs.data(), static_cast<int32_t>(inputs.size()), c.equation);
    expectInvalidLayer(f, layer, "layer 'Einsum_0' (Einsum): equation '" + c.equation + "'");
    EXPECT_TRUE(f.logger.hasError(c.error)) << f.logger.errors();
  }

  NetworkFixture f;
  const Tensor a = f.net().addInput("a", DataType::kFLOAT, {2});
  const Tensor b = f.net().addInput("b", DataType::kINT32, {2});
  const std::vector<Tensor> mixed = {a, b};
  expectInvalidLayer(f, f.net().addEinsum(mixed.data(), 2, "i,i"),
                     "input 1 is int32 but input 0 is float32");
  NetworkFixture g;
  EXPECT_FALSE(g.net().addEinsum(nullptr, 0, "i"));
  EXPECT_TRUE(g.logger.hasError("addEinsum: 0 inputs given; Einsum takes 1 to 16"))
      << g.logger.errors();
}

}  // namespace
}  // namespace kiln::test
