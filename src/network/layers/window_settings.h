// Window settings (stride, padding, dilation, padding mode) shared by the convolution,
// deconvolution and pooling layers. Setters validate against the layer's current kernel/window
// rank and log an error (leaving the setting unchanged) when the value is invalid.
#pragma once

#include <string>
#include <string_view>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"
#include "ops/window_util.h"

namespace kiln::detail {

//! Sets window attribute @p attr ("stride", "pre_padding", ...) after checking its rank against
//! the extents in @p kernelAttr and every value against @p minValue.
inline void setWindowDims(const Layer& layer, std::string_view api, std::string_view kernelAttr,
                          std::string_view attr, std::string_view what, const Dims& dims,
                          int64_t minValue) {
  writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    const int32_t rank = node.attrs.getDims(kernelAttr).nbDims;
    if (auto problem = ops::checkWindowDims(dims, rank, minValue, what); !problem.empty()) {
      failLayer(node, problem);
    }
    node.attrs.set(attr, dims);
  });
}

//! Sets pre and post padding together.
inline void setSymmetricPadding(const Layer& layer, std::string_view api,
                                std::string_view kernelAttr, const Dims& padding) {
  writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    const int32_t rank = node.attrs.getDims(kernelAttr).nbDims;
    if (auto problem = ops::checkWindowDims(padding, rank, 0, "padding"); !problem.empty()) {
      failLayer(node, problem);
    }
    node.attrs.set("pre_padding", padding);
    node.attrs.set("post_padding", padding);
  });
}

//! The window settings of @p layer with defaults filled in (empty params for a null handle).
inline ops::WindowParams windowParams(const Layer& layer, std::string_view api,
                                      std::string_view kernelAttr) {
  return readLayer<ops::WindowParams>(
      layer, api,
      [&](const ir::Node& node) { return ops::readWindowParams(node.attrs, kernelAttr); },
      ops::WindowParams{});
}

inline void setPaddingModeAttr(const Layer& layer, std::string_view api, PaddingMode mode) {
  writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    if (static_cast<int32_t>(mode) < 0 || mode > PaddingMode::kSAME_LOWER) {
      failLayer(node, "unknown padding mode ", static_cast<int32_t>(mode));
    }
    node.attrs.set("padding_mode", mode);
  });
}

}  // namespace kiln::detail
