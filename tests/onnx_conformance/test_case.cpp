#include "test_case.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>

#include "onnx.pb.h"

namespace kiln::conformance {
namespace {

constexpr std::string_view kExpandedSuffix = "_expanded";

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool isDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

std::string opLabel(const ::onnx::NodeProto& node) {
  if (isDefaultDomain(node.domain())) return node.op_type();
  return node.op_type() + " (" + node.domain() + ")";
}

::onnx::ModelProto readModel(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ::onnx::ModelProto model;
  if (!file || !model.ParseFromString(bytes)) {
    throw std::runtime_error("cannot read the ONNX model " + path.string());
  }
  return model;
}

// Excluded category of the first excluded node of @p graph or of its subgraphs (Loop and If
// bodies), as "category: Op".
std::string excludedNode(const ::onnx::GraphProto& graph) {
  for (const auto& node : graph.node()) {
    const std::string category = excludedCategory(node.op_type(), node.domain());
    if (!category.empty()) return category + ": " + node.op_type();
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_g()) {
        if (std::string inner = excludedNode(attribute.g()); !inner.empty()) return inner;
      }
      for (const auto& sub : attribute.graphs()) {
        if (std::string inner = excludedNode(sub); !inner.empty()) return inner;
      }
    }
  }
  return {};
}

// Excluded category of a graph input or output that is no plain numeric tensor.
std::string excludedValue(const ::onnx::ValueInfoProto& value, const std::string& role) {
  const auto& type = value.type();
  const std::string what = role + " '" + value.name() + "'";
  if (type.has_sequence_type() || type.has_map_type()) return "sequence: " + what;
  if (type.has_optional_type()) return "optional: " + what;
  if (type.has_tensor_type() && type.tensor_type().elem_type() == ::onnx::TensorProto::STRING) {
    return "string: " + what;
  }
  return {};
}

std::string excludedByModel(const ::onnx::GraphProto& graph) {
  for (const auto& input : graph.input()) {
    if (std::string why = excludedValue(input, "graph input"); !why.empty()) return why;
  }
  for (const auto& output : graph.output()) {
    if (std::string why = excludedValue(output, "graph output"); !why.empty()) return why;
  }
  return excludedNode(graph);
}

// The op a single-op test exercises: its one op once Constant nodes (which feed attributes-
// turned-inputs) are set aside; several ops are joined with '+'.
std::string mainOp(const ::onnx::GraphProto& graph) {
  std::vector<std::string> ops;
  for (const auto& node : graph.node()) {
    const std::string label = opLabel(node);
    if (std::find(ops.begin(), ops.end(), label) == ops.end()) ops.push_back(label);
  }
  if (ops.size() > 1) std::erase(ops, std::string("Constant"));
  std::string text;
  for (const auto& op : ops) text += (text.empty() ? "" : "+") + op;
  return text.empty() ? "(no nodes)" : text;
}

GraphValue graphValue(const ::onnx::ValueInfoProto& info) {
  GraphValue value{info.name(), 0, false};
  if (info.type().has_tensor_type()) {
    const auto& tensor = info.type().tensor_type();
    value.elemType = tensor.elem_type();
    value.staticShape =
        tensor.has_shape() && std::all_of(tensor.shape().dim().begin(), tensor.shape().dim().end(),
                                          [](const auto& d) { return d.has_dim_value(); });
  }
  return value;
}

std::vector<std::filesystem::path> dataSetsOf(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> sets;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory() && startsWith(entry.path().filename().string(), "test_data_set_")) {
      sets.push_back(entry.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

}  // namespace

std::string excludedCategory(const std::string& opType, const std::string& domain) {
  static const std::map<std::string, std::string, std::less<>> kByOp = {
      {"Loop", "control flow"},
      {"If", "control flow"},
      {"Scan", "control flow"},
      {"SplitToSequence", "sequence"},
      {"ConcatFromSequence", "sequence"},
      {"RegexFullMatch", "string"},
      {"Adagrad", "training"},
      {"Adam", "training"},
      {"Momentum", "training"},
      {"Gradient", "training"},
  };
  if (domain == "ai.onnx.preview.training") return "training";
  if (const auto it = kByOp.find(opType); it != kByOp.end()) return it->second;
  if (startsWith(opType, "Sequence")) return "sequence";
  if (startsWith(opType, "String")) return "string";
  if (startsWith(opType, "Optional")) return "optional";
  return {};
}

std::vector<TestCase> discoverTests(const std::filesystem::path& nodeDir) {
  std::vector<TestCase> tests;
  for (const auto& entry : std::filesystem::directory_iterator(nodeDir)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "model.onnx")) {
      TestCase test;
      test.name = entry.path().filename().string();
      test.dir = entry.path();
      tests.push_back(std::move(test));
    }
  }
  std::sort(tests.begin(), tests.end(),
            [](const TestCase& a, const TestCase& b) { return a.name < b.name; });

  for (auto& test : tests) {
    const ::onnx::ModelProto model = readModel(test.dir / "model.onnx");
    const auto& graph = model.graph();
    std::set<std::string> initializers;
    for (const auto& init : graph.initializer()) initializers.insert(init.name());
    for (const auto& input : graph.input()) {
      if (initializers.count(input.name()) == 0) test.inputs.push_back(graphValue(input));
    }
    for (const auto& output : graph.output()) test.outputs.push_back(graphValue(output));
    test.dataSets = dataSetsOf(test.dir);
    test.op = mainOp(graph);
    test.excluded = excludedByModel(graph);
  }

  // An expanded test checks the function body of its twin's op: count it under that op, and
  // leave it out whenever its twin is left out.
  for (auto& test : tests) {
    const auto at = test.name.rfind(kExpandedSuffix);
    if (at == std::string::npos) continue;
    const std::string twin = test.name.substr(0, at);
    const auto it =
        std::find_if(tests.begin(), tests.end(), [&](const TestCase& t) { return t.name == twin; });
    if (it == tests.end()) continue;
    test.op = it->op;
    if (test.excluded.empty()) test.excluded = it->excluded;
  }
  return tests;
}

}  // namespace kiln::conformance
