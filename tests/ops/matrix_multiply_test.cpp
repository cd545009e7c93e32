// MatrixMultiply through the public API and the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// One operand written out as a batch of explicit [rows, cols] matrices, the operation applied
// (transposes copied, vectors as a [1, K] row for A and a [K, 1] column for B).
struct Matrices {
  std::vector<int64_t> batch;
  int64_t rows = 0;
  int64_t cols = 0;
  bool vector = false;
  std::vector<float> data;
};

Matrices asMatrices(const HostTensor& t, MatrixOperation op, bool lhs) {
  const Dims& d = t.dims;
  const int32_t rank = d.nbDims;
  if (rank == 1 && op == MatrixOperation::kNONE) op = MatrixOperation::kVECTOR;
  const auto values = t.floats();
  Matrices m;
  if (op == MatrixOperation::kVECTOR) {
    m.vector = true;
    for (int32_t i = 0; i < rank - 1; ++i) m.batch.push_back(d[i]);
    m.rows = lhs ? 1 : d[rank - 1];
    m.cols = lhs ? d[rank - 1] : 1;
    m.data = values;
    return m;
  }
  for (int32_t i = 0; i < rank - 2; ++i) m.batch.push_back(d[i]);
  const int64_t r = d[rank - 2];
  const int64_t c = d[rank - 1];
  if (op == MatrixOperation::kNONE) {
    m.rows = r;
    m.cols = c;
    m.data = values;
    return m;
  }
  m.rows = c;
  m.cols = r;
  m.data.resize(values.size());
  const int64_t count = r * c == 0 ? 0 : static_cast<int64_t>(values.size()) / (r * c);
  for (int64_t b = 0; b < count; ++b) {
    for (int64_t i = 0; i < c; ++i) {
      for (int64_t j = 0; j < r; ++j) {
        m.data[static_cast<std::size_t>(b * r * c + i * r + j)] =
            values[static_cast<std::size_t>(b * r * c + j * c + i)];
      }
    }
  }
  return m;
}

// Flat batch index of the operand entry that output batch coordinates @p coords read.
int64_t operandBatchIndex(const std::vector<int64_t>& coords, const std::vector<int64_t>& batch) {
  const std::size_t offset = coords.size() - batch.size();
  int64_t index = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    index = index * batch[i] + (batch[i] == 1 ? 0 : coords[offset + i]);
  }
  return index;
}

HostTensor naiveMatMul(const HostTensor& a, MatrixOperation op0, const HostTensor& b,
                       MatrixOperation op1) {
  const Matrices ma = asMatrices(a, op0, true);
  const Matrices mb = asMatrices(b, op1, false);
  EXPECT_EQ(ma.cols, mb.rows) << "test case has mismatched inner dimensions";
  const std::size_t rank = std::max(ma.batch.size(), mb.batch.size());
  std::vector<int64_t> batch(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const auto pick = [&](const std::vector<int64_t>& v) -> int64_t {
      const auto lead = rank - v.size();
      return i < lead ? 1 : v[i - lead];
    };
    const int64_t da = pick(ma.batch);
    const int64_t db = pick(mb.batch);
    batch[i] = da == 1 ? db : da;
  }
  Dims outDims;
  for (int64_t e : batch) outDims[outDims.nbDims++] = e;
  if (!ma.vector) outDims[outDims.nbDims++] = ma.rows;
  if (!mb.vector) outDims[outDims.nbDims++] = mb.cols;
  HostTensor out(DataType::kFLOAT, outDims);
  auto y = out.as<float>();

  int64_t batchCount = 1;
  for (int64_t e : batch) batchCount *= e;
  std::vector<int64_t> coords(rank, 0);
  const int64_t m = ma.rows;
  const int64_t n = mb.cols;
  const int64_t k = ma.cols;
  for (int64_t flat = 0; flat < batchCount; ++flat) {
    int64_t rest = flat;
    for (std::size_t i = rank; i-- > 0;) {
      coords[i] = rest % batch[i];
      rest /= batch[i];
    }
    const int64_t ia = operandBatchIndex(coords, ma.batch);
    const int64_t ib = operandBatchIndex(coords, mb.batch);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          acc += static_cast<double>(ma.data[static_cast<std::size_t>(ia * m * k + i * k + p)]) *
                 mb.data[static_cast<std::size_t>(ib * k * n + p * n + j)];
        }
        y[static_cast<std::size_t>(flat * m * n + i * n + j)] = static_cast<float>(acc);
      }
    }
  }
  return out;
}

