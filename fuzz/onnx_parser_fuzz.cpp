// OnnxParser::parse on arbitrary bytes, then a build. A model that builds must load back from its
// own plan (anything else is a builder/reader disagreement, reported as a crash) and is run once
// on zeroed inputs. The model comes from memory, so external data is refused without a read.
//
// Almost every blind mutation of protobuf bytes gives a message that no longer parses, or one
// whose change lands in a name or a float of no consequence. So most of the time a custom mutator
// parses the ModelProto, changes what the importers act on (an op type, a tensor name, an
// attribute, a tensor's dims, type or data, a shape, the opset, the node list) and serializes it
// back; now and then it mutates the bytes blindly, for the protobuf reader.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "kiln/parsers/onnx.h"
#include "onnx.pb.h"
#include "parsers/onnx/node_import.h"

extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t maxSize);

namespace {

using Rng = std::minstd_rand;

constexpr std::array<int64_t, 24> kInterestingInts = {0,
                                                      1,
                                                      -1,
                                                      2,
                                                      3,
                                                      -2,
                                                      4,
                                                      7,
                                                      8,
                                                      16,
                                                      255,
                                                      256,
                                                      65535,
                                                      int64_t{1} << 31,
                                                      -(int64_t{1} << 31),
                                                      (int64_t{1} << 31) - 1,
                                                      int64_t{1} << 32,
                                                      int64_t{1} << 40,
                                                      int64_t{1} << 62,
                                                      std::numeric_limits<int64_t>::max(),
                                                      std::numeric_limits<int64_t>::min(),
                                                      5,
                                                      -3,
                                                      64};

constexpr std::array<float, 12> kInterestingFloats = {0.0f,
                                                      1.0f,
                                                      -1.0f,
                                                      0.5f,
                                                      2.0f,
                                                      1e-30f,
                                                      1e30f,
                                                      -1e30f,
                                                      3.0f,
                                                      std::numeric_limits<float>::infinity(),
                                                      -std::numeric_limits<float>::infinity(),
                                                      std::numeric_limits<float>::quiet_NaN()};

// Attribute names the importers read, so an added attribute is one that matters.
constexpr std::array<const char*, 36> kAttributeNames = {"axis",
                                                         "axes",
                                                         "perm",
                                                         "kernel_shape",
                                                         "pads",
                                                         "strides",
                                                         "dilations",
                                                         "group",
                                                         "keepdims",
                                                         "alpha",
                                                         "beta",
                                                         "gamma",
                                                         "transA",
                                                         "transB",
                                                         "to",
                                                         "mode",
                                                         "auto_pad",
                                                         "epsilon",
                                                         "ceil_mode",
                                                         "split",
                                                         "value",
                                                         "blocksize",
                                                         "largest",
                                                         "sorted",
                                                         "allowzero",
                                                         "momentum",
                                                         "output_padding",
                                                         "output_shape",
                                                         "count_include_pad",
                                                         "select_last_index",
                                                         "noop_with_empty_axes",
                                                         "storage_order",
                                                         "min",
                                                         "max",
                                                         "lambd",
                                                         "bias"};

constexpr std::array<const char*, 14> kAttributeStrings = {
    "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge",
    "linear", "nearest",    "cubic",      "DCR",   "CRD",      "tanh",    ""};

// Protobuf element types, the valid ones and a few that are not.
constexpr std::array<int32_t, 20> kDataTypes = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                                                10, 11, 12, 13, 14, 15, 16, 17, 99, -1};

template <typename T, std::size_t N>
T pick(Rng& rng, const std::array<T, N>& values) {
  return values[rng() % N];
}

int64_t interestingInt(Rng& rng) {
  if (rng() % 4 == 0) return static_cast<int64_t>(rng() % 21) - 10;
  return pick(rng, kInterestingInts);
}

// Every tensor name the graph mentions: what a node input or output can be renamed to.
std::vector<std::string> tensorNames(const onnx::GraphProto& graph) {
  std::vector<std::string> names = {""};
  for (const auto& v : graph.input()) names.push_back(v.name());
  for (const auto& v : graph.output()) names.push_back(v.name());
  for (const auto& t : graph.initializer()) names.push_back(t.name());
  for (const auto& n : graph.node()) {
    for (const auto& o : n.output()) names.push_back(o);
  }
  names.push_back("no_such_tensor");
  return names;
}

