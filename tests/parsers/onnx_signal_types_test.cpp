// ONNX import of the unsigned and 16-bit integer IO types, BitShift, DFT (opsets 17 and 20),
// TfIdfVectorizer, MaxUnpool and Dropout with a run-time training mode.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using namespace onnx_test;
using Proto = ::onnx::TensorProto;

template <typename T>
HostTensor tensorOf(DataType type, const Dims& dims, const std::vector<T>& values) {
  HostTensor t(type, dims);
  for (std::size_t i = 0; i < values.size(); ++i) t.as<T>()[i] = values[i];
  return t;
}

TEST(OnnxIntegerTypes, BitShiftKeepsTheModelsTypes) {
  for (auto [onnxType, type] :
       {std::pair{Proto::UINT16, DataType::kUINT16}, std::pair{Proto::UINT32, DataType::kUINT32}}) {
    ModelBuilder m(11);
    m.input("x", {3}, onnxType).input("y", {3}, onnxType).output("z", onnxType);
    attrString(m.node("BitShift", {"x", "y"}, {"z"}), "direction", "LEFT");
    std::vector<HostTensor> in;
    if (type == DataType::kUINT16) {
      in = {tensorOf<uint16_t>(type, Dims{3}, {16, 4, 1}),
            tensorOf<uint16_t>(type, Dims{3}, {1, 2, 3})};
    } else {
      in = {tensorOf<uint32_t>(type, Dims{3}, {16, 4, 1}),
            tensorOf<uint32_t>(type, Dims{3}, {1, 2, 3})};
    }
    const auto out = runModel(m, in);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].dtype, type);
    if (type == DataType::kUINT16) {
      EXPECT_EQ(out[0].as<uint16_t>()[2], 8);
    } else {
      EXPECT_EQ(out[0].as<uint32_t>()[0], 32u);
    }
  }
}

TEST(OnnxIntegerTypes, Int16AndUint64Min) {
  ModelBuilder m(13);
  m.input("a", {3}, Proto::INT16).input("b", {3}, Proto::INT16).output("c", Proto::INT16);
  m.node("Min", {"a", "b"}, {"c"});
  const auto out = runModel(m, {tensorOf<int16_t>(DataType::kINT16, Dims{3}, {-3, 2, 1}),
                                tensorOf<int16_t>(DataType::kINT16, Dims{3}, {1, -4, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype, DataType::kINT16);
  EXPECT_EQ(out[0].as<int16_t>()[0], -3);
  EXPECT_EQ(out[0].as<int16_t>()[1], -4);

  ModelBuilder u(13);
  u.input("a", {2}, Proto::UINT64).input("b", {2}, Proto::UINT64).output("c", Proto::UINT64);
  u.node("Max", {"a", "b"}, {"c"});
  const auto big = runModel(u, {tensorOf<uint64_t>(DataType::kUINT64, Dims{2}, {3, 9}),
                                tensorOf<uint64_t>(DataType::kUINT64, Dims{2}, {5, 1})});
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].as<uint64_t>()[0], 5u);
  EXPECT_EQ(big[0].as<uint64_t>()[1], 9u);
}

TEST(OnnxDft, Opset20TakesTheAxisAsAnInput) {
  ModelBuilder m(20);
  m.input("x", {1, 2, 4, 1}).output("y");
  m.vector("axis", {2});
  m.node("DFT", {"x", "", "axis"}, {"y"});
  const std::vector<float> x{1, 0, 0, 0, 1, 1, 1, 1};
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{1, 2, 4, 1}, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 2, 4, 2}));
  // An impulse transforms to all ones; a constant to [4, 0, 0, 0].
  expectClose(out[0].floats(), std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0});
}

