#include "fuzz/onnx_seeds.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/parsers/onnx.h"
#include "onnx.pb.h"

namespace kiln::fuzz {

namespace {

namespace fs = std::filesystem;

using Ints = std::vector<int64_t>;
using Names = std::vector<std::string>;

class QuietLogger final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override {
    if (severity <= Severity::kERROR) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
    }
  }
};

// A ModelProto written one piece at a time; tensors alternate between the typed fields and
// raw_data so that the seeds cover both decoders.
class Model {
 public:
  explicit Model(int64_t opset = 17) {
    proto_.set_ir_version(8);
    proto_.set_producer_name("kiln fuzz seeds");
    auto* entry = proto_.add_opset_import();
    entry->set_domain("");
    entry->set_version(opset);
    graph().set_name("seed");
  }

  onnx::GraphProto& graph() { return *proto_.mutable_graph(); }

  Model& input(const std::string& name, const Ints& dims, int32_t type = 1) {
    auto* info = graph().add_input();
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    for (int64_t d : dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
    return *this;
  }
  Model& output(const std::string& name, int32_t type = 1) {
    auto* info = graph().add_output();
    info->set_name(name);
    info->mutable_type()->mutable_tensor_type()->set_elem_type(type);
    return *this;
  }

  // Floats 0.1, -0.2, 0.3, ... of @p dims, in raw_data or float_data.
  Model& floats(const std::string& name, const Ints& dims, bool raw) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    int64_t count = 1;
    for (int64_t d : dims) {
      t.add_dims(d);
      count *= d;
    }
    std::vector<float> values;
    for (int64_t k = 0; k < count; ++k) values.push_back((k % 2 ? -0.1f : 0.1f) * (k % 7 + 1));
    if (raw) {
      t.set_raw_data(values.data(), values.size() * sizeof(float));
    } else {
      for (float v : values) t.add_float_data(v);
    }
    return *this;
  }
  Model& ints(const std::string& name, const Ints& values, bool raw = false) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(static_cast<int64_t>(values.size()));
    if (raw) {
      t.set_raw_data(values.data(), values.size() * sizeof(int64_t));
    } else {
      for (int64_t v : values) t.add_int64_data(v);
    }
    return *this;
  }

  onnx::NodeProto& node(const std::string& op, const Names& inputs, const Names& outputs) {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(outputs.empty() ? op : outputs[0]);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  std::string bytes() const { return proto_.SerializeAsString(); }

 private:
  onnx::ModelProto proto_;
};

void attr(onnx::NodeProto& n, const std::string& name, int64_t value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}
void attr(onnx::NodeProto& n, const std::string& name, const Ints& values) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
void attrFloat(onnx::NodeProto& n, const std::string& name, float value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}
void attrString(onnx::NodeProto& n, const std::string& name, const std::string& value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}
onnx::TensorProto& attrTensor(onnx::NodeProto& n, const std::string& name) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  return *a->mutable_t();
}

std::string convPool() {
  Model m;
  m.input("x", {1, 2, 5, 5}).output("y");
  m.floats("w", {3, 2, 3, 3}, true).floats("b", {3}, false).floats("fc", {4, 12}, true);
  auto& conv = m.node("Conv", {"x", "w", "b"}, {"conv"});
  attr(conv, "pads", Ints{1, 1, 1, 1});
  attr(conv, "kernel_shape", Ints{3, 3});
  m.node("Relu", {"conv"}, {"relu"});
  auto& pool = m.node("MaxPool", {"relu"}, {"pool"});
  attr(pool, "kernel_shape", Ints{2, 2});
  attr(pool, "strides", Ints{2, 2});
  m.node("Flatten", {"pool"}, {"flat"});
  auto& gemm = m.node("Gemm", {"flat", "fc"}, {"gemm"});
  attr(gemm, "transB", 1);
  attrFloat(gemm, "alpha", 0.5f);
  auto& softmax = m.node("Softmax", {"gemm"}, {"y"});
  attr(softmax, "axis", 1);
  return m.bytes();
}