TEST(MatrixMultiply, HandComputed) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{3, 2});
  auto mm = f.net().addMatrixMultiply(a, MatrixOperation::kNONE, b, MatrixOperation::kNONE);
  ASSERT_TRUE(mm) << f.logger.errors();
  EXPECT_EQ(mm.type(), LayerType::kMATRIX_MULTIPLY);
  EXPECT_EQ(mm.operation(0), MatrixOperation::kNONE);
  f.net().markOutput(mm.output(0));
  const std::vector<float> av = {1, 2, 3, 4, 5, 6};
  const std::vector<float> bv = {7, 8, 9, 10, 11, 12};
  const auto out =
      f.run({HostTensor::fromFloats(Dims{2, 3}, av), HostTensor::fromFloats(Dims{3, 2}, bv)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 2}));
  expectClose(out[0].floats(), std::vector<float>{58, 64, 139, 154});
}

TEST(MatrixMultiply, HandComputedTransposeAndDot) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{3, 2});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{3});
  // a^T b: [2, 3] x [3] -> [2]
  auto mv = f.net().addMatrixMultiply(a, MatrixOperation::kTRANSPOSE, b, MatrixOperation::kNONE);
  ASSERT_TRUE(mv) << f.logger.errors();
  // b . b: a scalar
  auto dot = f.net().addMatrixMultiply(b, MatrixOperation::kVECTOR, b, MatrixOperation::kVECTOR);
  ASSERT_TRUE(dot) << f.logger.errors();
  EXPECT_EQ(dot.output(0).dimensions(), Dims{});
  f.net().markOutput(mv.output(0));
  f.net().markOutput(dot.output(0));
  const std::vector<float> av = {1, 2, 3, 4, 5, 6};
  const std::vector<float> bv = {1, -1, 2};
  const auto out =
      f.run({HostTensor::fromFloats(Dims{3, 2}, av), HostTensor::fromFloats(Dims{3}, bv)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2}));
  expectClose(out[0].floats(), std::vector<float>{1 - 3 + 10, 2 - 4 + 12});
  EXPECT_EQ(out[1].dims, Dims{});
  expectClose(out[1].floats(), std::vector<float>{6});
}

struct MmCase {
  Dims a;
  MatrixOperation op0;
  Dims b;
  MatrixOperation op1;
  Dims output;
};

void PrintTo(const MmCase& c, std::ostream* os) {
  *os << toString(c.a) << " op" << static_cast<int>(c.op0) << " x " << toString(c.b) << " op"
      << static_cast<int>(c.op1);
}

class MatrixMultiplyShapes : public ::testing::TestWithParam<MmCase> {};

TEST_P(MatrixMultiplyShapes, MatchesNaive) {
  const MmCase& c = GetParam();
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, c.a);
  auto b = f.net().addInput("b", DataType::kFLOAT, c.b);
  auto mm = f.net().addMatrixMultiply(a, c.op0, b, c.op1);
  ASSERT_TRUE(mm) << f.logger.errors();
  EXPECT_EQ(mm.operation(0), c.op0);
  EXPECT_EQ(mm.operation(1), c.op1);
  EXPECT_EQ(mm.output(0).dimensions(), c.output);
  f.net().markOutput(mm.output(0));

  const auto at = randomTensor(c.a, 21);
  const auto bt = randomTensor(c.b, 22);
  const auto out = f.run({at, bt});
  ASSERT_EQ(out.size(), 1u);
  const auto expected = naiveMatMul(at, c.op0, bt, c.op1);
  EXPECT_EQ(out[0].dims, c.output);
  EXPECT_EQ(expected.dims, c.output);
  expectClose(out[0].floats(), expected.floats());
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

constexpr auto N = MatrixOperation::kNONE;
constexpr auto T = MatrixOperation::kTRANSPOSE;
constexpr auto V = MatrixOperation::kVECTOR;

