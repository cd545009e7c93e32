// Determinant (kiln's own layer: ONNX Det) through the public API and the whole pipeline.
#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

TEST(Determinant, BatchOfMatrices) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{4, 3, 3});
  DeterminantLayer det = f.net().addDeterminant(x);
  ASSERT_TRUE(det) << f.logger.errors();
  f.net().markOutput(det.output(0));
  const std::vector<float> xs{
      1, 0,  0, 0, 2, 0, 0, 0, 3,  // diagonal: 6
      0, 1,  0, 1, 0, 0, 0, 0, 1,  // a row swap: -1
      1, 2,  3, 4, 5, 6, 7, 8, 9,  // singular: 0
      2, -1, 0, 1, 3, 2, 0, 1, 4,  // 2(12 - 2) + 1(4 - 0) = 24
  };
  const auto out = f.run({HostTensor::fromFloats(Dims{4, 3, 3}, xs)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, Dims{4});
  expectClose(out[0].floats(), std::vector<float>{6, -1, 0, 24}, 1e-5, 1e-5);
}

TEST(Determinant, SingleMatrixEmptyBatchAndEmptyMatrix) {
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1});
    f.net().markOutput(f.net().addDeterminant(x).output(0));
    const auto out = f.run({HostTensor::fromFloats(Dims{1, 1}, std::vector<float>{-2.5f})});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims.nbDims, 0);
    EXPECT_EQ(out[0].floats(), std::vector<float>{-2.5f});
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{0, 2, 2});
    f.net().markOutput(f.net().addDeterminant(x).output(0));
    const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{0, 2, 2})});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims, Dims{0});
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 0, 0});
    f.net().markOutput(f.net().addDeterminant(x).output(0));
    const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{2, 0, 0})});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1}));
  }
}

TEST(Determinant, BadInputs) {
  NetworkFixture f;
  Tensor a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  DeterminantLayer det = f.net().addDeterminant(a);
  det.setName("det");
  expectInvalidLayer(f, det,
                     "layer 'det' (Determinant): the input has shape 2x3; it needs square matrices "
                     "in its last two dimensions [..., M, M]");
  Tensor b = f.net().addInput("b", DataType::kINT32, Dims{2, 2});
  expectInvalidLayer(f, f.net().addDeterminant(b), "input must be float32, not int32");
}

}  // namespace
}  // namespace kiln::test
