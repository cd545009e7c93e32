// Einsum: inputs 1 to kMaxEinsumInputs tensors of one type (float32 or int32), attribute
// "equation" (ONNX Einsum / numpy.einsum): "term,term,...[->output]", each term a list of
// letters (a-z, A-Z) with at most one "..." and spaces anywhere. A letter names one dimension
// length across all terms; a letter repeated inside one term takes that term's diagonal;
// letters missing from the output are summed over. "..." stands for the dimensions a term
// does not name, which broadcast numpy-style across the inputs. Without "->" the output is
// "..." followed by the letters used exactly once, in ASCII order.
//
// The kernel walks every combination of output and summed indices and adds up the products of
// the input elements they address (float in double, int32 wrapping in uint64); repeated letters
// are a sum of strides, broadcast ones a stride of 0.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

constexpr int32_t kMaxEinsumInputs = 16;
constexpr int32_t kLetters = 52;

int32_t letterId(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

char letterChar(int32_t id) {
  return static_cast<char>(id < 26 ? 'a' + id : 'A' + (id - 26));
}

// One term as written: its labels in order, kEllipsis standing for the "..." dimensions.
constexpr int32_t kEllipsis = -1;
struct Term {
  std::vector<int32_t> labels;
  bool hasEllipsis = false;
};

Term parseTerm(std::string_view text, std::string_view equation) {
  Term term;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ') continue;
    if (c == '.') {
      if (text.substr(i, 3) != "..." || term.hasEllipsis) {
        fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation,
             "': '.' must come as one '...' per term");
      }
      term.hasEllipsis = true;
      term.labels.push_back(kEllipsis);
      i += 2;
      continue;
    }
    const int32_t id = letterId(c);
    if (id < 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': '", std::string(1, c),
           "' is not a letter, '...', ',' or '->'");
    }
    term.labels.push_back(id);
  }
  return term;
}

struct Equation {
  std::vector<Term> inputs;
  Term output;
  bool explicitOutput = false;
};

Equation parseEquation(std::string_view equation) {
  Equation e;
  std::string_view lhs = equation;
  const auto arrow = equation.find("->");
  if (arrow != std::string_view::npos) {
    lhs = equation.substr(0, arrow);
    e.explicitOutput = true;
    const std::string_view rhs = equation.substr(arrow + 2);
    if (rhs.find("->") != std::string_view::npos || rhs.find(',') != std::string_view::npos) {
      fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation,
           "': the output after '->' must be one term");
    }
    e.output = parseTerm(rhs, equation);
  }
  std::size_t start = 0;
  while (true) {
    const auto comma = lhs.find(',', start);
    e.inputs.push_back(parseTerm(lhs.substr(start, comma - start), equation));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return e;
}

// The equation resolved against the input shapes: every dimension of the computation (letters,
// then the broadcast "..." dimensions) with its length, and per input and the output which
// dimension each of their axes is.
struct EinsumPlan {
  std::vector<int64_t> lengths;              // per dimension
  std::vector<std::vector<int32_t>> inputs;  // per input: the dimension of each axis
  std::vector<int32_t> output;               // the dimension of each output axis
  Dims outDims;
};

