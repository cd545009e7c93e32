// MaxPoolingIndices (kiln's own layer: ONNX MaxPool with dilations or Indices) through the
// public API and the whole pipeline, against a plain loop, and its errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Expected {
  std::vector<float> values;
  std::vector<int32_t> indices;
};

// 2-d max pooling with dilation and explicit padding (round down), first maximum wins.
Expected reference(const std::vector<float>& x, int64_t planes, int64_t h, int64_t w, int64_t k,
                   int64_t stride, int64_t dilation, int64_t pad, bool columnMajor, int64_t& outH,
                   int64_t& outW) {
  const int64_t span = dilation * (k - 1) + 1;
  outH = (h + 2 * pad - span) / stride + 1;
  outW = (w + 2 * pad - span) / stride + 1;
  Expected e;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < outH; ++oy)
      for (int64_t ox = 0; ox < outW; ++ox) {
        float best = 0;
        int64_t where = -1;
        for (int64_t ky = 0; ky < k; ++ky)
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t iy = oy * stride - pad + ky * dilation;
            const int64_t ix = ox * stride - pad + kx * dilation;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const float v = x[static_cast<std::size_t>((p * h + iy) * w + ix)];
            if (where < 0 || v > best) {
              best = v;
              where = columnMajor ? ix * h + iy : iy * w + ix;
            }
          }
        e.values.push_back(best);
        e.indices.push_back(static_cast<int32_t>(p * h * w + where));
      }
  return e;
}

TEST(MaxPoolingIndices, DilatedPaddedStridedMatchesReference) {
  for (bool columnMajor : {false, true}) {
    NetworkFixture f;
    const Dims xd{2, 3, 7, 6};
    Tensor x = f.net().addInput("x", DataType::kFLOAT, xd);
    MaxPoolingIndicesLayer pool = f.net().addMaxPoolingWithIndices(x, Dims{3, 3});
    ASSERT_TRUE(pool) << f.logger.errors();
    pool.setStride(Dims{2, 2});
    pool.setDilation(Dims{2, 2});
    pool.setPrePadding(Dims{1, 1});
    pool.setPostPadding(Dims{1, 1});
    pool.setColumnMajorIndices(columnMajor);
    EXPECT_EQ(pool.dilation(), (Dims{2, 2}));
    EXPECT_EQ(pool.columnMajorIndices(), columnMajor);
    f.net().markOutput(pool.output(0));
    f.net().markOutput(pool.output(1));
    const HostTensor in = randomTensor(xd, 7);
    const auto out = f.run({in});
    ASSERT_EQ(out.size(), 2u);
    int64_t oh = 0, ow = 0;
    const Expected e = reference(in.floats(), 6, 7, 6, 3, 2, 2, 1, columnMajor, oh, ow);
    EXPECT_EQ(out[0].dims, (Dims{2, 3, oh, ow}));
    EXPECT_EQ(out[0].floats(), e.values);
    const auto is = out[1].as<int32_t>();
    EXPECT_EQ(std::vector<int32_t>(is.begin(), is.end()), e.indices);
  }
}

TEST(MaxPoolingIndices, BadSettings) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
  EXPECT_FALSE(f.net().addMaxPoolingWithIndices(x, Dims{0, 2}));
  MaxPoolingIndicesLayer big = f.net().addMaxPoolingWithIndices(x, Dims{3, 3});
  big.setName("pool");
  big.setDilation(Dims{2, 2});
  expectInvalidLayer(f, big,
                     "layer 'pool' (MaxPoolIndices): the dilated window (5) is larger than the "
                     "padded input (4 + padding 0 + 0) in spatial dimension 0");
  MaxPoolingIndicesLayer padded = f.net().addMaxPoolingWithIndices(x, Dims{2, 2});
  padded.setPrePadding(Dims{2, 0});
  expectInvalidLayer(f, padded, "must be smaller than the dilated window (2)");
  Tensor flat = f.net().addInput("flat", DataType::kFLOAT, Dims{4, 4});
  expectInvalidLayer(f, f.net().addMaxPoolingWithIndices(flat, Dims{2, 2}),
                     "needs an input of rank 4 [N, C, spatial...]");
}

}  // namespace
}  // namespace kiln::test