std::string shapeArithmetic() {
  Model m;
  m.input("x", {2, 3, 4}).output("y");
  m.ints("zero", {0}).ints("minus_one", {-1}, true).ints("axes0", {0});
  m.node("Shape", {"x"}, {"shape"});
  auto& gather = m.node("Gather", {"shape", "zero"}, {"first"});
  attr(gather, "axis", 0);
  attr(m.node("Concat", {"first", "minus_one"}, {"target"}), "axis", int64_t{0});
  m.node("Reshape", {"x", "target"}, {"flat"});
  auto& transpose = m.node("Transpose", {"flat"}, {"t"});
  attr(transpose, "perm", Ints{1, 0});
  m.node("Unsqueeze", {"t", "axes0"}, {"u"});
  m.node("Squeeze", {"u", "axes0"}, {"y"});
  return m.bytes();
}

std::string elementwise() {
  Model m;
  m.input("a", {2, 3}).input("b", {3}).output("y").output("mask", onnx::TensorProto::BOOL);
  m.floats("c", {1, 3}, false);
  m.node("Add", {"a", "b"}, {"sum"});
  m.node("Mul", {"sum", "c"}, {"prod"});
  m.node("Sub", {"prod", "a"}, {"diff"});
  m.node("Max", {"diff", "a", "b"}, {"max"});
  m.node("Greater", {"max", "c"}, {"mask"});
  m.node("Where", {"mask", "max", "a"}, {"sel"});
  m.node("Abs", {"sel"}, {"abs"});
  m.node("Sqrt", {"abs"}, {"sqrt"});
  m.node("Clip", {"sqrt"}, {"clip"});
  auto& leaky = m.node("LeakyRelu", {"clip"}, {"leaky"});
  attrFloat(leaky, "alpha", 0.2f);
  m.node("Sigmoid", {"leaky"}, {"y"});
  return m.bytes();
}

std::string reduceMatmul() {
  Model m;
  m.input("x", {2, 3, 4}).output("y").output("idx", onnx::TensorProto::INT64);
  m.floats("w", {4, 2}, true).ints("axes", {1});
  auto& mean = m.node("ReduceMean", {"x"}, {"mean"});
  attr(mean, "axes", Ints{2});
  attr(mean, "keepdims", 1);
  auto& sum = m.node("ReduceSum", {"x", "axes"}, {"sum"});
  attr(sum, "keepdims", 0);
  m.node("MatMul", {"x", "w"}, {"mm"});
  auto& argmax = m.node("ArgMax", {"mm"}, {"idx"});
  attr(argmax, "axis", -1);
  m.node("Sub", {"x", "mean"}, {"centered"});
  auto& max = m.node("ReduceMax", {"centered"}, {"y"});
  attr(max, "axes", Ints{0, 2});
  (void)sum;
  return m.bytes();
}

std::string normalization() {
  Model m;
  m.input("x", {1, 2, 3, 3}).output("y");
  m.floats("scale", {2}, false).floats("bias", {2}, true).floats("mean", {2}, false);
  {
    onnx::TensorProto& var = *m.graph().add_initializer();  // positive variances, as doubles
    var.set_name("var");
    var.set_data_type(onnx::TensorProto::DOUBLE);
    var.add_dims(2);
    var.add_double_data(0.5);
    var.add_double_data(2.0);
  }
  m.floats("ln_scale", {3}, false).floats("ln_bias", {3}, true);
  auto& bn = m.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"bn"});
  attrFloat(bn, "epsilon", 1e-5f);
  m.node("InstanceNormalization", {"bn", "scale", "bias"}, {"in"});
  auto& ln = m.node("LayerNormalization", {"in", "ln_scale", "ln_bias"}, {"ln"});
  attr(ln, "axis", -1);
  auto& lrn = m.node("LRN", {"ln"}, {"y"});
  attr(lrn, "size", 3);
  return m.bytes();
}

std::string tensorOps() {
  Model m;
  m.input("x", {2, 4}).output("y");
  m.ints("starts", {0, 1}).ints("ends", {2, 4}, true).ints("axes", {0, 1}).ints("steps", {1, 2});
  m.ints("pads", {0, 1, 0, 1}).ints("split", {1, 1}).ints("reps", {1, 2});
  m.ints("expand", {3, 2, 1}, true).ints("gidx", {1, 0});
  m.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
  auto& split = m.node("Split", {"s", "split"}, {"s0", "s1"});
  attr(split, "axis", 0);
  auto& concat = m.node("Concat", {"s1", "s0"}, {"c"});
  attr(concat, "axis", 1);
  auto& pad = m.node("Pad", {"c", "pads"}, {"p"});
  attrString(pad, "mode", "reflect");
  m.node("Tile", {"p", "reps"}, {"tiled"});
  auto& gather = m.node("Gather", {"tiled", "gidx"}, {"g"});
  attr(gather, "axis", 1);
  m.node("Expand", {"g", "expand"}, {"e"});
  m.node("Identity", {"e"}, {"y"});
  return m.bytes();
}

