// Serializes an EnginePlan. Layout: header (magic, versions, target, flags, section table,
// header checksum), then the sections, each 64-byte aligned and checksummed.
#include <algorithm>
#include <bit>
#include <variant>

#include "plan/byte_io.h"
#include "plan/plan_format.h"
#include "plan/plan_io.h"

namespace kiln::plan {

namespace {

enum class AttrTag : uint8_t { kInt = 0, kFloat = 1, kString = 2, kInts = 3, kFloats = 4 };

void writeDims(ByteWriter& w, const Dims& dims) {
  w.put<int32_t>(dims.nbDims);
  for (int32_t i = 0; i < dims.nbDims; ++i) w.put<int64_t>(dims[i]);
}

void writeAttributes(ByteWriter& w, const ir::Attributes& attrs) {
  w.put<uint32_t>(static_cast<uint32_t>(attrs.all().size()));
  for (const auto& [name, value] : attrs.all()) {
    w.putString(name);
    std::visit(
        [&w](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            w.put<uint8_t>(static_cast<uint8_t>(AttrTag::kInt));
            w.put<int64_t>(v);
          } else if constexpr (std::is_same_v<T, double>) {
            w.put<uint8_t>(static_cast<uint8_t>(AttrTag::kFloat));
            w.put<double>(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            w.put<uint8_t>(static_cast<uint8_t>(AttrTag::kString));
            w.putString(v);
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            w.put<uint8_t>(static_cast<uint8_t>(AttrTag::kInts));
            w.put<uint32_t>(static_cast<uint32_t>(v.size()));
            for (int64_t x : v) w.put<int64_t>(x);
          } else {
            w.put<uint8_t>(static_cast<uint8_t>(AttrTag::kFloats));
            w.put<uint32_t>(static_cast<uint32_t>(v.size()));
            for (double x : v) w.put<double>(x);
          }
        },
        value);
  }
}

void writeOptionalType(ByteWriter& w, const std::optional<DataType>& type) {
  w.put<int32_t>(type ? static_cast<int32_t>(*type) : -1);
}

// Where the weights section puts each constant's bytes and each prepared buffer.
struct WeightOffsets {
  std::vector<uint64_t> values;                 // per value (constants with bytes)
  std::vector<std::vector<uint64_t>> prepared;  // per node, per buffer
};

// Weights go first so the graph and the prepared table can refer to their offsets.
std::vector<std::byte> weightsSection(const EnginePlan& plan, WeightOffsets& offsets) {
  ByteWriter w;
  const ir::Graph& graph = plan.graph;
  offsets.values.assign(graph.values.size(), 0);
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto& value = graph.values[v];
    if (!value.isConstant() || value.absorbed) continue;
    w.align(kSectionAlignment);
    offsets.values[v] = w.size();
    w.putBytes(*value.constant);
  }
  offsets.prepared.assign(plan.prepared.size(), {});
  for (std::size_t n = 0; n < plan.prepared.size(); ++n) {
    for (const auto& buffer : plan.prepared[n]) {
      w.align(kSectionAlignment);
      offsets.prepared[n].push_back(w.size());
      w.putBytes(std::span<const std::byte>(buffer->data(), buffer->size()));
    }
  }
  return std::move(w.bytes());
}

std::vector<std::byte> preparedSection(const EnginePlan& plan, const WeightOffsets& offsets) {
  ByteWriter w;
  w.put<uint32_t>(static_cast<uint32_t>(plan.prepared.size()));
  for (std::size_t n = 0; n < plan.prepared.size(); ++n) {
    w.put<uint32_t>(static_cast<uint32_t>(plan.prepared[n].size()));
    for (std::size_t b = 0; b < plan.prepared[n].size(); ++b) {
      w.put<uint64_t>(offsets.prepared[n][b]);
      w.put<uint64_t>(plan.prepared[n][b]->size());
    }
  }
  return std::move(w.bytes());
}

std::vector<std::byte> graphSection(const ir::Graph& graph, const std::vector<uint64_t>& offsets) {
  ByteWriter w;
  w.putString(graph.name);
  w.put<uint32_t>(static_cast<uint32_t>(graph.values.size()));
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto& value = graph.values[v];
    w.putString(value.name);
    w.put<int32_t>(static_cast<int32_t>(value.dtype));
    writeDims(w, value.dims);
    w.put<int32_t>(value.producer);
    w.put<int32_t>(value.producerOutput);
    const ValueKind kind = !value.isConstant() ? ValueKind::kActivation
                           : value.absorbed    ? ValueKind::kAbsorbed
                                               : ValueKind::kConstant;
    w.put<uint8_t>(static_cast<uint8_t>(kind));
    if (kind == ValueKind::kConstant) {
      w.put<uint64_t>(offsets[v]);
      w.put<uint64_t>(value.constant->size());
    }
  }
  w.put<uint32_t>(static_cast<uint32_t>(graph.nodes.size()));
  for (const auto& node : graph.nodes) {
    w.putString(node.name);
    w.putString(node.op);
    writeAttributes(w, node.attrs);
    w.put<uint32_t>(static_cast<uint32_t>(node.inputs.size()));
    for (ir::ValueId v : node.inputs) w.put<int32_t>(v);
    w.put<uint32_t>(static_cast<uint32_t>(node.outputs.size()));
    for (ir::ValueId v : node.outputs) w.put<int32_t>(v);
    w.put<uint32_t>(static_cast<uint32_t>(node.fusedFrom.size()));
    for (const auto& name : node.fusedFrom) w.putString(name);
    writeOptionalType(w, node.precision);
    // One per output, as the reader takes them (a pass that rewires outputs may leave fewer).
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      writeOptionalType(w, o < node.outputTypes.size() ? node.outputTypes[o] : std::nullopt);
    }
  }
  w.put<uint32_t>(static_cast<uint32_t>(graph.inputs.size()));
  for (ir::ValueId v : graph.inputs) w.put<int32_t>(v);
  w.put<uint32_t>(static_cast<uint32_t>(graph.outputs.size()));
  for (ir::ValueId v : graph.outputs) w.put<int32_t>(v);
  return std::move(w.bytes());
}

