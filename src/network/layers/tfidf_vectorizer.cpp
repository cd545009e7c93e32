// TfIdfVectorizerLayer and NetworkDefinition::addTfIdfVectorizer (kiln's own layer: ONNX
// TfIdfVectorizer).
#include <vector>

#include "network/network_impl.h"

namespace kiln {

TfIdfVectorizerLayer NetworkDefinition::addTfIdfVectorizer(Tensor input, TfIdfMode mode,
                                                           std::span<const int64_t> pool,
                                                           std::span<const int64_t> ngramCounts,
                                                           std::span<const int64_t> ngramIndexes,
                                                           std::span<const float> weights) {
  return impl_->guarded<TfIdfVectorizerLayer>("addTfIdfVectorizer", [&] {
    auto& net = *impl_;
    const auto raw = static_cast<int32_t>(mode);
    if (raw < 0 || mode > TfIdfMode::kTFIDF) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown TfIdfMode ", raw);
    }
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kTFIDF_VECTORIZER, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", mode);
    attrs.set("pool", std::vector<int64_t>(pool.begin(), pool.end()));
    attrs.set("ngram_counts", std::vector<int64_t>(ngramCounts.begin(), ngramCounts.end()));
    attrs.set("ngram_indexes", std::vector<int64_t>(ngramIndexes.begin(), ngramIndexes.end()));
    attrs.set("weights", std::vector<double>(weights.begin(), weights.end()));
    net.inferLayer(id);
    return id;
  });
}

void TfIdfVectorizerLayer::setMode(TfIdfMode mode) {
  const auto raw = static_cast<int32_t>(mode);
  detail::writeLayer(*this, "TfIdfVectorizerLayer::setMode", [&](ir::Node& node, ir::NodeId) {
    if (raw < 0 || mode > TfIdfMode::kTFIDF) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown TfIdfMode ", raw);
    }
    node.attrs.set("mode", mode);
  });
}

TfIdfMode TfIdfVectorizerLayer::mode() const {
  return detail::getEnumAttr(*this, "TfIdfVectorizerLayer::mode", "mode", TfIdfMode::kTF);
}

void TfIdfVectorizerLayer::setGramLengths(int32_t minLength, int32_t maxLength) {
  detail::writeLayer(*this, "TfIdfVectorizerLayer::setGramLengths",
                     [&](ir::Node& node, ir::NodeId) {
                       node.attrs.set("min_gram", minLength);
                       node.attrs.set("max_gram", maxLength);
                     });
}

int32_t TfIdfVectorizerLayer::minGramLength() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "TfIdfVectorizerLayer::minGramLength", "min_gram", 1));
}

int32_t TfIdfVectorizerLayer::maxGramLength() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "TfIdfVectorizerLayer::maxGramLength", "max_gram", 1));
}

void TfIdfVectorizerLayer::setMaxSkipCount(int32_t count) {
  detail::setAttr(*this, "TfIdfVectorizerLayer::setMaxSkipCount", "max_skip", count);
}

int32_t TfIdfVectorizerLayer::maxSkipCount() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "TfIdfVectorizerLayer::maxSkipCount", "max_skip", 0));
}

}  // namespace kiln