void mutateTensor(onnx::TensorProto& t, Rng& rng) {
  switch (rng() % 7) {
    case 0:  // one extent
      if (t.dims_size() > 0) {
        t.set_dims(static_cast<int>(rng() % t.dims_size()), interestingInt(rng));
        break;
      }
      [[fallthrough]];
    case 1:  // rank
      if (t.dims_size() > 0 && rng() % 2 == 0) {
        t.mutable_dims()->RemoveLast();
      } else {
        t.add_dims(rng() % 2 == 0 ? 1 : interestingInt(rng));
      }
      break;
    case 2:
      t.set_data_type(pick(rng, kDataTypes));
      break;
    case 3: {  // raw_data of another length
      std::string raw = t.raw_data();
      const std::size_t length = rng() % 2 == 0 ? raw.size() / 2 : raw.size() + rng() % 16;
      raw.resize(length, '\x01');
      t.set_raw_data(raw);
      break;
    }
    case 4:  // one element of the typed fields
      if (t.int64_data_size() > 0) {
        t.set_int64_data(static_cast<int>(rng() % t.int64_data_size()), interestingInt(rng));
      } else if (t.float_data_size() > 0) {
        t.set_float_data(static_cast<int>(rng() % t.float_data_size()),
                         pick(rng, kInterestingFloats));
      } else if (t.int32_data_size() > 0) {
        t.set_int32_data(static_cast<int>(rng() % t.int32_data_size()),
                         static_cast<int32_t>(interestingInt(rng)));
      } else if (!t.raw_data().empty()) {
        std::string raw = t.raw_data();
        const int64_t v = interestingInt(rng);
        const std::size_t at = rng() % raw.size();
        std::memcpy(raw.data() + at, &v, std::min(sizeof(v), raw.size() - at));
        t.set_raw_data(raw);
      }
      break;
    case 5:  // external data, which a model from memory cannot have
      t.set_data_location(onnx::TensorProto::EXTERNAL);
      if (rng() % 2 == 0) {
        auto* entry = t.add_external_data();
        entry->set_key("location");
        entry->set_value(rng() % 2 == 0 ? "../w.bin" : "w.bin");
      }
      break;
    default:  // the values move between raw_data and the typed fields
      if (!t.raw_data().empty()) {
        t.clear_raw_data();
      } else {
        t.set_raw_data(std::string(static_cast<std::size_t>(rng() % 64), '\x02'));
      }
      break;
  }
}

void mutateAttribute(onnx::AttributeProto& a, Rng& rng) {
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      a.set_i(interestingInt(rng));
      break;
    case onnx::AttributeProto::FLOAT:
      a.set_f(pick(rng, kInterestingFloats));
      break;
    case onnx::AttributeProto::STRING:
      a.set_s(pick(rng, kAttributeStrings));
      break;
    case onnx::AttributeProto::INTS:
      if (a.ints_size() > 0 && rng() % 3 != 0) {
        a.set_ints(static_cast<int>(rng() % a.ints_size()), interestingInt(rng));
      } else if (a.ints_size() > 0 && rng() % 2 == 0) {
        a.mutable_ints()->RemoveLast();
      } else {
        a.add_ints(interestingInt(rng));
      }
      break;
    case onnx::AttributeProto::FLOATS:
      if (a.floats_size() > 0 && rng() % 2 == 0) {
        a.set_floats(static_cast<int>(rng() % a.floats_size()), pick(rng, kInterestingFloats));
      } else {
        a.add_floats(pick(rng, kInterestingFloats));
      }
      break;
    case onnx::AttributeProto::TENSOR:
      mutateTensor(*a.mutable_t(), rng);
      break;
    default:
      break;
  }
  if (rng() % 16 == 0) {  // a type that disagrees with the field set
    a.set_type(static_cast<onnx::AttributeProto::AttributeType>(rng() % 14));
  }
}