std::vector<std::byte> tacticsSection(const EnginePlan& plan) {
  ByteWriter w;
  w.put<uint32_t>(static_cast<uint32_t>(plan.tactics.size()));
  for (const auto& t : plan.tactics) w.putString(t);
  return std::move(w.bytes());
}

std::vector<std::byte> memorySection(const MemoryPlan& memory) {
  ByteWriter w;
  w.put<uint64_t>(memory.arenaBytes);
  w.put<uint64_t>(memory.lowerBoundBytes);
  w.put<uint32_t>(static_cast<uint32_t>(memory.valueOffsets.size()));
  for (int64_t offset : memory.valueOffsets) w.put<int64_t>(offset);
  return std::move(w.bytes());
}

std::vector<std::byte> profilesSection(const std::vector<Profile>& profiles) {
  ByteWriter w;
  w.put<uint32_t>(static_cast<uint32_t>(profiles.size()));
  for (const Profile& profile : profiles) {
    w.put<uint32_t>(static_cast<uint32_t>(profile.inputs.size()));
    for (const InputRange& input : profile.inputs) {
      w.putString(input.name);
      // 0: extents vary; 1: int shape-tensor values; 2: float32 ones, as doubles in the same
      // 8-byte slots (plans without float shape tensors read as before).
      const bool floats = std::any_of(input.floatValues.begin(), input.floatValues.end(),
                                      [](const auto& values) { return !values.empty(); });
      w.put<uint8_t>(!input.shapeTensor ? 0 : floats ? 2 : 1);
      for (const Dims& dims : input.dims) writeDims(w, dims);
      if (floats) {
        for (const auto& values : input.floatValues) {
          w.put<uint32_t>(static_cast<uint32_t>(values.size()));
          for (double v : values) w.put<int64_t>(std::bit_cast<int64_t>(v));
        }
      } else {
        for (const auto& values : input.values) {
          w.put<uint32_t>(static_cast<uint32_t>(values.size()));
          for (int64_t v : values) w.put<int64_t>(v);
        }
      }
    }
    w.put<uint32_t>(static_cast<uint32_t>(profile.tactics.size()));
    for (const auto& t : profile.tactics) w.putString(t);
    w.put<uint64_t>(profile.arenaBytes);
    w.put<uint64_t>(profile.lowerBoundBytes);
    w.put<uint64_t>(profile.workspaceBytes);
  }
  return std::move(w.bytes());
}

}  // namespace