EinsumPlan planEinsum(std::string_view equation, std::span<const Dims> shapes) {
  const Equation e = parseEquation(equation);
  if (e.inputs.size() != shapes.size()) {
    fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "' has ", e.inputs.size(),
         " input term", e.inputs.size() == 1 ? "" : "s", " but the layer has ", shapes.size(),
         " input", shapes.size() == 1 ? "" : "s");
  }
  // The rank "..." covers in each input, and the broadcast lengths of those dimensions.
  int32_t ellipsisRank = 0;
  std::vector<int32_t> covered(shapes.size(), 0);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = e.inputs[i];
    const auto named = static_cast<int32_t>(t.labels.size()) - (t.hasEllipsis ? 1 : 0);
    const int32_t rank = shapes[i].nbDims;
    if (t.hasEllipsis ? rank < named : rank != named) {
      fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': input ", i, " of shape ",
           toString(shapes[i]), " has rank ", rank, " but its term names ", named, " dimension",
           named == 1 ? "" : "s", t.hasEllipsis ? " (and '...')" : "");
    }
    covered[i] = rank - named;
    ellipsisRank = std::max(ellipsisRank, covered[i]);
  }
  EinsumPlan plan;
  plan.lengths.assign(static_cast<std::size_t>(kLetters + ellipsisRank), -1);
  std::array<int32_t, kLetters> uses{};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = e.inputs[i];
    std::vector<int32_t> axes;
    int32_t axis = 0;
    for (int32_t label : t.labels) {
      if (label == kEllipsis) {
        // Right-aligned with the other inputs' "..." dimensions, as numpy broadcasting.
        for (int32_t k = 0; k < covered[i]; ++k, ++axis) {
          const int32_t dim = kLetters + ellipsisRank - covered[i] + k;
          int64_t& length = plan.lengths[static_cast<std::size_t>(dim)];
          const int64_t have = shapes[i][axis];
          if (length < 0 || length == 1) {
            length = have;
          } else if (have != length && have != 1) {
            fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation,
                 "': the '...' dimensions of input ", i, " (shape ", toString(shapes[i]),
                 ") do not broadcast with those of the other inputs");
          }
          axes.push_back(dim);
        }
        continue;
      }
      int64_t& length = plan.lengths[static_cast<std::size_t>(label)];
      const int64_t have = shapes[i][axis];
      if (length >= 0 && length != have) {
        fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': '",
             std::string(1, letterChar(label)), "' has length ", length, " elsewhere but length ",
             have, " in axis ", axis, " of input ", i, " (shape ", toString(shapes[i]), ")");
      }
      length = have;
      ++uses[static_cast<std::size_t>(label)];
      axes.push_back(label);
      ++axis;
    }
    plan.inputs.push_back(std::move(axes));
  }

  auto pushEllipsis = [&] {
    for (int32_t k = 0; k < ellipsisRank; ++k) plan.output.push_back(kLetters + k);
  };
  if (e.explicitOutput) {
    std::array<bool, kLetters> seen{};
    for (int32_t label : e.output.labels) {
      if (label == kEllipsis) {
        pushEllipsis();
        continue;
      }
      const char c = letterChar(label);
      if (plan.lengths[static_cast<std::size_t>(label)] < 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': output label '",
             std::string(1, c), "' appears in no input");
      }
      if (seen[static_cast<std::size_t>(label)]) {
        fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': output label '",
             std::string(1, c), "' appears twice");
      }
      seen[static_cast<std::size_t>(label)] = true;
      plan.output.push_back(label);
    }
  } else {
    pushEllipsis();
    for (int32_t label = 0; label < kLetters; ++label) {
      if (uses[static_cast<std::size_t>(label)] == 1) plan.output.push_back(label);
    }
    // ASCII order puts upper case first.
    std::stable_partition(plan.output.begin() + ellipsisRank, plan.output.end(),
                          [](int32_t label) { return label >= 26; });
  }
  if (static_cast<int32_t>(plan.output.size()) > Dims::kMaxRank) {
    fail(ErrorCode::kINVALID_ARGUMENT, "equation '", equation, "': the output would have rank ",
         plan.output.size(), "; tensors have at most ", Dims::kMaxRank, " dimensions");
  }
  plan.outDims.nbDims = static_cast<int32_t>(plan.output.size());
  for (std::size_t k = 0; k < plan.output.size(); ++k) {
    plan.outDims[static_cast<int32_t>(k)] = plan.lengths[static_cast<std::size_t>(plan.output[k])];
  }
  return plan;
}

void inferEinsum(ir::InferContext& ctx) {
  const std::string equation = ctx.attrs().getString("equation");
  const DataType type = ctx.input(0).dtype;
  std::vector<Dims> shapes;
  for (int32_t i = 0; i < ctx.nbInputs(); ++i) {
    if (ctx.input(i).dtype != type) {
      ctx.fail("input ", i, " is ", toString(ctx.input(i).dtype), " but input 0 is ",
               toString(type), "; all inputs need one type");
    }
    shapes.push_back(ctx.input(i).dims);
  }
  if (type != DataType::kFLOAT && type != DataType::kINT32) {
    ctx.fail("the inputs must be float32 or int32, not ", toString(type));
  }
  const EinsumPlan plan = withLayerContext(ctx, [&] {
    EinsumPlan p = planEinsum(equation, shapes);
    checkedVolume(p.outDims, "the output");
    return p;
  });
  ctx.setOutput(0, type, plan.outDims);
}

