// Reads and validates a plan. Nothing from the file is trusted: every count, offset, id and
// shape is checked before use, and the graph's shapes are re-inferred and compared, so a
// corrupted or hostile plan yields an error, never a crash or an out-of-bounds access.
#include <algorithm>
#include <bit>
#include <set>

#include "core/aligned_buffer.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "plan/byte_io.h"
#include "plan/plan_format.h"
#include "plan/plan_io.h"

namespace kiln::plan {

namespace {

enum class AttrTag : uint8_t { kInt = 0, kFloat = 1, kString = 2, kInts = 3, kFloats = 4 };

DataType readDataType(ByteReader& r) {
  const int32_t value = r.get<int32_t>();
  if (!isValidDataType(value)) r.corrupt("unknown data type " + std::to_string(value));
  return static_cast<DataType>(value);
}

std::optional<DataType> readOptionalType(ByteReader& r) {
  const int32_t value = r.get<int32_t>();
  if (value == -1) return std::nullopt;
  if (!isValidDataType(value)) r.corrupt("unknown data type " + std::to_string(value));
  return static_cast<DataType>(value);
}

Dims readDims(ByteReader& r) {
  Dims dims;
  dims.nbDims = r.get<int32_t>();
  if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
    r.corrupt("a shape has rank " + std::to_string(dims.nbDims));
  }
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    dims[i] = r.get<int64_t>();
    if (dims[i] < 0) r.corrupt("a shape has extent " + std::to_string(dims[i]));
  }
  return dims;
}

ir::Attributes readAttributes(ByteReader& r) {
  ir::Attributes attrs;
  const uint32_t count = r.getCount(6);
  for (uint32_t i = 0; i < count; ++i) {
    std::string name = r.getString();
    if (attrs.has(name)) r.corrupt("attribute '" + name + "' appears twice");
    const auto tag = static_cast<AttrTag>(r.get<uint8_t>());
    switch (tag) {
      case AttrTag::kInt:
        attrs.set(name, r.get<int64_t>());
        break;
      case AttrTag::kFloat:
        attrs.set(name, r.get<double>());
        break;
      case AttrTag::kString:
        attrs.set(name, r.getString());
        break;
      case AttrTag::kInts: {
        const uint32_t n = r.getCount(sizeof(int64_t));
        std::vector<int64_t> v(n);
        for (auto& x : v) x = r.get<int64_t>();
        attrs.set(name, std::move(v));
        break;
      }
      case AttrTag::kFloats: {
        const uint32_t n = r.getCount(sizeof(double));
        std::vector<double> v(n);
        for (auto& x : v) x = r.get<double>();
        attrs.set(name, std::move(v));
        break;
      }
      default:
        r.corrupt("attribute '" + name + "' has an unknown type tag");
    }
  }
  return attrs;
}

ir::ValueId readValueId(ByteReader& r, std::size_t nbValues, bool optional) {
  const int32_t v = r.get<int32_t>();
  if (optional && v == ir::kNoValue) return v;
  if (v < 0 || static_cast<std::size_t>(v) >= nbValues) {
    r.corrupt("reference to tensor #" + std::to_string(v) + " of " + std::to_string(nbValues));
  }
  return v;
}

// A tensor over the cap is refused before anything is sized from it: the runtime allocates
// inputs, outputs and the arena from these shapes.
void checkTensorLimit(const ir::Value& value, const ModelLimits& limits) {
  const uint64_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
  if (bytes > limits.maxTensorBytes) {
    fail(ErrorCode::kINVALID_PLAN, "tensor '", value.name, "' (", toString(value.dtype), " ",
         toString(value.dims), ") needs ", bytes, " bytes, more than the limit of ",
         limits.maxTensorBytes, " (ModelLimits::maxTensorBytes)");
  }
}

