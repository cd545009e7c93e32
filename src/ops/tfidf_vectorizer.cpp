// TfIdfVectorizer (ONNX TfIdfVectorizer): counts the n-grams of a pool in int32 sequences.
//
// Input [C] or [B, C] (int32); output float32 [S] or [B, S], S = max(ngram_indexes) + 1.
// Attributes: "pool" (the n-grams' items, 1-grams first), "ngram_counts" (where the (i+1)-grams
// start in the pool), "ngram_indexes" (the output column of each pool n-gram, in pool order),
// "weights" (one per pool n-gram, or none: all 1), "mode" (TfIdfMode), "min_gram", "max_gram",
// "max_skip". An n-gram takes n items skip + 1 apart, for every skip in [0, max_skip] (1-grams
// once per position); it counts when the pool holds it and n is in [min_gram, max_gram].
#include <algorithm>
#include <map>
#include <vector>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

struct Gram {
  std::vector<int64_t> items;
  int64_t column = 0;
  double weight = 1.0;
};

// The pool's n-grams with their columns and weights; throws through @p fail when the attributes
// do not describe a pool.
template <typename Fail>
std::vector<Gram> poolGrams(const ir::Attributes& attrs, Fail&& fail) {
  const auto pool = attrs.getInts("pool");
  const auto counts = attrs.getInts("ngram_counts");
  const auto columns = attrs.getInts("ngram_indexes");
  const auto weights = attrs.getFloats("weights");
  std::vector<Gram> grams;
  const auto poolSize = static_cast<int64_t>(pool.size());
  for (std::size_t level = 0; level < counts.size(); ++level) {
    const int64_t start = counts[level];
    const int64_t end = level + 1 < counts.size() ? counts[level + 1] : poolSize;
    if (start < 0 || end < start || end > poolSize) {
      fail("ngram_counts [", level, "] = ", start, " does not start a part of the pool (", poolSize,
           " items; the starts must not decrease)");
    }
    const auto n = static_cast<int64_t>(level + 1);
    if ((end - start) % n != 0) {
      fail("the ", n, "-grams of the pool hold ", end - start, " items, not a multiple of ", n);
    }
    for (int64_t at = start; at < end; at += n) {
      Gram g;
      g.items.assign(pool.begin() + at, pool.begin() + at + n);
      grams.push_back(std::move(g));
    }
  }
  if (columns.size() != grams.size()) {
    fail("ngram_indexes has ", columns.size(), " entries; the pool holds ", grams.size(),
         " n-grams");
  }
  if (!weights.empty() && weights.size() != grams.size()) {
    fail("weights has ", weights.size(), " entries; the pool holds ", grams.size(), " n-grams");
  }
  for (std::size_t i = 0; i < grams.size(); ++i) {
    if (columns[i] < 0) fail("ngram_indexes [", i, "] = ", columns[i], " is negative");
    grams[i].column = columns[i];
    if (!weights.empty()) grams[i].weight = weights[i];
  }
  return grams;
}

void inferTfIdf(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  if (x.dtype != DataType::kINT32) {
    ctx.fail("the input must be int32, not ", toString(x.dtype));
  }
  if (x.dims.nbDims != 1 && x.dims.nbDims != 2) {
    ctx.fail("the input has shape ", toString(x.dims), "; it must be [C] or [B, C]");
  }
  const auto& attrs = ctx.attrs();
  const int64_t mode = attrs.getInt("mode", 0);
  if (mode < 0 || mode > static_cast<int64_t>(TfIdfMode::kTFIDF)) ctx.fail("unknown mode ", mode);
  const int64_t minGram = attrs.getInt("min_gram", 1);
  const int64_t maxGram = attrs.getInt("max_gram", 1);
  const int64_t maxSkip = attrs.getInt("max_skip", 0);
  if (minGram < 1 || maxGram < minGram) {
    ctx.fail("gram lengths [", minGram, ", ", maxGram, "] are not 1 <= min <= max");
  }
  if (maxSkip < 0) ctx.fail("max skip count ", maxSkip, " is negative");
  const auto grams = poolGrams(attrs, [&](auto&&... args) { ctx.fail(args...); });
  int64_t columns = 0;
  for (const Gram& g : grams) columns = std::max(columns, g.column + 1);
  Dims out = x.dims;
  out[out.nbDims - 1] = columns;
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runTfIdf(const ir::KernelContext& ctx) {
  const auto& attrs = ctx.attrs();
  const auto grams = poolGrams(attrs, [](auto&&... args) {
    fail(ErrorCode::kINTERNAL_ERROR, "TfIdfVectorizer: ", args...);
  });
  const auto mode = attrs.getEnum("mode", TfIdfMode::kTF);
  const int64_t minGram = attrs.getInt("min_gram", 1);
  const int64_t maxGram = attrs.getInt("max_gram", 1);
  const int64_t maxSkip = attrs.getInt("max_skip", 0);
  std::map<std::vector<int64_t>, std::size_t> lookup;
  for (std::size_t i = 0; i < grams.size(); ++i) lookup.emplace(grams[i].items, i);

  const auto& in = ctx.input(0);
  const int64_t length = in.dims[in.dims.nbDims - 1];
  const int64_t rows = in.dims.nbDims == 2 ? in.dims[0] : 1;
  const int64_t columns = ctx.output(0).dims[ctx.output(0).dims.nbDims - 1];
  const int32_t* xs = in.as<const int32_t>();
  float* ys = ctx.output(0).as<float>();
  std::vector<int64_t> counts(grams.size());
  std::vector<int64_t> items;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* row = xs + r * length;
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t start = 0; start < length; ++start) {
      for (int64_t n = minGram; n <= maxGram; ++n) {
        for (int64_t skip = 0; skip <= (n == 1 ? 0 : maxSkip); ++skip) {
          const int64_t last = start + (n - 1) * (skip + 1);
          if (last >= length) break;
          items.clear();
          for (int64_t k = 0; k < n; ++k) items.push_back(row[start + k * (skip + 1)]);
          const auto hit = lookup.find(items);
          if (hit != lookup.end()) ++counts[hit->second];
        }
      }
    }
    float* y = ys + r * columns;
    std::fill(y, y + columns, 0.f);
    for (std::size_t i = 0; i < grams.size(); ++i) {
      if (counts[i] == 0) continue;
      const double count = static_cast<double>(counts[i]);
      const double value = mode == TfIdfMode::kTF    ? count
                           : mode == TfIdfMode::kIDF ? grams[i].weight
                                                     : count * grams[i].weight;
      y[grams[i].column] = static_cast<float>(value);
    }
  }
}

}  // namespace

void registerTfIdfVectorizerOps(ir::OpRegistry& registry) {
  registry.add({.name = "TfIdfVectorizer",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferTfIdf,
                .reference = runTfIdf});
}

}  // namespace kiln::ops
