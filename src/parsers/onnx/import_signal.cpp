// DFT (opsets 17 and 20) onto DFTLayer, and TfIdfVectorizer onto TfIdfVectorizerLayer.
#include <string>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {
// A scalar (or one-element) integer input that decides the output's shape.
int64_t knownScalar(NodeImport& n, int32_t index, std::string_view what) {
  const ConstTensor& value = n.requireConstant(index, what);
  if (value.count() != 1) {
    n.invalid(std::string(what) + " must hold one value, not " + std::to_string(value.count()));
  }
  return value.asInt(0);
}
}  // namespace

void importDFT(NodeImport& n) {
  int64_t axis = n.opset >= 20 ? -2 : n.attrInt("axis", 1);
  if (n.opset >= 20 && n.hasInput(2)) axis = knownScalar(n, 2, "the axis");
  const bool inverse = n.attrInt("inverse", 0) != 0;
  const bool onesided = n.attrInt("onesided", 0) != 0;
  if (onesided && inverse)
    n.unsupported("inverse transforms of one-sided spectra (onesided 1 and inverse 1)");
  Tensor x = n.input(0);
  if (x.type() != DataType::kFLOAT) {
    n.unsupported("DFT of " + std::string(toString(x.type())) + " values");
  }
  const int32_t rank = n.inputRank(0);
  if (axis < -rank || axis >= rank) {
    n.invalid("axis " + std::to_string(axis) + " is outside the input's rank " +
              std::to_string(rank));
  }
  DFTLayer dft = n.network.addDFT(x, static_cast<int32_t>(axis), inverse);
  if (dft) {
    dft.setOnesided(onesided);
    if (n.hasInput(1)) {
      const int64_t length = knownScalar(n, 1, "dft_length");
      if (length < 1) n.invalid("dft_length " + std::to_string(length) + " is not positive");
      dft.setLength(length);
    }
  }
  n.setOutput(0, n.add(dft).output(0));
}

void importTfIdfVectorizer(NodeImport& n) {
  if (n.hasAttr("pool_strings")) n.unsupported("string pools (pool_strings) are not supported");
  Tensor x = n.input(0);
  if (x.type() != DataType::kINT32) {
    n.unsupported("TfIdfVectorizer of " + std::string(toString(x.type())) + " values");
  }
  const std::string modeName = n.attrString("mode", "");
  TfIdfMode mode = TfIdfMode::kTF;
  if (modeName == "IDF") {
    mode = TfIdfMode::kIDF;
  } else if (modeName == "TFIDF") {
    mode = TfIdfMode::kTFIDF;
  } else if (modeName != "TF") {
    n.invalid("mode must be TF, IDF or TFIDF, not \"" + modeName + "\"");
  }
  const std::vector<int64_t> pool = n.attrInts("pool_int64s");
  const std::vector<int64_t> counts = n.attrInts("ngram_counts");
  const std::vector<int64_t> indexes = n.attrInts("ngram_indexes");
  const std::vector<float> weights = n.attrFloats("weights");
  const int64_t minGram = n.attrInt("min_gram_length", 1);
  const int64_t maxGram = n.attrInt("max_gram_length", 1);
  const int64_t maxSkip = n.attrInt("max_skip_count", 0);
  const auto fits = [](int64_t v) { return v >= 0 && v <= (int64_t{1} << 30); };
  if (!fits(minGram) || !fits(maxGram) || !fits(maxSkip)) {
    n.invalid("min_gram_length, max_gram_length and max_skip_count must be in [0, 2^30]");
  }
  TfIdfVectorizerLayer layer =
      n.network.addTfIdfVectorizer(x, mode, pool, counts, indexes, weights);
  if (layer) {
    layer.setGramLengths(static_cast<int32_t>(minGram), static_cast<int32_t>(maxGram));
    layer.setMaxSkipCount(static_cast<int32_t>(maxSkip));
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