template <typename T, typename Acc>
void runTyped(const ir::KernelContext& ctx, const EinsumPlan& plan) {
  const auto nbInputs = static_cast<std::size_t>(ctx.inputs.size());
  const std::size_t nbDims = plan.lengths.size();
  // strides[i][dim]: how far input i moves when dimension dim advances by one.
  std::vector<std::vector<int64_t>> strides(nbInputs, std::vector<int64_t>(nbDims, 0));
  for (std::size_t i = 0; i < nbInputs; ++i) {
    const Dims& dims = ctx.inputs[i].dims;
    const Dims contiguous = contiguousStrides(dims);
    for (int32_t axis = 0; axis < dims.nbDims; ++axis) {
      if (dims[axis] == 1) continue;  // broadcast (or length 1): never moves
      strides[i][static_cast<std::size_t>(plan.inputs[i][static_cast<std::size_t>(axis)])] +=
          contiguous[axis];
    }
  }
  std::vector<bool> inOutput(nbDims, false);
  for (int32_t dim : plan.output) inOutput[static_cast<std::size_t>(dim)] = true;
  std::vector<int32_t> summed;
  for (std::size_t dim = 0; dim < nbDims; ++dim) {
    if (plan.lengths[dim] < 0 || inOutput[dim]) continue;
    summed.push_back(static_cast<int32_t>(dim));
  }
  // Summed dimensions may outnumber Dims::kMaxRank, so they are walked with their own counter.
  std::vector<int64_t> counter(summed.size(), 0);
  bool emptySum = false;
  for (int32_t dim : summed)
    emptySum = emptySum || plan.lengths[static_cast<std::size_t>(dim)] == 0;

  std::vector<const T*> data(nbInputs);
  for (std::size_t i = 0; i < nbInputs; ++i) data[i] = ctx.inputs[i].template as<const T>();
  T* y = ctx.output(0).template as<T>();
  std::vector<int64_t> base(nbInputs), offset(nbInputs);
  for (Odometer it(plan.outDims); it.valid(); it.next(), ++y) {
    for (std::size_t i = 0; i < nbInputs; ++i) {
      base[i] = 0;
      for (std::size_t k = 0; k < plan.output.size(); ++k) {
        base[i] +=
            it[static_cast<int32_t>(k)] * strides[i][static_cast<std::size_t>(plan.output[k])];
      }
    }
    Acc sum = 0;
    if (!emptySum) {
      std::fill(counter.begin(), counter.end(), 0);
      offset = base;
      while (true) {
        Acc product = 1;
        for (std::size_t i = 0; i < nbInputs; ++i) {
          product *= static_cast<Acc>(data[i][offset[i]]);
        }
        sum += product;
        // The next combination of the summed indices, moving the offsets along.
        bool advanced = false;
        for (std::size_t k = summed.size(); k > 0 && !advanced; --k) {
          const auto dim = static_cast<std::size_t>(summed[k - 1]);
          if (++counter[k - 1] < plan.lengths[dim]) {
            for (std::size_t i = 0; i < nbInputs; ++i) offset[i] += strides[i][dim];
            advanced = true;
          } else {
            for (std::size_t i = 0; i < nbInputs; ++i) {
              offset[i] -= strides[i][dim] * (plan.lengths[dim] - 1);
            }
            counter[k - 1] = 0;
          }
        }
        if (!advanced) break;
      }
    }
    *y = static_cast<T>(sum);
  }
}

void runEinsum(const ir::KernelContext& ctx) {
  std::vector<Dims> shapes;
  for (const auto& in : ctx.inputs) shapes.push_back(in.dims);
  const EinsumPlan plan = planEinsum(ctx.attrs().getString("equation"), shapes);
  if (ctx.output(0).count() == 0) return;
  if (ctx.input(0).dtype == DataType::kFLOAT) {
    runTyped<float, double>(ctx, plan);
  } else {
    runTyped<int32_t, uint64_t>(ctx, plan);
  }
}

}  // namespace

void registerEinsumOps(ir::OpRegistry& registry) {
  registry.add({.name = "Einsum",
                .minInputs = 1,
                .maxInputs = kMaxEinsumInputs,
                .nbOutputs = 1,
                .infer = inferEinsum,
                .reference = runEinsum});
}

}  // namespace kiln::ops