ir::Graph readGraph(std::span<const std::byte> section, std::span<const std::byte> weights,
                    const ModelLimits& limits) {
  ByteReader r(section, "graph");
  ir::Graph graph;
  graph.name = r.getString();
  const uint32_t nbValues = r.getCount(21);
  graph.values.resize(nbValues);
  for (auto& value : graph.values) {
    value.name = r.getString();
    value.dtype = readDataType(r);
    value.dims = readDims(r);
    checkTensorLimit(value, limits);
    value.producer = r.get<int32_t>();
    value.producerOutput = r.get<int32_t>();
    const uint8_t kind = r.get<uint8_t>();
    if (kind > static_cast<uint8_t>(ValueKind::kAbsorbed)) {
      r.corrupt("tensor '" + value.name + "' has an unknown kind " + std::to_string(kind));
    }
    if (kind == static_cast<uint8_t>(ValueKind::kAbsorbed)) {
      // Its readers' prepared weights hold it; the runtime checks each kernel absorbs it.
      value.absorbed = true;
      value.constant = std::make_shared<const std::vector<std::byte>>();
    } else if (kind == static_cast<uint8_t>(ValueKind::kConstant)) {
      const uint64_t offset = r.get<uint64_t>();
      const uint64_t size = r.get<uint64_t>();
      if (offset > weights.size() || size > weights.size() - offset) {
        r.corrupt("constant '" + value.name + "' lies outside the weights section");
      }
      const uint64_t expected = checkedByteSize(value.dims, value.dtype, value.name);
      if (size != expected) {
        r.corrupt("constant '" + value.name + "' has " + std::to_string(size) +
                  " bytes; its shape needs " + std::to_string(expected));
      }
      const auto* begin = weights.data() + offset;
      value.constant = std::make_shared<const std::vector<std::byte>>(
          begin, begin + static_cast<std::ptrdiff_t>(size));
    }
  }
  const uint32_t nbNodes = r.getCount(24);
  if (limits.maxLayers >= 0 && nbNodes > static_cast<uint64_t>(limits.maxLayers)) {
    fail(ErrorCode::kINVALID_PLAN, "the plan has ", nbNodes, " layers, more than the limit of ",
         limits.maxLayers, " (ModelLimits::maxLayers)");
  }
  graph.nodes.resize(nbNodes);
  for (auto& node : graph.nodes) {
    node.name = r.getString();
    node.op = r.getString();
    if (ir::OpRegistry::instance().find(node.op) == nullptr) {
      r.corrupt("layer '" + node.name + "' has unknown op '" + node.op + "'");
    }
    node.attrs = readAttributes(r);
    const uint32_t nbIn = r.getCount(4);
    for (uint32_t i = 0; i < nbIn; ++i) node.inputs.push_back(readValueId(r, nbValues, true));
    const uint32_t nbOut = r.getCount(4);
    for (uint32_t i = 0; i < nbOut; ++i) node.outputs.push_back(readValueId(r, nbValues, false));
    const uint32_t nbFused = r.getCount(4);
    for (uint32_t i = 0; i < nbFused; ++i) node.fusedFrom.push_back(r.getString());
    node.precision = readOptionalType(r);
    for (uint32_t i = 0; i < nbOut; ++i) node.outputTypes.push_back(readOptionalType(r));
  }
  const uint32_t nbInputs = r.getCount(4);
  for (uint32_t i = 0; i < nbInputs; ++i) graph.inputs.push_back(readValueId(r, nbValues, false));
  const uint32_t nbOutputs = r.getCount(4);
  for (uint32_t i = 0; i < nbOutputs; ++i) graph.outputs.push_back(readValueId(r, nbValues, false));
  if (r.remaining() != 0) r.corrupt("unexpected bytes after the graph");
  return graph;
}