void addAttribute(onnx::NodeProto& node, Rng& rng) {
  auto* a = node.add_attribute();
  a->set_name(pick(rng, kAttributeNames));
  switch (rng() % 4) {
    case 0:
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(interestingInt(rng));
      break;
    case 1:
      a->set_type(onnx::AttributeProto::INTS);
      for (unsigned k = rng() % 5; k > 0; --k) a->add_ints(interestingInt(rng));
      break;
    case 2:
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(pick(rng, kInterestingFloats));
      break;
    default:
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(pick(rng, kAttributeStrings));
      break;
  }
}

void mutateShape(onnx::ValueInfoProto& info, Rng& rng) {
  auto* tensor = info.mutable_type()->mutable_tensor_type();
  switch (rng() % 4) {
    case 0:
      tensor->set_elem_type(pick(rng, kDataTypes));
      break;
    case 1:
      tensor->clear_shape();
      break;
    case 2:
      tensor->mutable_shape()->add_dim()->set_dim_value(rng() % 2 == 0 ? 1 : interestingInt(rng));
      break;
    default: {
      auto* shape = tensor->mutable_shape();
      if (shape->dim_size() == 0) break;
      auto* dim = shape->mutable_dim(static_cast<int>(rng() % shape->dim_size()));
      if (rng() % 4 == 0) {
        dim->set_dim_param("N");
      } else {
        dim->set_dim_value(interestingInt(rng));
      }
      break;
    }
  }
}

// Blind byte mutations of one node: reach fields the structured mutations do not know of.
void mutateNodeBytes(onnx::NodeProto& node, std::size_t room) {
  std::string bytes = node.SerializeAsString();
  const std::size_t size = bytes.size();
  bytes.resize(size + std::min<std::size_t>(room, 64) + 1);
  bytes.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(bytes.data()), size, bytes.size()));
  onnx::NodeProto mutated;
  if (mutated.ParseFromString(bytes)) node = std::move(mutated);
}