std::string constants() {
  Model m(13);
  m.input("x", {2, 3}).output("y").output("r", onnx::TensorProto::INT64);
  {
    onnx::TensorProto& half = *m.graph().add_initializer();  // float16 in raw_data
    half.set_name("half");
    half.set_data_type(onnx::TensorProto::FLOAT16);
    half.add_dims(3);
    const uint16_t bits[] = {0x3c00, 0xc000, 0x3800};  // 1, -2, 0.5
    half.set_raw_data(bits, sizeof(bits));
    onnx::TensorProto& small = *m.graph().add_initializer();  // int32 in int32_data
    small.set_name("small");
    small.set_data_type(onnx::TensorProto::INT32);
    small.add_dims(3);
    for (int32_t v : {3, -1, 2}) small.add_int32_data(v);
  }
  auto& value = m.node("Constant", {}, {"k"});
  onnx::TensorProto& k = attrTensor(value, "value");
  k.set_data_type(onnx::TensorProto::FLOAT);
  k.add_dims(1);
  k.add_dims(3);
  for (float v : {1.5f, -0.5f, 2.0f}) k.add_float_data(v);
  m.node("Shape", {"x"}, {"shape"});
  auto& fill = m.node("ConstantOfShape", {"shape"}, {"filled"});
  onnx::TensorProto& one = attrTensor(fill, "value");
  one.set_data_type(onnx::TensorProto::FLOAT);
  one.add_dims(1);
  one.add_float_data(0.25f);
  auto& cast = m.node("Cast", {"small"}, {"small_f"});
  attr(cast, "to", int64_t{1});
  m.node("Add", {"x", "k"}, {"a"});
  m.node("Mul", {"a", "half"}, {"b"});
  m.node("Sub", {"b", "small_f"}, {"c"});
  m.node("Add", {"c", "filled"}, {"y"});
  m.ints("start", {0}).ints("limit", {7}, true).ints("delta", {2});
  m.node("Range", {"start", "limit", "delta"}, {"r"});
  return m.bytes();
}

bool check(const std::string& name, const std::string& bytes) {
  QuietLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  if (!parser.parse({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()})) {
    std::fprintf(stderr, "make_seeds: ONNX seed %s does not parse\n", name.c_str());
    return false;
  }
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  if (builder.buildSerializedNetwork(*network, *config).empty()) {
    std::fprintf(stderr, "make_seeds: ONNX seed %s does not build\n", name.c_str());
    return false;
  }
  return true;
}

}  // namespace

bool writeOnnxSeeds(const fs::path& out) {
  fs::create_directories(out);
  const std::pair<const char*, std::string> models[] = {
      {"conv_pool", convPool()},          {"shape_arithmetic", shapeArithmetic()},
      {"elementwise", elementwise()},     {"reduce_matmul", reduceMatmul()},
      {"normalization", normalization()}, {"tensor_ops", tensorOps()},
      {"constants", constants()},
  };
  bool ok = true;
  for (const auto& [name, bytes] : models) {
    ok = check(name, bytes) && ok;
    std::ofstream file(out / (std::string(name) + ".onnx"), std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  return ok;
}

void copyNodeTestSeeds(const fs::path& nodeTests, const fs::path& out, std::size_t count) {
  std::error_code ec;
  std::vector<std::pair<std::uintmax_t, fs::path>> models;
  for (const auto& entry : fs::directory_iterator(nodeTests, ec)) {
    const fs::path model = entry.path() / "model.onnx";
    const auto size = fs::file_size(model, ec);
    if (!ec) models.emplace_back(size, model);
  }
  // By size, then name, so that the choice does not depend on the directory order.
  std::sort(models.begin(), models.end());
  models.resize(std::min(models.size(), count));
  fs::create_directories(out);
  for (const auto& [size, model] : models) {
    fs::copy_file(model, out / ("node_" + model.parent_path().filename().string() + ".onnx"),
                  fs::copy_options::overwrite_existing, ec);
  }
}

}  // namespace kiln::fuzz
