// Helpers for the tests of the window ops (convolution, deconvolution, pooling): the index walks
// of their naive implementations, the settings a random case gives its layer, and the check of
// one run against the naive result.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {

//! Calls @p body for every multi-index of @p shape, in row-major order.
inline void forEachIndex(const std::vector<int64_t>& shape,
                         const std::function<void(const std::vector<int64_t>&)>& body) {
  for (int64_t e : shape) {
    if (e == 0) return;
  }
  std::vector<int64_t> index(shape.size(), 0);
  while (true) {
    body(index);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[static_cast<std::size_t>(d)] < shape[static_cast<std::size_t>(d)]) break;
      index[static_cast<std::size_t>(d)] = 0;
    }
    if (d < 0) return;
  }
}

inline int64_t flatIndex(const std::vector<int64_t>& index, const std::vector<int64_t>& shape) {
  int64_t flat = 0;
  for (std::size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + index[i];
  return flat;
}

inline int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t e : v) p *= e;
  return p;
}

//! dims[i], or @p fallback where the case leaves the setting alone (rank 0).
inline int64_t at(const Dims& dims, int32_t i, int64_t fallback) {
  return dims.nbDims == 0 ? fallback : dims[i];
}

//! A convolution or deconvolution case.
struct ConvCase {
  Dims input{};  // [N, C, spatial...]
  int64_t outputs = 1;
  Dims kernel{};
  Dims stride{};  // rank 0: leave the layer's default
  Dims dilation{};
  Dims pre{};
  Dims post{};
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  int64_t groups = 1;
  bool bias = true;
};

//! Gives @p layer the stride and padding of a case; settings of rank 0 keep their defaults.
template <typename WindowLayer>
void applyWindowSettings(WindowLayer& layer, const Dims& stride, const Dims& pre, const Dims& post,
                         PaddingMode mode) {
  if (stride.nbDims > 0) layer.setStride(stride);
  if (pre.nbDims > 0) layer.setPrePadding(pre);
  if (post.nbDims > 0) layer.setPostPadding(post);
  layer.setPaddingMode(mode);
}

//! Gives a ConvolutionLayer or DeconvolutionLayer the settings of @p c.
template <typename ConvLayer>
void applyConvCase(ConvLayer& layer, const ConvCase& c) {
  if (c.groups != 1) layer.setNbGroups(c.groups);
  if (c.dilation.nbDims > 0) layer.setDilation(c.dilation);
  applyWindowSettings(layer, c.stride, c.pre, c.post, c.mode);
}

//! Expects @p output (the only network output of @p f) to have @p expectedDims, and a run on
//! @p x to give @p expected without errors.
inline void expectRunMatches(NetworkFixture& f, Tensor output, const HostTensor& x,
                             const std::vector<float>& expected, const Dims& expectedDims,
                             double atol, double rtol) {
  EXPECT_EQ(toString(output.dimensions()), toString(expectedDims));
  const auto outputs = f.run({x});
  ASSERT_EQ(outputs.size(), 1u) << f.logger.errors();
  EXPECT_EQ(toString(outputs[0].dims), toString(expectedDims));
  expectClose(outputs[0].floats(), expected, atol, rtol);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

}  // namespace kiln::test