// The graph must be exactly what a builder produces: consistent ids, nodes in execution order,
// and every stored shape equal to what the ops infer from the inputs.
void checkGraph(ir::Graph& graph) {
  try {
    graph.validate();
  } catch (const Error& e) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: graph section: ", e.what());
  }
  std::vector<bool> ready(graph.values.size(), false);
  // Flags, not Graph::isGraphInput: a scan per value would be quadratic in a hostile plan.
  std::vector<bool> isInput(graph.values.size(), false);
  for (ir::ValueId v : graph.inputs) isInput[static_cast<std::size_t>(v)] = true;
  for (ir::ValueId v : graph.inputs) ready[static_cast<std::size_t>(v)] = true;
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    if (graph.values[v].isConstant()) ready[v] = true;
  }
  for (const auto& node : graph.nodes) {
    for (ir::ValueId v : node.inputs) {
      if (v != ir::kNoValue && !ready[static_cast<std::size_t>(v)]) {
        fail(ErrorCode::kINVALID_PLAN, "corrupted plan: layer '", node.name, "' reads tensor '",
             graph.value(v).name, "' before it is written");
      }
    }
    for (ir::ValueId v : node.outputs) {
      // Constants and inputs are the engine's and the caller's read-only memory.
      if (graph.value(v).isConstant() || isInput[static_cast<std::size_t>(v)]) {
        fail(ErrorCode::kINVALID_PLAN, "corrupted plan: layer '", node.name, "' writes tensor '",
             graph.value(v).name, "', which is ",
             graph.value(v).isConstant() ? "a constant" : "a network input");
      }
      ready[static_cast<std::size_t>(v)] = true;
    }
  }
  for (ir::ValueId v : graph.outputs) {
    if (graph.value(v).producer == ir::kNoNode) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: output '", graph.value(v).name,
           "' is not written by any layer");
    }
  }
  std::set<std::string> ioNames;
  for (ir::ValueId v : graph.inputs) ioNames.insert(graph.value(v).name);
  for (ir::ValueId v : graph.outputs) {
    if (!ioNames.insert(graph.value(v).name).second) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: IO tensor name '", graph.value(v).name,
           "' appears twice");
    }
  }
  for (ir::ValueId v : graph.inputs)
    checkedByteSize(graph.value(v).dims, graph.value(v).dtype, graph.value(v).name);

  std::vector<std::pair<DataType, Dims>> stored;
  for (const auto& value : graph.values) stored.emplace_back(value.dtype, value.dims);
  try {
    ir::inferShapes(graph);
  } catch (const Error& e) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: ", e.what());
  }
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto& value = graph.values[v];
    if (value.dtype != stored[v].first || !(value.dims == stored[v].second)) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: tensor '", value.name, "' is stored as ",
           toString(stored[v].first), " ", toString(stored[v].second), " but its layer gives ",
           toString(value.dtype), " ", toString(value.dims));
    }
  }
}

std::vector<std::string> readTactics(std::span<const std::byte> section, std::size_t nbNodes) {
  ByteReader r(section, "tactics");
  const uint32_t n = r.getCount(4);
  if (n != nbNodes) {
    r.corrupt("it names " + std::to_string(n) + " tactics for " + std::to_string(nbNodes) +
              " layers");
  }
  std::vector<std::string> tactics;
  for (uint32_t i = 0; i < n; ++i) tactics.push_back(r.getString());
  if (r.remaining() != 0) r.corrupt("unexpected bytes after the tactics");
  return tactics;
}

MemoryPlan readMemory(std::span<const std::byte> section, const ir::Graph& graph) {
  ByteReader r(section, "memory");
  MemoryPlan memory;
  memory.arenaBytes = r.get<uint64_t>();
  memory.lowerBoundBytes = r.get<uint64_t>();
  const uint32_t n = r.getCount(8);
  if (n != graph.values.size()) r.corrupt("offsets do not match the number of tensors");
  memory.valueOffsets.resize(n);
  for (auto& offset : memory.valueOffsets) offset = r.get<int64_t>();
  if (r.remaining() != 0) r.corrupt("unexpected bytes after the memory plan");
  // The planner never needs more than all activations side by side, so a larger arena can only
  // be a hostile size (every activation is already capped by ModelLimits::maxTensorBytes).
  uint64_t activationBytes = 0;
  std::vector<bool> isIO(graph.values.size(), false);
  for (ir::ValueId v : graph.inputs) isIO[static_cast<std::size_t>(v)] = true;
  for (ir::ValueId v : graph.outputs) isIO[static_cast<std::size_t>(v)] = true;
  // Every activation written by a layer must lie wholly inside the arena.
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto& value = graph.values[v];
    const bool needsArena = value.producer != ir::kNoNode && !value.isConstant() && !isIO[v];
    const int64_t offset = memory.valueOffsets[v];
    if (!needsArena) {
      if (offset != -1)
        r.corrupt("tensor '" + value.name + "' has an arena offset it must not have");
      continue;
    }
    const uint64_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
    const uint64_t aligned = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    activationBytes =
        aligned > UINT64_MAX - activationBytes ? UINT64_MAX : activationBytes + aligned;
    // Kernels rely on the planner's alignment (SIMD loads, and typed access at all).
    if (offset % static_cast<int64_t>(kBufferAlignment) != 0) {
      r.corrupt("tensor '" + value.name + "' has arena offset " + std::to_string(offset) +
                ", not a multiple of " + std::to_string(kBufferAlignment));
    }
    if (offset < 0 || static_cast<uint64_t>(offset) > memory.arenaBytes ||
        bytes > memory.arenaBytes - static_cast<uint64_t>(offset)) {
      r.corrupt("tensor '" + value.name + "' does not fit in the arena");
    }
  }
  if (memory.arenaBytes > activationBytes) {
    r.corrupt("the arena has " + std::to_string(memory.arenaBytes) + " bytes, more than the " +
              std::to_string(activationBytes) + " its activations need side by side");
  }
  return memory;
}