INSTANTIATE_TEST_SUITE_P(Shapes, MatrixMultiplyShapes,
                         ::testing::Values(
                             // [2,1,3,5] x [4,5,2] in every combination of operations.
                             MmCase{Dims{2, 1, 3, 5}, N, Dims{4, 5, 2}, N, Dims{2, 4, 3, 2}},
                             MmCase{Dims{2, 1, 5, 3}, T, Dims{4, 5, 2}, N, Dims{2, 4, 3, 2}},
                             MmCase{Dims{2, 1, 3, 5}, N, Dims{4, 2, 5}, T, Dims{2, 4, 3, 2}},
                             MmCase{Dims{2, 1, 5, 3}, T, Dims{4, 2, 5}, T, Dims{2, 4, 3, 2}},
                             MmCase{Dims{2, 1, 5}, V, Dims{4, 5, 2}, N, Dims{2, 4, 2}},
                             MmCase{Dims{2, 1, 5}, V, Dims{4, 2, 5}, T, Dims{2, 4, 2}},
                             MmCase{Dims{2, 1, 3, 5}, N, Dims{4, 5}, V, Dims{2, 4, 3}},
                             MmCase{Dims{2, 1, 5, 3}, T, Dims{4, 5}, V, Dims{2, 4, 3}},
                             MmCase{Dims{2, 1, 5}, V, Dims{4, 5}, V, Dims{2, 4}},
                             // Rank-1 operands with kNONE are vectors (numpy).
                             MmCase{Dims{5}, N, Dims{4, 5, 2}, N, Dims{4, 2}},
                             MmCase{Dims{2, 1, 3, 5}, N, Dims{5}, N, Dims{2, 1, 3}},
                             MmCase{Dims{5}, N, Dims{5}, N, Dims{}},
                             // Broadcasting on both sides, size-1 and odd extents.
                             MmCase{Dims{3, 1, 2, 7}, N, Dims{1, 4, 7, 1}, N, Dims{3, 4, 2, 1}},
                             MmCase{Dims{1, 1}, N, Dims{1, 1}, N, Dims{1, 1}},
                             MmCase{Dims{6, 1}, N, Dims{1, 9}, N, Dims{6, 9}},
                             MmCase{Dims{13, 11}, T, Dims{17, 13}, T, Dims{11, 17}},
                             // Zero-size operands.
                             MmCase{Dims{3, 0}, N, Dims{0, 4}, N, Dims{3, 4}},
                             MmCase{Dims{0, 3}, N, Dims{3, 2}, N, Dims{0, 2}},
                             MmCase{Dims{0, 2, 3}, N, Dims{3, 4}, N, Dims{0, 2, 4}}));

// ---------------------------------------------------------------------------------------------
// Bad configurations.

TEST(MatrixMultiply, RejectsInnerDimensionMismatchNamingBothShapes) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{4, 3});
  expectInvalidLayer(f, f.net().addMatrixMultiply(a, N, b, N), "inner dimensions differ");
  EXPECT_TRUE(f.logger.hasError("layer 'MatrixMultiply_0' (MatrixMultiply)")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("2x3")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("4x3")) << f.logger.errors();
  f.logger.clear();

  // The same shapes agree once B is transposed... and disagree when A is instead.
  auto good = f.net().addMatrixMultiply(a, N, b, T);
  ASSERT_TRUE(good) << f.logger.errors();
  EXPECT_EQ(good.output(0).dimensions(), (Dims{2, 4})) << f.logger.errors();
  EXPECT_EQ(f.logger.errorCount(), 0)
      << "the invalid layer must not affect others: " << f.logger.errors();
  auto bad = f.net().addMatrixMultiply(a, T, b, N);
  expectInvalidLayer(f, bad, "layer 'MatrixMultiply_2' (MatrixMultiply): inner dimensions differ");
}

