// TfIdfVectorizerLayer (ONNX TfIdfVectorizer): n-gram counts with skips, the three modes, batches
// and the pool errors.
#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// The ONNX example's pool: 1-grams 2, 3, 5, 4 (columns 0-3), 2-grams (5,6), (7,8), (6,7)
// (columns 4-6).
const std::vector<int64_t> kPool{2, 3, 5, 4, 5, 6, 7, 8, 6, 7};
const std::vector<int64_t> kCounts{0, 4};
const std::vector<int64_t> kIndexes{0, 1, 2, 3, 4, 5, 6};
const std::vector<int32_t> kSequence{1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};

std::vector<float> run(const Dims& dims, const std::vector<int32_t>& x, TfIdfMode mode,
                       int32_t minGram, int32_t maxGram, int32_t skip,
                       const std::vector<float>& weights = {}) {
  NetworkFixture f;
  Tensor in = f.net().addInput("x", DataType::kINT32, dims);
  TfIdfVectorizerLayer layer =
      f.net().addTfIdfVectorizer(in, mode, kPool, kCounts, kIndexes, weights);
  EXPECT_TRUE(layer);
  layer.setGramLengths(minGram, maxGram);
  layer.setMaxSkipCount(skip);
  EXPECT_EQ(layer.minGramLength(), minGram);
  EXPECT_EQ(layer.maxSkipCount(), skip);
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromInts(dims, x)});
  if (out.size() != 1) return {};
  return out[0].floats();
}

TEST(TfIdfVectorizer, UnigramsAndBigramsWithSkips) {
  EXPECT_EQ(run(Dims{12}, kSequence, TfIdfMode::kTF, 1, 2, 5),
            (std::vector<float>{0, 3, 1, 0, 1, 3, 1}));
  EXPECT_EQ(run(Dims{12}, kSequence, TfIdfMode::kTF, 2, 2, 0),
            (std::vector<float>{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(run(Dims{12}, kSequence, TfIdfMode::kTF, 1, 1, 3),
            (std::vector<float>{0, 3, 1, 0, 0, 0, 0}));
}

TEST(TfIdfVectorizer, Batches) {
  EXPECT_EQ(run(Dims{2, 6}, kSequence, TfIdfMode::kTF, 1, 2, 5),
            (std::vector<float>{0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}));
}

TEST(TfIdfVectorizer, WeightedModes) {
  const std::vector<float> w{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(run(Dims{12}, kSequence, TfIdfMode::kIDF, 1, 2, 5, w),
            (std::vector<float>{0, 2, 3, 0, 5, 6, 7}));
  EXPECT_EQ(run(Dims{12}, kSequence, TfIdfMode::kTFIDF, 1, 2, 5, w),
            (std::vector<float>{0, 6, 3, 0, 5, 18, 7}));
}

TEST(TfIdfVectorizer, RefusesBadPools) {
  {
    NetworkFixture f;
    Tensor in = f.net().addInput("x", DataType::kINT32, Dims{4});
    const std::vector<int64_t> counts{0, 3};  // 7 items left for the 2-grams
    expectInvalidLayer(f,
                       f.net().addTfIdfVectorizer(in, TfIdfMode::kTF, kPool, counts, kIndexes, {}),
                       "not a multiple of 2");
  }
  {
    NetworkFixture f;
    Tensor in = f.net().addInput("x", DataType::kINT32, Dims{4});
    const std::vector<int64_t> indexes{0, 1};
    expectInvalidLayer(f,
                       f.net().addTfIdfVectorizer(in, TfIdfMode::kTF, kPool, kCounts, indexes, {}),
                       "ngram_indexes has 2 entries");
  }
  {
    NetworkFixture f;
    Tensor in = f.net().addInput("x", DataType::kFLOAT, Dims{4});
    expectInvalidLayer(f,
                       f.net().addTfIdfVectorizer(in, TfIdfMode::kTF, kPool, kCounts, kIndexes, {}),
                       "must be int32");
  }
  {
    NetworkFixture f;
    Tensor in = f.net().addInput("x", DataType::kINT32, Dims{2, 2, 2});
    expectInvalidLayer(f,
                       f.net().addTfIdfVectorizer(in, TfIdfMode::kTF, kPool, kCounts, kIndexes, {}),
                       "[C] or [B, C]");
  }
}

}  // namespace
}  // namespace kiln::test