std::vector<int64_t> readValues(ByteReader& r) {
  const uint32_t n = r.getCount(sizeof(int64_t));
  if (n > static_cast<uint32_t>(Dims::kMaxRank)) {
    r.corrupt("a shape tensor has " + std::to_string(n) + " values; at most " +
              std::to_string(Dims::kMaxRank) + " are supported");
  }
  std::vector<int64_t> values(n);
  for (auto& v : values) v = r.get<int64_t>();
  return values;
}

template <typename T>
bool ordered(T a, T b, T c) {
  return a <= b && b <= c;
}

// A shape-tensor input lives in the graph as the constant of its name; its values, the ones
// the profile's opt gives, must be what is stored.
std::vector<double> constantFloatValues(const ir::Value& value) {
  std::vector<double> values(static_cast<std::size_t>(volume(value.dims)));
  for (std::size_t i = 0; i < values.size(); ++i) {
    float x = 0;
    std::memcpy(&x, value.constant->data() + i * sizeof(x), sizeof(x));
    values[i] = x;
  }
  return values;
}

std::vector<int64_t> constantValues(const ir::Value& value) {
  std::vector<int64_t> values(static_cast<std::size_t>(volume(value.dims)));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (value.dtype == DataType::kINT32) {
      int32_t x = 0;
      std::memcpy(&x, value.constant->data() + i * sizeof(x), sizeof(x));
      values[i] = x;
    } else {
      std::memcpy(&values[i], value.constant->data() + i * sizeof(int64_t), sizeof(int64_t));
    }
  }
  return values;
}

