// Data movement: Concat, Split, Slice, Gather, GatherElements, GatherND, Expand, Tile, Pad,
// DepthToSpace, SpaceToDepth. Known constants are folded.
#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "parsers/onnx/fold.h"
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

Tensor concatenate(NodeImport& n, const std::vector<Tensor>& inputs, int32_t axis,
                   std::string_view role) {
  if (inputs.size() == 1) return inputs[0];
  ConcatenationLayer concat = n.network.addConcatenation(inputs);
  if (concat) concat.setAxis(axis);
  return n.add(concat, role).output(0);
}

}  // namespace

void importConcat(NodeImport& n) {
  if (!n.hasAttr("axis")) n.invalid("attribute 'axis' is required");
  if (n.nbInputs() < 1) n.invalid("needs at least one input");
  const int32_t rank = n.inputRank(0);
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", 0), rank, "axis");
  if (n.allInputsConstant()) {
    std::vector<const ConstTensor*> parts;
    for (int32_t i = 0; i < n.nbInputs(); ++i) {
      if (n.hasInput(i)) parts.push_back(n.constantInput(i));
    }
    if (auto folded = tryFold([&] { return foldConcat(parts, axis, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  std::vector<Tensor> inputs;
  for (int32_t i = 0; i < n.nbInputs(); ++i) {
    if (!n.hasInput(i)) continue;
    // Empty parts contribute nothing (exporters concatenate empty shape pieces).
    if (elementCount(n.inputDims(i)) == 0 && n.nbInputs() > 1) continue;
    inputs.push_back(n.input(i));
  }
  if (inputs.empty()) inputs.push_back(n.input(0));
  if (inputs.size() == 1) {
    Tensor only = inputs[0];
    n.setOutput(0, n.add(n.network.addIdentity(only)).output(0));
    return;
  }
  n.setOutput(0, concatenate(n, inputs, axis, {}));
}

void importSplit(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", 0), in.nbDims, "axis");
  const int32_t outputs = n.nbOutputs();
  const int64_t extent = in[axis];
  std::vector<int64_t> sizes;
  if (n.opset >= 13 && n.isShapeTensorInput(1)) {
    // Sizes known only when the engine is built (a shape-tensor network input): each output is
    // a Slice that reads them.
    Tensor x = n.input(0);
    Tensor split = n.shapeInput(1);
    for (int32_t o = 0; o < outputs; ++o) {
      if (!n.outputUsed(o)) continue;
      SliceLayer part = n.network.addSlice(x, filled(in.nbDims, 0), in, filled(in.nbDims, 1));
      part.setSplitInput(axis, o);
      part.setInput(1, split);
      n.setOutput(o, n.add(part, "part" + std::to_string(o)).output(0));
    }
    return;
  }
  if (n.opset >= 13) {
    if (n.hasInput(1)) sizes = n.requireConstant(1, "split").toInts("split");
  } else {
    sizes = n.attrInts("split");
  }
  if (sizes.empty()) {
    const int64_t parts = n.hasAttr("num_outputs") ? n.attrInt("num_outputs", outputs) : outputs;
    if (parts < 1) n.invalid("cannot split into " + std::to_string(parts) + " parts");
    if (!n.hasAttr("num_outputs") && extent % parts != 0) {
      n.invalid("dimension " + std::to_string(axis) + " of extent " + std::to_string(extent) +
                " does not split evenly into " + std::to_string(parts) + " outputs");
    }
    const int64_t each = (extent + parts - 1) / parts;
    for (int64_t k = 0; k < parts; ++k) {
      sizes.push_back(std::clamp<int64_t>(extent - k * each, 0, each));
    }
  }
  if (static_cast<int32_t>(sizes.size()) != outputs) {
    n.invalid("split has " + std::to_string(sizes.size()) + " sizes for " +
              std::to_string(outputs) + " outputs");
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0 || __builtin_add_overflow(total, s, &total)) {
      n.invalid("split sizes must be non-negative and add up to the extent");
    }
  }
  if (total != extent) {
    n.invalid("split sizes add up to " + std::to_string(total) + ", but dimension " +
              std::to_string(axis) + " has extent " + std::to_string(extent));
  }
  const ConstTensor* c = n.constantInput(0);
  int64_t offset = 0;
  for (int32_t o = 0; o < outputs; ++o) {
    Dims start = filled(in.nbDims, 0), size = in, stride = filled(in.nbDims, 1);
    start[axis] = offset;
    size[axis] = sizes[static_cast<std::size_t>(o)];
    offset += size[axis];
    if (!n.outputUsed(o)) continue;
    std::optional<ConstTensor> folded;
    if (c != nullptr) {
      folded = tryFold([&] { return foldSlice(*c, start, size, stride, n.foldLimit()); });
    }
    if (folded) {
      n.setOutput(o, *folded);
    } else {
      n.setOutput(o, n.slice(n.input(0), start, size, stride, "part" + std::to_string(o)));
    }
  }
}

void importSlice(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int32_t rank = in.nbDims;
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset < 10) {
    starts = n.attrInts("starts");
    ends = n.attrInts("ends");
    axes = n.attrInts("axes");
  } else {
    // Every bound a constant or a shape tensor, and at least one a shape tensor.
    bool known = true, shapeTensors = true;
    for (int32_t i = 1; i <= 4; ++i) {
      if (!n.hasInput(i) || n.constantInput(i) != nullptr) continue;
      known = false;
      shapeTensors = shapeTensors && n.isShapeTensorInput(i);
    }
    if (!known && shapeTensors && n.hasInput(1) && n.hasInput(2)) {
      // Bounds known only when the engine is built (shape-tensor network inputs): the Slice
      // layer reads them, as ONNX defines them, from its inputs.
      SliceLayer slice = n.network.addSlice(n.input(0), filled(rank, 0), in, filled(rank, 1));
      slice.setOnnxBounds(true);
      slice.setInput(1, n.shapeInput(1));
      slice.setInput(2, n.shapeInput(2));
      const int64_t count = n.inputDims(1).nbDims == 0 ? 1 : n.inputDims(1)[0];
      if (n.hasInput(3) || n.hasInput(4)) {
        std::vector<int64_t> axes0(static_cast<std::size_t>(std::max<int64_t>(count, 0)));
        std::iota(axes0.begin(), axes0.end(), int64_t{0});
        slice.setInput(
            3, n.hasInput(3) ? n.shapeInput(3) : n.constant(ConstTensor::vector(axes0), "axes"));
      }
      if (n.hasInput(4)) slice.setInput(4, n.shapeInput(4));
      n.setOutput(0, n.add(slice).output(0));
      return;
    }
    starts = n.requireConstant(1, "starts").toInts("starts");
    ends = n.requireConstant(2, "ends").toInts("ends");
    if (n.hasInput(3)) axes = n.requireConstant(3, "axes").toInts("axes");
    if (n.hasInput(4)) steps = n.requireConstant(4, "steps").toInts("steps");
  }
  if (starts.size() != ends.size()) {
    n.invalid("starts has " + std::to_string(starts.size()) + " entries but ends has " +
              std::to_string(ends.size()));
  }
  if (axes.empty()) {
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    n.invalid("starts, ends, axes and steps must have one entry per sliced axis");
  }
  Dims start = filled(rank, 0), size = in, stride = filled(rank, 1);
  uint32_t seen = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const int32_t axis = normalizeAxis(n, axes[k], rank, "axes");
    if ((seen >> axis) & 1u) n.invalid("axes names dimension " + std::to_string(axis) + " twice");
    seen |= 1u << axis;
    const int64_t d = in[axis];
    const int64_t step = steps[k];
    if (step == 0) n.invalid("steps must not be 0");
    // Clamping as the ONNX definition does; 128-bit so INT64_MIN/MAX sentinels cannot overflow.
    __int128 s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = std::clamp<__int128>(s, 0, d);
      e = std::clamp<__int128>(e, 0, d);
    } else {
      s = std::clamp<__int128>(s, 0, d - 1);
      e = std::clamp<__int128>(e, -1, d - 1);
    }
    const __int128 span = step > 0 ? e - s : s - e;
    const __int128 magnitude = step > 0 ? step : -static_cast<__int128>(step);
    const __int128 count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
    start[axis] = count == 0 ? 0 : static_cast<int64_t>(s);
    size[axis] = static_cast<int64_t>(count);
    stride[axis] = step;
  }
  if (size == in && stride == filled(rank, 1)) {
    n.forward(0, 0);
    return;
  }
  if (const ConstTensor* c = n.constantInput(0)) {
    if (auto folded = tryFold([&] { return foldSlice(*c, start, size, stride, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  n.setOutput(0, n.slice(n.input(0), start, size, stride, {}));
}

void importGather(NodeImport& n) {
  const Dims data = n.inputDims(0);
  if (data.nbDims == 0) n.invalid("the data is a scalar");
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", 0), data.nbDims, "axis");
  const ConstTensor* d = n.constantInput(0);
  const ConstTensor* i = n.constantInput(1);
  if (d != nullptr && i != nullptr) {
    if (auto folded = tryFold([&] { return foldGather(*d, *i, axis, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  if (i != nullptr && i->isFloat()) n.invalid("indices must be integers");
  GatherLayer gather = n.network.addGather(n.input(0), n.input(1), axis);
  n.setOutput(0, n.add(gather).output(0));
}

void importGatherElements(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", 0), rank, "axis");
  GatherLayer gather = n.network.addGatherV2(n.input(0), n.input(1), GatherMode::kELEMENT);
  if (gather) gather.setGatherAxis(axis);
  n.setOutput(0, n.add(gather).output(0));
}

void importGatherND(NodeImport& n) {
  GatherLayer gather = n.network.addGatherV2(n.input(0), n.input(1), GatherMode::kND);
  if (gather) gather.setNbElementWiseDims(static_cast<int32_t>(n.attrInt("batch_dims", 0)));
  n.setOutput(0, n.add(gather).output(0));
}

// Expand broadcasts the input to a shape (in both directions, as numpy). A Slice with stride 0
// along the broadcast dimensions repeats elements exactly, with no arithmetic.
// A Slice that broadcasts @p x to the shape in input @p shapeIndex (or, with @p tile, repeats
// it the times given there), values known only when the engine is built (a shape-tensor
// network input). @p x is lifted to the rank of the result first.
Tensor sliceToTarget(NodeImport& n, Tensor x, int32_t shapeIndex, bool tile) {
  const Dims shapeDims = n.inputDims(shapeIndex);
  const int64_t count = shapeDims.nbDims == 0 ? 1 : shapeDims[0];
  const Dims in = x.dimensions();
  if (!tile && count > in.nbDims) {
    if (count > Dims::kMaxRank) n.unsupported("the shape has more dimensions than kiln holds");
    Dims lifted = filled(static_cast<int32_t>(count), 1);
    for (int32_t i = 0; i < in.nbDims; ++i) lifted[lifted.nbDims - in.nbDims + i] = in[i];
    x = n.reshape(x, lifted, "lift");
  }
  SliceLayer slice = n.network.addSlice(x, filled(x.dimensions().nbDims, 0), x.dimensions(),
                                        filled(x.dimensions().nbDims, 1));
  slice.setTargetInput(tile);
  slice.setInput(1, n.shapeInput(shapeIndex));
  return n.add(slice).output(0);
}

namespace {
bool atBuildTime(NodeImport& n, int32_t i) {
  return n.isShapeTensorInput(i);
}
}  // namespace

void importExpand(NodeImport& n) {
  if (atBuildTime(n, 1)) {
    n.setOutput(0, sliceToTarget(n, n.input(0), 1, false));
    return;
  }
  const Dims in = n.inputDims(0);
  const Dims shape = toDims(n, n.requireConstant(1, "the shape").toInts("the shape"), "the shape");
  const Dims out = broadcastDims(n, in, shape);
  if (out == in) {
    n.forward(0, 0);
    return;
  }
  Dims lifted = filled(out.nbDims, 1);
  for (int32_t i = 0; i < in.nbDims; ++i) lifted[out.nbDims - in.nbDims + i] = in[i];
  Dims stride = filled(out.nbDims, 1);
  for (int32_t i = 0; i < out.nbDims; ++i) {
    if (lifted[i] == 1 && out[i] != 1) stride[i] = 0;
  }
  const Dims start = filled(out.nbDims, 0);
  if (const ConstTensor* c = n.constantInput(0)) {
    if (auto folded = tryFold(
            [&] { return foldSlice(c->reshaped(lifted), start, out, stride, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  Tensor x = n.input(0);
  if (lifted != in) x = n.reshape(x, lifted, "lift");
  n.setOutput(0, n.slice(x, start, out, stride, "broadcast"));
}

void importTile(NodeImport& n) {
  if (atBuildTime(n, 1)) {
    n.setOutput(0, sliceToTarget(n, n.input(0), 1, true));
    return;
  }
  const Dims in = n.inputDims(0);
  const auto repeats = n.requireConstant(1, "repeats").toInts("repeats");
  if (static_cast<int32_t>(repeats.size()) != in.nbDims) {
    n.invalid("repeats has " + std::to_string(repeats.size()) + " entries; the input has rank " +
              std::to_string(in.nbDims));
  }
  for (int64_t r : repeats) {
    if (r < 1 || r > 4096) {
      n.unsupported("repeats of " + std::to_string(r) +
                    " (kiln tiles from 1 to 4096 times; 0 would give an empty result)");
    }
  }
  if (const ConstTensor* c = n.constantInput(0)) {
    // Each step is at most as large as the result, which the fold limit bounds.
    const auto folded = tryFold([&] {
      ConstTensor acc = *c;
      for (int32_t axis = 0; axis < in.nbDims; ++axis) {
        const auto r = static_cast<std::size_t>(repeats[static_cast<std::size_t>(axis)]);
        if (r == 1) continue;
        const ConstTensor part = acc;
        std::vector<const ConstTensor*> copies(r, &part);
        acc = foldConcat(copies, axis, n.foldLimit());
      }
      return acc;
    });
    if (folded) {
      n.setOutput(0, *folded);
      return;
    }
  }
  Tensor y = n.input(0);
  bool changed = false;
  for (int32_t axis = 0; axis < in.nbDims; ++axis) {
    const auto r = static_cast<std::size_t>(repeats[static_cast<std::size_t>(axis)]);
    if (r == 1) continue;
    y = concatenate(n, std::vector<Tensor>(r, y), axis, "axis" + std::to_string(axis));
    changed = true;
  }
  if (!changed) {
    n.forward(0, 0);
    return;
  }
  n.setOutput(0, y);
}

void importPad(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int32_t rank = in.nbDims;
  const std::string mode = n.attrString("mode", "constant");
  PaddingFill fill = PaddingFill::kCONSTANT;
  if (mode == "reflect") {
    fill = PaddingFill::kREFLECT;
  } else if (mode == "edge") {
    fill = PaddingFill::kEDGE;
  } else if (mode == "wrap") {
    n.unsupported("mode 'wrap': no kiln layer yet");
  } else if (mode != "constant") {
    n.invalid("mode '" + mode + "' is not constant, reflect, edge or wrap");
  }
  std::vector<int64_t> pads, axes;
  float value = 0.f;
  if (n.opset < 11) {
    pads = n.hasAttr("pads") ? n.attrInts("pads") : n.attrInts("paddings");
    value = n.attrFloat("value", 0.f);
  } else if (atBuildTime(n, 1) && !n.hasInput(3)) {
    // Pads known only when the engine is built (a shape-tensor network input): the layer reads
    // them, and the value as it comes.
    PaddingLayer pad = n.network.addPadding(n.input(0), Dims{}, Dims{});
    if (pad) {
      pad.setFill(fill);
      pad.setInput(1, n.shapeInput(1));
      if (n.hasInput(2) && fill == PaddingFill::kCONSTANT) {
        Tensor value = n.input(2);
        if (value.type() != DataType::kFLOAT) value = n.cast(value, DataType::kFLOAT, "value");
        pad.setInput(2, value);
      }
    }
    n.setOutput(0, n.add(pad).output(0));
    return;
  } else {
    pads = n.requireConstant(1, "pads").toInts("pads");
    if (n.hasInput(2)) {
      const ConstTensor& v = n.requireConstant(2, "constant_value");
      if (v.count() > 0) value = static_cast<float>(v.asDouble(0));
    }
    if (n.hasInput(3)) axes = n.requireConstant(3, "axes").toInts("axes");
  }
  if (axes.empty()) {
    for (int32_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size()) {
    n.invalid("pads has " + std::to_string(pads.size()) + " entries; " +
              std::to_string(axes.size()) + " padded axes need " + std::to_string(2 * axes.size()) +
              " (all begins, then all ends)");
  }
  Dims pre = filled(rank, 0), post = filled(rank, 0);
  bool any = false;
  (void)axesMask(n, axes, rank, "axes");  // rejects repeated axes
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const int32_t axis = normalizeAxis(n, axes[k], rank, "axes");
    pre[axis] = pads[k];
    post[axis] = pads[k + axes.size()];
    any = any || pre[axis] != 0 || post[axis] != 0;
  }
  if (!any) {
    n.forward(0, 0);
    return;
  }
  PaddingLayer pad = n.network.addPadding(n.input(0), pre, post);
  if (pad) {
    pad.setFill(fill);
    if (fill == PaddingFill::kCONSTANT) pad.setValue(value);
  }
  n.setOutput(0, n.add(pad).output(0));
}

namespace {
// DepthToSpace and SpaceToDepth are a reshape, a transpose and a reshape.
void rearrange(NodeImport& n, const Dims& split, std::span<const int32_t> perm, const Dims& out) {
  ShuffleLayer first = n.network.addShuffle(n.input(0));
  if (first) {
    first.setReshapeDimensions(split);
    first.setZeroIsPlaceholder(false);
    first.setSecondTranspose(perm);
  }
  Tensor moved = n.add(first).output(0);
  n.setOutput(0, n.reshape(moved, out, "merge"));
}

int64_t blockSize(const NodeImport& n, const Dims& in) {
  if (in.nbDims != 4) n.invalid("the input has shape " + toString(in) + "; it needs [N, C, H, W]");
  const int64_t b = n.attrInt("blocksize", 0);
  if (b < 1 || b > std::max({in[1], in[2], in[3], int64_t{1}})) {
    n.invalid("blocksize must be given, positive, and at most the input's extents");
  }
  return b;
}
}  // namespace

void importDepthToSpace(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int64_t b = blockSize(n, in);
  if (in[1] % (b * b) != 0) {
    n.invalid(std::to_string(in[1]) +
              " channels are not divisible by blocksize^2 = " + std::to_string(b * b));
  }
  const int64_t c = in[1] / (b * b);
  const Dims out{in[0], c, in[2] * b, in[3] * b};
  if (n.attrString("mode", "DCR") == "CRD") {
    static constexpr int32_t kPerm[] = {0, 1, 4, 2, 5, 3};
    rearrange(n, Dims{in[0], c, b, b, in[2], in[3]}, kPerm, out);
  } else {
    static constexpr int32_t kPerm[] = {0, 3, 4, 1, 5, 2};
    rearrange(n, Dims{in[0], b, b, c, in[2], in[3]}, kPerm, out);
  }
}

void importSpaceToDepth(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int64_t b = blockSize(n, in);
  if (in[2] % b != 0 || in[3] % b != 0) {
    n.invalid("spatial extents " + toString(in) + " are not divisible by blocksize " +
              std::to_string(b));
  }
  static constexpr int32_t kPerm[] = {0, 3, 5, 1, 2, 4};
  rearrange(n, Dims{in[0], in[1], in[2] / b, b, in[3] / b, b}, kPerm,
            Dims{in[0], in[1] * b * b, in[2] / b, in[3] / b});
}

}  // namespace kiln::parsers::onnx_import