void mutateGraph(onnx::ModelProto& model, Rng& rng, std::size_t room) {
  onnx::GraphProto& graph = *model.mutable_graph();
  const int nodes = graph.node_size();
  const int nodeIndex = nodes > 0 ? static_cast<int>(rng() % static_cast<unsigned>(nodes)) : -1;
  onnx::NodeProto* node = nodes > 0 ? graph.mutable_node(nodeIndex) : nullptr;
  switch (rng() % 12) {
    case 0:
      if (node) {
        const auto all = kiln::parsers::onnx_import::importers();
        node->set_op_type(std::string(all[rng() % all.size()].opType));
      }
      break;
    case 1:
      if (node && node->input_size() + node->output_size() > 0) {
        const std::vector<std::string> names = tensorNames(graph);
        const std::string& name = names[rng() % names.size()];
        const int slot = static_cast<int>(rng() % (node->input_size() + node->output_size()));
        if (slot < node->input_size()) {
          node->set_input(slot, name);
        } else {
          node->set_output(slot - node->input_size(), name);
        }
      }
      break;
    case 2:
      if (node && node->attribute_size() > 0) {
        mutateAttribute(*node->mutable_attribute(static_cast<int>(rng() % node->attribute_size())),
                        rng);
      } else if (node) {
        addAttribute(*node, rng);
      }
      break;
    case 3:
      if (node) addAttribute(*node, rng);
      break;
    case 4:
      if (graph.initializer_size() > 0) {
        mutateTensor(*graph.mutable_initializer(static_cast<int>(rng() % graph.initializer_size())),
                     rng);
      }
      break;
    case 5: {
      const int io = graph.input_size() + graph.output_size();
      if (io == 0) break;
      const int k = static_cast<int>(rng() % io);
      mutateShape(k < graph.input_size() ? *graph.mutable_input(k)
                                         : *graph.mutable_output(k - graph.input_size()),
                  rng);
      break;
    }
    case 6:
      if (model.opset_import_size() > 0) {
        auto* opset = model.mutable_opset_import(0);
        if (rng() % 4 == 0) {
          opset->set_domain(rng() % 2 == 0 ? "com.microsoft" : "ai.onnx");
        } else {
          constexpr std::array<int64_t, 10> kOpsets = {0, 1, 6, 7, 11, 13, 17, 21, 22, 1000};
          opset->set_version(rng() % 8 == 0 ? interestingInt(rng) : pick(rng, kOpsets));
        }
      }
      break;
    case 7:  // a node less, twice, or in another place
      if (nodes > 1 && rng() % 2 == 0) {
        graph.mutable_node()->SwapElements(static_cast<int>(rng() % nodes),
                                           static_cast<int>(rng() % nodes));
      } else if (node && rng() % 2 == 0) {
        *graph.add_node() = *node;
      } else if (node) {
        graph.mutable_node()->DeleteSubrange(nodeIndex, 1);
      }
      break;
    case 8:  // a graph output that is some other tensor, or one less
      if (graph.output_size() > 0 && rng() % 2 == 0) {
        graph.mutable_output()->RemoveLast();
      } else {
        const std::vector<std::string> names = tensorNames(graph);
        auto* out = graph.add_output();
        out->set_name(names[rng() % names.size()]);
        out->mutable_type()->mutable_tensor_type()->set_elem_type(1);
      }
      break;
    case 9:  // an initializer or a graph input less
      if (graph.initializer_size() > 0 && rng() % 2 == 0) {
        graph.mutable_initializer()->SwapElements(
            static_cast<int>(rng() % graph.initializer_size()), graph.initializer_size() - 1);
        graph.mutable_initializer()->RemoveLast();
      } else if (graph.input_size() > 0) {
        graph.mutable_input()->RemoveLast();
      }
      break;
    case 10:  // a constant input where a tensor was (shapes, axes and weights come from these)
      if (node) {
        auto* t = graph.add_initializer();
        t->set_name("fuzz_c" + std::to_string(graph.initializer_size()));
        t->set_data_type(rng() % 2 == 0 ? 7 : 1);
        const unsigned count = rng() % 5;
        t->add_dims(count);
        for (unsigned k = 0; k < count; ++k) {
          if (t->data_type() == 7) {
            t->add_int64_data(interestingInt(rng));
          } else {
            t->add_float_data(pick(rng, kInterestingFloats));
          }
        }
        if (node->input_size() > 0 && rng() % 2 == 0) {
          node->set_input(static_cast<int>(rng() % node->input_size()), t->name());
        } else {
          node->add_input(t->name());
        }
      }
      break;
    default:
      if (node) mutateNodeBytes(*node, room);
      break;
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(uint8_t* data, std::size_t size, std::size_t maxSize,
                                               unsigned int seed) {
  onnx::ModelProto model;
  if (seed % 8 == 0 || !model.ParseFromArray(data, static_cast<int>(size))) {
    return LLVMFuzzerMutate(data, size, maxSize);
  }
  Rng rng(seed);
  const std::size_t room = maxSize > size ? maxSize - size : 0;
  for (unsigned k = 1 + rng() % 3; k > 0; --k) mutateGraph(model, rng, room);
  std::string out;
  if (!model.SerializeToString(&out) || out.size() > maxSize) {
    return LLVMFuzzerMutate(data, size, maxSize);
  }
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace kiln;
  fuzz::FuzzLogger logger;
  Builder builder(logger);
  std::unique_ptr<NetworkDefinition> network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  // Constants past 1 MiB are refused, so a small model cannot make the parser hold a large one.
  parser.setModelLimits(fuzz::fuzzLimits());
  if (!parser.parse(fuzz::asBytes(data, size))) return 0;
  std::unique_ptr<BuilderConfig> config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  config->setNbThreads(1);
  const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) return 0;

  // The parser's limits bound constants, not activations: a model may legitimately ask for
  // tensors above any cap, so the runtime loads it uncapped; only a plan refused for anything
  // else is a disagreement. runOnce bounds what actually gets allocated.
  Runtime runtime(logger);
  runtime.setNbThreads(1);
  ModelLimits unlimited;
  unlimited.maxModelBytes = std::numeric_limits<uint64_t>::max();
  unlimited.maxTensorBytes = std::numeric_limits<uint64_t>::max();
  unlimited.maxLayers = std::numeric_limits<int64_t>::max();
  runtime.setModelLimits(unlimited);
  std::unique_ptr<Engine> engine = runtime.deserialize(plan);
  if (!engine) {
    std::fprintf(stderr, "a plan the builder wrote does not load\n");
    std::abort();
  }
  fuzz::runOnce(*engine);
  return 0;
}