void checkRange(ByteReader& r, const InputRange& input, const ir::Graph& graph) {
  const ir::Value* value = nullptr;
  for (const auto& candidate : graph.values) {
    if (candidate.name == input.name) value = &candidate;
  }
  if (input.shapeTensor) {
    const bool isFloat = value != nullptr && value->dtype == DataType::kFLOAT;
    if (value == nullptr || !value->isConstant() ||
        (value->dtype != DataType::kINT32 && value->dtype != DataType::kINT64 && !isFloat) ||
        value->dims.nbDims > 1) {
      r.corrupt("shape-tensor input '" + input.name +
                "' is not an int32/int64/float32 constant of rank 0 or 1 in the graph");
    }
    const auto count = static_cast<std::size_t>(volume(value->dims));
    for (std::size_t s = 0; s < 3; ++s) {
      const std::size_t n = isFloat ? input.floatValues[s].size() : input.values[s].size();
      const std::size_t other = isFloat ? input.values[s].size() : input.floatValues[s].size();
      if (n != count || other != 0) {
        r.corrupt("shape-tensor input '" + input.name + "' has " + std::to_string(n + other) +
                  (other != 0 ? " values of the wrong type" : " values") +
                  " in a profile; its shape holds " + std::to_string(count) + " of " +
                  std::string(toString(value->dtype)));
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      const bool inOrder =
          isFloat
              ? ordered(input.floatValues[0][i], input.floatValues[1][i], input.floatValues[2][i])
              : ordered(input.values[0][i], input.values[1][i], input.values[2][i]);
      if (!inOrder) r.corrupt("shape-tensor input '" + input.name + "' has min > opt or opt > max");
    }
    return;
  }
  bool isInput = false;
  for (ir::ValueId v : graph.inputs) isInput = isInput || graph.value(v).name == input.name;
  if (!isInput) r.corrupt("profile input '" + input.name + "' is not a network input");
  for (const Dims& dims : input.dims) {
    if (dims.nbDims != value->dims.nbDims) {
      r.corrupt("input '" + input.name + "' has a profile shape of rank " +
                std::to_string(dims.nbDims) + "; the input has rank " +
                std::to_string(value->dims.nbDims));
    }
  }
  for (int32_t i = 0; i < value->dims.nbDims; ++i) {
    if (!ordered(input.dims[0][i], input.dims[1][i], input.dims[2][i])) {
      r.corrupt("input '" + input.name + "' has min > opt or opt > max in dimension " +
                std::to_string(i));
    }
  }
}

std::vector<Profile> readProfiles(std::span<const std::byte> section, const ir::Graph& graph) {
  ByteReader r(section, "profiles");
  const uint32_t nbProfiles = r.getCount(32);
  if (nbProfiles == 0) r.corrupt("it holds no profile");
  std::vector<Profile> profiles(nbProfiles);
  for (std::size_t p = 0; p < profiles.size(); ++p) {
    Profile& profile = profiles[p];
    const uint32_t nbInputs = r.getCount(17);
    if (nbInputs == 0) r.corrupt("a profile has no inputs");
    for (uint32_t i = 0; i < nbInputs; ++i) {
      InputRange input;
      input.name = r.getString();
      const auto kind = r.get<uint8_t>();  // 0: extents, 1: int values, 2: float values
      if (kind > 2) r.corrupt("input '" + input.name + "' is of unknown kind");
      input.shapeTensor = kind != 0;
      for (Dims& dims : input.dims) dims = readDims(r);
      for (std::size_t s = 0; s < 3; ++s) {
        std::vector<int64_t> slots = readValues(r);
        if (kind != 2) {
          input.values[s] = std::move(slots);
          continue;
        }
        for (int64_t slot : slots) input.floatValues[s].push_back(std::bit_cast<double>(slot));
      }
      checkRange(r, input, graph);
      if (p > 0 && (i >= profiles[0].inputs.size() || profiles[0].inputs[i].name != input.name ||
                    profiles[0].inputs[i].shapeTensor != input.shapeTensor)) {
        r.corrupt("profile " + std::to_string(p) + " does not list the inputs profile 0 lists");
      }
      for (const InputRange& earlier : profile.inputs) {
        if (earlier.name == input.name) r.corrupt("input '" + input.name + "' appears twice");
      }
      profile.inputs.push_back(std::move(input));
    }
    if (p > 0 && profile.inputs.size() != profiles[0].inputs.size()) {
      r.corrupt("profile " + std::to_string(p) + " does not list the inputs profile 0 lists");
    }
    profile.tactics.resize(r.getCount(4));
    if (profile.tactics.size() != graph.nodes.size()) {
      r.corrupt("a profile names " + std::to_string(profile.tactics.size()) + " tactics for " +
                std::to_string(graph.nodes.size()) + " layers");
    }
    for (auto& t : profile.tactics) t = r.getString();
    profile.arenaBytes = r.get<uint64_t>();
    profile.lowerBoundBytes = r.get<uint64_t>();
    profile.workspaceBytes = r.get<uint64_t>();
  }
  if (r.remaining() != 0) r.corrupt("unexpected bytes after the profiles");
  // The stored graph is profile 0 at its opt shapes.
  for (const InputRange& input : profiles[0].inputs) {
    for (const auto& value : graph.values) {
      if (value.name != input.name || value.isConstant() != input.shapeTensor) continue;
      const bool isFloat = value.dtype == DataType::kFLOAT;
      if (input.shapeTensor &&
          ((value.dtype != DataType::kINT32 && value.dtype != DataType::kINT64 && !isFloat) ||
           value.dims.nbDims > 1 ||
           static_cast<std::size_t>(volume(value.dims)) !=
               (isFloat ? input.floatValues[1].size() : input.values[1].size()))) {
        r.corrupt("shape-tensor input '" + input.name + "' is stored twice");
      }
      // Float values are stored as doubles of float32 values, so they compare exactly.
      const bool same = !input.shapeTensor ? value.dims == input.dims[1]
                        : isFloat          ? constantFloatValues(value) == input.floatValues[1]
                                           : constantValues(value) == input.values[1];
      if (!same) r.corrupt("input '" + input.name + "' is not stored at profile 0's opt shape");
    }
  }
  return profiles;
}

// Per node, its prepared weights: buffers of the weights section, each copied into memory
// aligned for the kernels' loads. Only static CPU plans (@p staticCpu) have them.
std::vector<std::vector<std::shared_ptr<const AlignedBuffer>>> readPrepared(
    std::span<const std::byte> section, std::span<const std::byte> weights, const EnginePlan& plan,
    bool staticCpu) {
  ByteReader r(section, "prepared weights");
  const uint32_t nodes = r.getCount(4);
  if (nodes != plan.graph.nodes.size()) {
    r.corrupt("it covers " + std::to_string(nodes) + " layers of " +
              std::to_string(plan.graph.nodes.size()));
  }
  if (!staticCpu) r.corrupt("only static CPU engines store prepared weights");
  std::vector<std::vector<std::shared_ptr<const AlignedBuffer>>> prepared(nodes);
  uint64_t total = 0;  // buffers lie apart: no more bytes than the section holds
  for (uint32_t n = 0; n < nodes; ++n) {
    const uint32_t count = r.getCount(16);
    for (uint32_t b = 0; b < count; ++b) {
      const uint64_t offset = r.get<uint64_t>();
      const uint64_t size = r.get<uint64_t>();
      if (offset > weights.size() || size > weights.size() - offset) {
        r.corrupt("layer '" + plan.graph.nodes[n].name +
                  "': a prepared weight buffer lies outside the weights section");
      }
      total += size;
      if (total > weights.size()) r.corrupt("the buffers hold more bytes than the weights section");
      auto buffer = std::make_shared<AlignedBuffer>(static_cast<std::size_t>(size));
      if (size > 0) std::memcpy(buffer->data(), weights.data() + offset, size);
      prepared[n].push_back(std::move(buffer));
    }
  }
  return prepared;
}

// A constant left out of the plan: only a static CPU plan with prepared weights (@p prepared)
// leaves any out, never a network output's (the runtime then checks that every reader's kernel
// absorbed it). Checked before anything reads constants' bytes (the profiles' shape tensors).
void checkAbsorbed(const ir::Graph& graph, bool prepared) {
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const ir::Value& value = graph.values[v];
    if (!value.absorbed) continue;
    const bool output = graph.isGraphOutput(static_cast<ir::ValueId>(v));
    if (!prepared || output) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: constant '", value.name,
           "' is left out, but ",
           output ? "it is a network output" : "the plan stores no prepared weights");
    }
  }
}