TEST(OnnxDft, Opset17OnesidedWithLength) {
  ModelBuilder m(17);
  m.input("x", {1, 3, 1}).output("y");
  m.ints("n", {}, {4});
  auto& node = m.node("DFT", {"x", "n"}, {"y"});
  attrInt(node, "onesided", 1);
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{1, 3, 1}, std::vector<float>{1, 1, 1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 3, 2}));
  // [1, 1, 1, 0]: X0 = 3, X1 = 1 - i - 1 = -i, X2 = 1 - 1 + 1 = 1.
  expectClose(out[0].floats(), std::vector<float>{3, 0, 0, -1, 1, 0}, 1e-5, 1e-5);
}

TEST(OnnxDft, RunTimeLengthIsUnsupported) {
  ModelBuilder m(17);
  m.input("x", {1, 3, 1}).input("n", {}, Proto::INT64).output("y");
  m.node("DFT", {"x", "n"}, {"y"});
  expectParseError(m, {"dft_length", "must be known"});
}

TEST(OnnxTfIdf, CountsBigramsOfInt64Input) {
  ModelBuilder m(9);
  m.input("x", {6}, Proto::INT64).output("y");
  auto& node = m.node("TfIdfVectorizer", {"x"}, {"y"});
  attrString(node, "mode", "TF");
  attrInt(node, "min_gram_length", 2);
  attrInt(node, "max_gram_length", 2);
  attrInt(node, "max_skip_count", 0);
  attrInts(node, "ngram_counts", {0, 0});
  attrInts(node, "ngram_indexes", {0, 1});
  attrInts(node, "pool_int64s", {1, 2, 2, 3});
  HostTensor x(DataType::kINT64, Dims{6});
  const std::vector<int64_t> values{1, 2, 3, 1, 2, 2};
  for (std::size_t i = 0; i < values.size(); ++i) x.as<int64_t>()[i] = values[i];
  const auto out = runModel(m, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{2, 1}));
}

TEST(OnnxTfIdf, BadModeIsInvalid) {
  ModelBuilder m(9);
  m.input("x", {6}, Proto::INT32).output("y");
  auto& node = m.node("TfIdfVectorizer", {"x"}, {"y"});
  attrString(node, "mode", "BM25");
  attrInts(node, "ngram_counts", {0});
  attrInts(node, "ngram_indexes", {0});
  attrInts(node, "pool_int64s", {1});
  expectParseError(m, {"mode must be TF, IDF or TFIDF"});
}

TEST(OnnxMaxUnpool, KnownOutputShape) {
  ModelBuilder m(11);
  m.input("x", {1, 1, 2, 2}).input("i", {1, 1, 2, 2}, Proto::INT64).output("y");
  m.vector("shape", {1, 1, 5, 5});
  auto& node = m.node("MaxUnpool", {"x", "i", "shape"}, {"y"});
  attrInts(node, "kernel_shape", {2, 2});
  attrInts(node, "strides", {2, 2});
  HostTensor idx(DataType::kINT64, Dims{1, 1, 2, 2});
  const std::vector<int64_t> at{0, 6, 12, 24};
  for (std::size_t k = 0; k < at.size(); ++k) idx.as<int64_t>()[k] = at[k];
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4}), idx});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 5, 5}));
  const auto y = out[0].floats();
  EXPECT_EQ(y[0], 1);
  EXPECT_EQ(y[6], 2);
  EXPECT_EQ(y[12], 3);
  EXPECT_EQ(y[24], 4);
}

TEST(OnnxDropout, RunTimeTrainingModeFalsePassesThrough) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).input("t", {}, Proto::BOOL).output("y").output("mask", Proto::BOOL);
  m.floats("r", {}, {0.5f});
  m.node("Dropout", {"x", "r", "t"}, {"y", "mask"});
  const HostTensor x = randomTensor(Dims{2, 3}, 4);
  const auto out = runModel(m, {x, HostTensor::fromBools(Dims{}, std::array<bool, 1>{false})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), x.floats());
  EXPECT_EQ(out[1].dtype, DataType::kBOOL);
  for (uint8_t v : out[1].as<uint8_t>()) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace kiln::test