std::vector<std::byte> writePlan(const EnginePlan& plan) {
  WeightOffsets weightOffsets;
  struct Section {
    SectionId id;
    std::vector<std::byte> bytes;
  };
  std::vector<Section> sections;
  std::vector<std::byte> weights = weightsSection(plan, weightOffsets);
  sections.push_back({SectionId::kGraph, graphSection(plan.graph, weightOffsets.values)});
  sections.push_back({SectionId::kTactics, tacticsSection(plan)});
  sections.push_back({SectionId::kMemory, memorySection(plan.memory)});
  sections.push_back({SectionId::kWeights, std::move(weights)});
  if (plan.isDynamic()) sections.push_back({SectionId::kProfiles, profilesSection(plan.profiles)});
  if (!plan.prepared.empty()) {
    sections.push_back({SectionId::kPrepared, preparedSection(plan, weightOffsets)});
  }

  // The header: fixed part, then target, flags and the section table, then its checksum.
  ByteWriter header;
  for (char c : kMagic) header.put<char>(c);
  header.put<uint32_t>(kFormatVersion);
  header.put<uint32_t>(0);  // header length, patched below
  header.put<uint64_t>(0);  // file length, patched below
  header.putString(KILN_VERSION_STRING);
  header.put<int32_t>(static_cast<int32_t>(plan.target.device));
  header.putString(plan.target.deviceName);
  header.put<uint32_t>(static_cast<uint32_t>(plan.target.requiredIsa.size()));
  for (const auto& feature : plan.target.requiredIsa) header.putString(feature);
  header.put<int32_t>(plan.target.computeCapability);
  header.put<uint64_t>(plan.builderFlags);
  header.put<uint32_t>(static_cast<uint32_t>(sections.size()));
  const std::size_t tableStart = header.size();
  for (std::size_t i = 0; i < sections.size(); ++i) {
    header.put<uint32_t>(0);
    header.put<uint32_t>(0);
    header.put<uint64_t>(0);
    header.put<uint64_t>(0);
    header.put<uint64_t>(0);
  }
  const std::size_t headerLength = header.size() + sizeof(uint64_t);  // + checksum

  // Section offsets.
  uint64_t offset = headerLength;
  std::vector<uint64_t> offsets;
  for (const auto& s : sections) {
    offset = (offset + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment;
    offsets.push_back(offset);
    offset += s.bytes.size();
  }
  const uint64_t fileLength = offset;

  auto patch = [&header](std::size_t at, auto value) {
    std::memcpy(header.bytes().data() + at, &value, sizeof(value));
  };
  patch(12, static_cast<uint32_t>(headerLength));
  patch(16, fileLength);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const std::size_t at = tableStart + i * 32;
    patch(at, static_cast<uint32_t>(sections[i].id));
    patch(at + 8, offsets[i]);
    patch(at + 16, static_cast<uint64_t>(sections[i].bytes.size()));
    patch(at + 24, checksum64(sections[i].bytes));
  }
  header.put<uint64_t>(checksum64(header.bytes()));

  std::vector<std::byte> file = std::move(header.bytes());
  for (std::size_t i = 0; i < sections.size(); ++i) {
    file.resize(offsets[i], std::byte{0});
    file.insert(file.end(), sections[i].bytes.begin(), sections[i].bytes.end());
  }
  return file;
}

}  // namespace kiln::plan