// Sections must not overlap, and the alignment padding between them must be zeros, so that
// every byte of the file is covered by a check.
void checkPadding(std::span<const std::byte> file, std::size_t headerLength,
                  std::span<const std::span<const std::byte>> sections) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (const auto& s : sections) {
    if (s.data() != nullptr) {
      ranges.emplace_back(static_cast<std::size_t>(s.data() - file.data()), s.size());
    }
  }
  std::sort(ranges.begin(), ranges.end());
  std::size_t pos = headerLength;
  for (const auto& [offset, length] : ranges) {
    if (offset < pos) fail(ErrorCode::kINVALID_PLAN, "corrupted plan: sections overlap");
    for (; pos < offset; ++pos) {
      if (file[pos] != std::byte{0}) {
        fail(ErrorCode::kINVALID_PLAN, "corrupted plan: non-zero padding at byte ", pos);
      }
    }
    pos = offset + length;
  }
  if (pos != file.size()) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: ", file.size() - pos,
         " bytes after the last section");
  }
}

}  // namespace

EnginePlan readPlan(std::span<const std::byte> bytes, const ModelLimits& limits) {
  constexpr std::size_t kMinHeader = 24;
  if (bytes.size() > limits.maxModelBytes) {
    fail(ErrorCode::kINVALID_PLAN, "the plan has ", bytes.size(), " bytes, more than the limit of ",
         limits.maxModelBytes, " (ModelLimits::maxModelBytes)");
  }
  if (bytes.size() < kMinHeader) {
    fail(ErrorCode::kINVALID_PLAN, "truncated plan: ", bytes.size(),
         " bytes is smaller than a plan header");
  }
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    fail(ErrorCode::kINVALID_PLAN, "not a kiln plan: wrong magic bytes (expected \"KILNPLAN\")");
  }
  ByteReader head(bytes, "header");
  for (std::size_t i = 0; i < kMagic.size(); ++i) head.get<char>();
  const uint32_t version = head.get<uint32_t>();
  if (version > kFormatVersion) {
    fail(ErrorCode::kINVALID_PLAN, "the plan has format version ", version,
         ", newer than this kiln (", KILN_VERSION_STRING, ") reads (", kFormatVersion,
         "); rebuild the engine with this version");
  }
  if (version < kFormatVersion) {
    fail(ErrorCode::kINVALID_PLAN, "the plan has format version ", version,
         ", older than this kiln reads (", kFormatVersion, "); rebuild the engine");
  }
  const uint32_t headerLength = head.get<uint32_t>();
  const uint64_t fileLength = head.get<uint64_t>();
  if (fileLength > bytes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "truncated plan: the header says ", fileLength,
         " bytes, the file has ", bytes.size());
  }
  if (fileLength < bytes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: ", bytes.size() - fileLength,
         " unexpected bytes after the end the header gives (", fileLength, " bytes)");
  }
  if (headerLength < kMinHeader + 8 || headerLength > bytes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: header length ", headerLength,
         " is impossible for a file of ", bytes.size(), " bytes");
  }
  const auto headerBytes = bytes.first(headerLength - 8);
  uint64_t storedHeaderSum = 0;
  std::memcpy(&storedHeaderSum, bytes.data() + headerLength - 8, 8);
  if (checksum64(headerBytes) != storedHeaderSum) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the header checksum does not match");
  }

  EnginePlan plan;
  ByteReader r(headerBytes, "header");
  for (std::size_t i = 0; i < kMagic.size(); ++i) r.get<char>();
  r.get<uint32_t>();
  r.get<uint32_t>();
  r.get<uint64_t>();
  r.getString();  // library version that wrote it (informational)
  const int32_t device = r.get<int32_t>();
  if (device != static_cast<int32_t>(DeviceType::kCPU) &&
      device != static_cast<int32_t>(DeviceType::kGPU)) {
    r.corrupt("unknown device type " + std::to_string(device));
  }
  plan.target.device = static_cast<DeviceType>(device);
  plan.target.deviceName = r.getString();
  const uint32_t nbIsa = r.getCount(4);
  for (uint32_t i = 0; i < nbIsa; ++i) plan.target.requiredIsa.push_back(r.getString());
  plan.target.computeCapability = r.get<int32_t>();
  plan.builderFlags = r.get<uint64_t>();

  std::span<const std::byte> sections[7] = {};
  const uint32_t nbSections = r.getCount(32);
  for (uint32_t i = 0; i < nbSections; ++i) {
    const uint32_t id = r.get<uint32_t>();
    r.get<uint32_t>();
    const uint64_t offset = r.get<uint64_t>();
    const uint64_t length = r.get<uint64_t>();
    const uint64_t sum = r.get<uint64_t>();
    if (id < 1 || id > 6) r.corrupt("unknown section id " + std::to_string(id));
    const auto name = sectionName(static_cast<SectionId>(id));
    if (offset < headerLength || offset > bytes.size() || length > bytes.size() - offset) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the ", name,
           " section lies outside the file");
    }
    if (!sections[id].empty() || (sections[id].data() != nullptr)) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: two ", name, " sections");
    }
    const auto section = bytes.subspan(offset, length);
    if (checksum64(section) != sum) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the ", name,
           " section's checksum does not match (the file was modified or damaged)");
    }
    sections[id] = section.empty() ? bytes.subspan(offset, 0) : section;
  }
  checkPadding(bytes, headerLength, sections);
  for (uint32_t id = 1; id <= 4; ++id) {
    if (sections[id].data() == nullptr) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the ",
           sectionName(static_cast<SectionId>(id)), " section is missing");
    }
  }

  plan.graph = readGraph(sections[1], sections[4], limits);
  checkGraph(plan.graph);
  // Static CPU plans alone may store prepared weights and leave constants out.
  const bool staticCpu = sections[5].data() == nullptr && plan.target.device == DeviceType::kCPU;
  checkAbsorbed(plan.graph, staticCpu && sections[6].data() != nullptr);
  plan.tactics = readTactics(sections[2], plan.graph.nodes.size());
  plan.memory = readMemory(sections[3], plan.graph);
  if (sections[5].data() != nullptr) plan.profiles = readProfiles(sections[5], plan.graph);
  if (plan.tactics != (plan.isDynamic() ? plan.profiles[0].tactics : plan.tactics)) {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: profile 0's tactics differ from the graph's");
  }
  if (sections[6].data() != nullptr) {
    plan.prepared = readPrepared(sections[6], sections[4], plan, staticCpu);
  }
  return plan;
}

}  // namespace kiln::plan
