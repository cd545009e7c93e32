// LRN across channels: a hand-computed case, random cases against a naive implementation (odd
// and even windows, windows wider than the channel count, rank 3 to 5), and bad configurations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

std::vector<float> naiveLRN(const Dims& dims, const std::vector<float>& x, int64_t window,
                            double alpha, double beta, double k) {
  const int64_t batch = dims[0];
  const int64_t channels = dims[1];
  int64_t inner = 1;
  for (int32_t i = 2; i < dims.nbDims; ++i) inner *= dims[i];
  std::vector<float> y(x.size());
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < inner; ++i) {
        double squares = 0.0;
        // Channels c - floor((window - 1) / 2) .. c + ceil((window - 1) / 2), those that exist.
        for (int64_t j = c - (window - 1) / 2; j <= c + window / 2; ++j) {
          if (j < 0 || j >= channels) continue;
          const double v = x[static_cast<std::size_t>((n * channels + j) * inner + i)];
          squares += v * v;
        }
        const auto at = static_cast<std::size_t>((n * channels + c) * inner + i);
        y[at] = static_cast<float>(x[at] / std::pow(k + alpha / window * squares, beta));
      }
    }
  }
  return y;
}

void runLRNCase(const Dims& dims, int64_t window, float alpha, float beta, float k, uint32_t seed) {
  SCOPED_TRACE("input " + toString(dims) + ", window " + std::to_string(window));
  NetworkFixture f;
  const HostTensor x = randomTensor(dims, seed, -2.f, 2.f);
  const auto expected = naiveLRN(dims, x.floats(), window, alpha, beta, k);
  auto input = f.net().addInput("x", DataType::kFLOAT, dims);
  auto lrn = f.net().addLRN(input, window, alpha, beta, k);
  ASSERT_TRUE(lrn) << f.logger.errors();
  ASSERT_TRUE(f.net().markOutput(lrn.output(0)));
  const auto outputs = f.run({x});
  ASSERT_EQ(outputs.size(), 1u) << f.logger.errors();
  EXPECT_EQ(toString(outputs[0].dims), toString(dims));
  expectClose(outputs[0].floats(), expected, 1e-6, 1e-5);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(LRN, HandComputed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 1, 1});
  // alpha / window = 1, beta = 1, k = 1: y = x / (1 + sum of squares in the window).
  auto lrn = f.net().addLRN(x, 3, 3.f, 1.f, 1.f);
  ASSERT_TRUE(lrn) << f.logger.errors();
  f.net().markOutput(lrn.output(0));
  const std::vector<float> in = {1, 2, 3};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 3, 1, 1}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1.f / 6, 2.f / 15, 3.f / 14});
}

TEST(LRN, RandomWindowsAndRanks) {
  runLRNCase(Dims{2, 7, 3, 4}, 5, 1e-4f, 0.75f, 2.f, 1);  // AlexNet's settings
  runLRNCase(Dims{2, 7, 3, 4}, 3, 0.5f, 0.75f, 1.f, 2);
  runLRNCase(Dims{1, 6, 5}, 4, 0.9f, 0.6f, 1.5f, 3);      // even window, rank 3
  runLRNCase(Dims{1, 3, 2, 2, 3}, 1, 2.f, 1.f, 1.f, 4);   // window 1, rank 5
  runLRNCase(Dims{2, 4, 3, 3}, 15, 0.3f, 2.f, 1e-2f, 5);  // window wider than the channels
  runLRNCase(Dims{0, 4, 3, 3}, 3, 0.3f, 2.f, 1.f, 6);     // empty batch (no input bytes)
}

TEST(LRN, Getters) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 2, 2});
  auto lrn = f.net().addLRN(x, 5, 1e-4f, 0.75f, 2.f);
  ASSERT_TRUE(lrn);
  EXPECT_EQ(lrn.windowSize(), 5);
  EXPECT_FLOAT_EQ(lrn.alpha(), 1e-4f);
  EXPECT_FLOAT_EQ(lrn.beta(), 0.75f);
  EXPECT_FLOAT_EQ(lrn.k(), 2.f);
  EXPECT_EQ(lrn.type(), LayerType::kLRN);
  LRNLayer none;
  EXPECT_EQ(none.windowSize(), 0);
}

TEST(LRN, BadConfigurations) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 2, 2});
  EXPECT_FALSE(f.net().addLRN(Tensor(), 3, 1.f, 1.f, 1.f));
  EXPECT_TRUE(f.logger.hasError("null tensor"));
  EXPECT_FALSE(f.net().addLRN(x, 0, 1.f, 1.f, 1.f));
  EXPECT_TRUE(f.logger.hasError("layer 'LRN_0' (LRN): the window must hold at least 1 channel"))
      << f.logger.errors();
  EXPECT_FALSE(f.net().addLRN(x, 3, std::numeric_limits<float>::quiet_NaN(), 1.f, 1.f));
  EXPECT_TRUE(f.logger.hasError("must be finite"));
  EXPECT_EQ(f.net().nbLayers(), 0);

  // Shape problems: the layer is invalid, and the error names it.
  {
    NetworkFixture g;
    auto flat = g.net().addInput("flat", DataType::kFLOAT, Dims{4, 4});
    expectInvalidLayer(g, g.net().addLRN(flat, 3, 1.f, 1.f, 1.f),
                       "layer 'LRN_0' (LRN): input has shape 4x4 (rank 2); LRN needs "
                       "rank 3 or more");
  }
  {
    NetworkFixture g;
    auto ints = g.net().addInput("i", DataType::kINT32, Dims{1, 4, 2, 2});
    expectInvalidLayer(g, g.net().addLRN(ints, 3, 1.f, 1.f, 1.f),
                       "layer 'LRN_0' (LRN): input must be float32, not int32 (convert it with "
                       "addCast)");
  }
}

}  // namespace
}  // namespace kiln::test