// A setting given after the add call can make a layer valid that was not when added.
TEST(MatrixMultiply, SetOperationAfterAddMakesAnInvalidLayerValid) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{4, 3});
  auto mm = f.net().addMatrixMultiply(a, N, b, N);
  ASSERT_TRUE(mm) << "shape problems must not refuse the layer: " << f.logger.errors();
  EXPECT_EQ(mm.output(0).dimensions().nbDims, -1);
  EXPECT_TRUE(f.logger.hasError("inner dimensions differ")) << f.logger.errors();
  f.logger.clear();

  mm.setOperation(1, T);
  EXPECT_EQ(mm.operation(1), T);
  EXPECT_EQ(mm.output(0).dimensions(), (Dims{2, 4}));
  f.net().markOutput(mm.output(0));
  const auto at = randomTensor(Dims{2, 3}, 1);
  const auto bt = randomTensor(Dims{4, 3}, 2);
  const auto out = f.run({at, bt});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 4}));
  expectClose(out[0].floats(), naiveMatMul(at, N, bt, T).floats());
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor a = net().addInput("a", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor b = net().addInput("b", DataType::kFLOAT, Dims{3, 4, 5});
  Tensor v = net().addInput("v", DataType::kFLOAT, Dims{4});
  Tensor s = net().addInput("s", DataType::kFLOAT, Dims{});
  Tensor i = net().addInput("i", DataType::kINT32, Dims{4, 4});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'MatrixMultiply_0' (MatrixMultiply): "))
      << n.logger.errors();
}

TEST(MatrixMultiply, RejectsBadBatchesRanksAndTypes) {
  // Shapes and types that do not suit the operations: setOperation or new input shapes or types
  // could still fix them, so they are reported when the layer's shapes are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addMatrixMultiply(n.a, N, n.b, N), "do not broadcast");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addMatrixMultiply(n.v, T, n.v, N), "kTRANSPOSE needs rank >= 2");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addMatrixMultiply(n.s, N, n.v, N), "scalar");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addMatrixMultiply(n.i, N, n.v, N), "addCast");
  }

  // Bad arguments are refused at once.
  BadInputs f;
  auto& v = f.v;
  EXPECT_FALSE(f.net().addMatrixMultiply(v, static_cast<MatrixOperation>(7), v, N));
  EXPECT_TRUE(
      f.logger.hasError("layer 'MatrixMultiply_0' (MatrixMultiply): op0 is not a "
                        "MatrixOperation"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addMatrixMultiply(v, N, v, static_cast<MatrixOperation>(-1)));
  EXPECT_TRUE(f.logger.hasError("op1 is not a MatrixOperation (-1")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addMatrixMultiply(Tensor(), N, v, N));
  EXPECT_TRUE(f.logger.hasError("input0 is a null tensor")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  auto foreign = other.net().addInput("w", DataType::kFLOAT, Dims{4});
  EXPECT_FALSE(f.net().addMatrixMultiply(v, N, foreign, N));
  EXPECT_TRUE(f.logger.hasError("input1 belongs to another network")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
}

TEST(MatrixMultiply, SetOperationIsCheckedAndUsed) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{3, 2});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{3, 4});
  auto mm = f.net().addMatrixMultiply(a, T, b, N);
  ASSERT_TRUE(mm) << f.logger.errors();
  mm.setName("mm");

  mm.setOperation(2, T);
  EXPECT_TRUE(f.logger.hasError("layer 'mm'")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("operand index 2")) << f.logger.errors();
  EXPECT_EQ(mm.operation(5), N);
  f.logger.clear();

  mm.setOperation(0, static_cast<MatrixOperation>(3));
  EXPECT_TRUE(f.logger.hasError("layer 'mm' (MatrixMultiply): op0 is not a MatrixOperation (3"))
      << f.logger.errors();
  EXPECT_EQ(mm.operation(0), T);
  f.logger.clear();

  // [3, 2] x [3, 4] only works with A transposed: undoing that breaks the build, by name.
  mm.setOperation(0, N);
  EXPECT_EQ(mm.operation(0), N);
  f.net().markOutput(mm.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'mm' (MatrixMultiply): inner dimensions differ"))
      << f.logger.errors();
  f.logger.clear();

  mm.setOperation(0, T);
  const auto at = randomTensor(Dims{3, 2}, 1);
  const auto bt = randomTensor(Dims{3, 4}, 2);
  const auto out = f.run({at, bt});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), naiveMatMul(at, T, bt, N).floats());
}

TEST(MatrixMultiply, NullLayerHandleIsHarmless) {
  MatrixMultiplyLayer mm;
  mm.setOperation(0, T);
  EXPECT_EQ(mm.operation(0), N);
}

}  // namespace
}  // namespace kiln::test
