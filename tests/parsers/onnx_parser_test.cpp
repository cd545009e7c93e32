// The ONNX parser as a whole: model loading, inputs and outputs, initializers, external data,
// shape folding, and the errors for models that are malformed or use unsupported ops.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using onnx_test::asBytes;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::parserErrors;
using onnx_test::runModel;
using parsers::OnnxParser;

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("kiln_onnx_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_ / "model");
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const fs::path& relative, const std::string& bytes) const {
    const fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

 private:
  fs::path path_;
};

// y = x + b with b [4] (float32).
ModelBuilder addBiasModel() {
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("y");
  m.floats("b", {4}, {1, 2, 3, 4});
  m.node("Add", {"x", "b"}, {"y"}, "add");
  return m;
}

TEST(OnnxParser, ParsesAndRunsASimpleModel) {
  const auto out = runModel(
      addBiasModel(), {HostTensor::fromFloats({2, 4}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 3, 5, 7, 5, 7, 9, 11}));
}

TEST(OnnxParser, KeepsInputAndOutputNames) {
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = addBiasModel().bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  EXPECT_EQ(parser.modelOpset(), 13);
  ASSERT_EQ(f.net().nbInputs(), 1);
  EXPECT_EQ(f.net().input(0).name(), "x");
  ASSERT_EQ(f.net().nbOutputs(), 1);
  EXPECT_EQ(f.net().output(0).name(), "y");
  EXPECT_EQ(f.net().layer(f.net().nbLayers() - 1).name(), "add");
}

TEST(OnnxParser, MalformedBytesGiveOneClearError) {
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string garbage = "\x08\x07\x12\xff\xff\xff\x0f not a model";
  EXPECT_FALSE(parser.parse(asBytes(garbage)));
  ASSERT_EQ(parser.nbErrors(), 1);
  EXPECT_EQ(parser.errorCode(0), ErrorCode::kINVALID_MODEL);
  EXPECT_NE(parser.error(0).find("not a valid ONNX model"), std::string::npos) << parser.error(0);

  TempDir dir;
  const fs::path file = dir.write("model/broken.onnx", garbage);
  parser.clearErrors();
  EXPECT_EQ(parser.nbErrors(), 0);
  EXPECT_FALSE(parser.parseFromFile(file));
  ASSERT_EQ(parser.nbErrors(), 1);
  EXPECT_NE(parser.error(0).find(file.string()), std::string::npos) << parser.error(0);
  EXPECT_EQ(parser.error(1), "");
  EXPECT_EQ(parser.errorCode(-1), ErrorCode::kSUCCESS);
}

TEST(OnnxParser, MissingFileAndEmptyModelAreErrors) {
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  EXPECT_FALSE(parser.parseFromFile("/nonexistent/model.onnx"));
  ASSERT_EQ(parser.nbErrors(), 1);
  EXPECT_NE(parser.error(0).find("/nonexistent/model.onnx"), std::string::npos);
  EXPECT_FALSE(parser.parse({}));
  EXPECT_NE(parserErrors(parser).find("empty"), std::string::npos);
}

TEST(OnnxParser, ThreeUnsupportedNodesAreReportedInOneError) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("y");
  m.node("Relu", {"x"}, {"a"}, "relu");
  m.node("FancyOp", {"a"}, {"b"}, "fancy");
  m.node("STFT", {"b"}, {"c"}, "stft");
  auto& custom = m.node("Thing", {"c"}, {"d"}, "custom");
  custom.set_domain("com.example");
  m.node("Relu", {"d"}, {"y"}, "relu2");
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  EXPECT_FALSE(parser.parse(asBytes(bytes)));
  ASSERT_EQ(parser.nbErrors(), 1) << parserErrors(parser);
  EXPECT_EQ(parser.errorCode(0), ErrorCode::kUNSUPPORTED_NODE);
  const std::string error = parser.error(0);
  EXPECT_NE(error.find("3 unsupported nodes"), std::string::npos) << error;
  EXPECT_NE(error.find("node 'fancy' (FancyOp, opset 13)"), std::string::npos) << error;
  EXPECT_NE(error.find("node 'stft' (STFT, opset 13): no kiln layer yet"), std::string::npos)
      << error;
  EXPECT_NE(error.find("node 'custom' (Thing, domain 'com.example')"), std::string::npos) << error;
  EXPECT_EQ(error.find("relu"), std::string::npos) << error;
}

TEST(OnnxParser, UnsupportedSettingsJoinTheSameReport) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 6, 6}).output("y").output("z");
  auto& pool = m.node("AveragePool", {"x"}, {"p"}, "dilated_pool");
  attrInts(pool, "kernel_shape", {2, 2});
  attrInts(pool, "dilations", {2, 2});
  m.node("Relu", {"p"}, {"y"}, "after");
  m.node("Bernoulli", {"x"}, {"z"}, "bernoulli");
  const std::string errors =
      expectParseError(m, {"2 unsupported nodes",
                           "node 'dilated_pool' (AveragePool, opset 13): dilated average pooling",
                           "node 'bernoulli' (Bernoulli, opset 13)"});
  EXPECT_EQ(errors.find("after"), std::string::npos) << errors;
}

TEST(OnnxParser, MissingInitializerNamesNodeAndTensor) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 4, 4}).output("y");
  m.node("Conv", {"x", "conv.weight"}, {"y"}, "conv1");
  expectParseError(m, {"node 'conv1' (Conv, opset 13)", "'conv.weight'",
                       "no node, graph input or initializer defines"});
}

TEST(OnnxParser, DanglingOutputAndDuplicateWritersAreErrors) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y").output("ghost");
  m.node("Relu", {"x"}, {"y"}, "first");
  m.node("Neg", {"x"}, {"y"}, "second");
  expectParseError(m, {"node 'second' (Neg, opset 13) writes tensor 'y'", "node 'first'",
                       "graph output 'ghost'"});
}

TEST(OnnxParser, CyclesAreErrors) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y");
  m.node("Add", {"x", "b"}, {"a"}, "one");
  m.node("Relu", {"a"}, {"b"}, "two");
  m.node("Relu", {"a"}, {"y"}, "three");
  expectParseError(m, {"cycle", "node 'one'", "node 'two'"});
}

TEST(OnnxParser, NodesOutOfOrderAreSorted) {
  ModelBuilder m(13);
  m.input("x", {3}).output("y");
  m.node("Neg", {"a"}, {"y"}, "second");
  m.node("Relu", {"x"}, {"a"}, "first");
  const auto out = runModel(m, {HostTensor::fromFloats({3}, std::vector<float>{-1, 0, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 0, -2}));
}

TEST(OnnxParser, Int64ValuesOutsideInt32AreRefusedNamingTheTensor) {
  ModelBuilder m(13);
  m.input("x", {2}, ::onnx::TensorProto::INT64).output("y", ::onnx::TensorProto::INT64);
  m.ints("big", {2}, {1, int64_t{1} << 40});
  m.node("Add", {"x", "big"}, {"y"}, "add");
  expectParseError(
      m, {"node 'add' (Add, opset 13)", "tensor 'big'", "1099511627776", "does not fit the int32"});
}

TEST(OnnxParser, Int64SentinelsInShapeArgumentsAreFine) {
  ModelBuilder m(13);
  m.input("x", {2, 5}).output("y");
  m.vector("starts", {1});
  m.vector("ends", {std::numeric_limits<int64_t>::max()});
  m.vector("axes", {1});
  m.node("Slice", {"x", "starts", "ends", "axes"}, {"y"});
  std::vector<float> x(10);
  for (int i = 0; i < 10; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i);
  const auto out = runModel(m, {HostTensor::fromFloats({2, 5}, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 4}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 3, 4, 6, 7, 8, 9}));
}

TEST(OnnxParser, Int64InputsAndOutputsKeepTheirType) {
  ModelBuilder m(13);
  m.input("ids", {3}, ::onnx::TensorProto::INT64).output("y", ::onnx::TensorProto::INT64);
  m.ints("two", {}, {2});
  m.node("Mul", {"ids", "two"}, {"y"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  EXPECT_EQ(f.net().input(0).type(), DataType::kINT64);
  EXPECT_EQ(f.net().output(0).type(), DataType::kINT64);
  HostTensor ids(DataType::kINT64, {3});
  const int64_t values[] = {-5, 0, 7};
  std::memcpy(ids.bytes.data(), values, sizeof(values));
  const auto out = f.run({ids});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype, DataType::kINT64);
  const auto y = out[0].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(y.begin(), y.end()), (std::vector<int64_t>{-10, 0, 14}));
}

TEST(OnnxParser, UnknownDataTypeNamesTheInitializer) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y");
  auto* t = m.graph().add_initializer();
  t->set_name("odd");
  t->set_data_type(99);
  t->add_dims(2);
  m.node("Add", {"x", "odd"}, {"y"});
  expectParseError(m, {"initializer 'odd'", "unknown data type 99"});
}

TEST(OnnxParser, SizesThatDisagreeAreErrors) {
  ModelBuilder m(13);
  m.input("x", {3}).output("y");
  m.floats("b", {3}, {1, 2});
  m.node("Add", {"x", "b"}, {"y"});
  expectParseError(m, {"initializer 'b'", "2 values in float_data", "needs 3"});
}

TEST(OnnxParser, InitializersMayBeGraphInputs) {
  ModelBuilder m = addBiasModel();
  auto* in = m.graph().add_input();  // older exporters list every initializer as an input
  in->set_name("b");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  EXPECT_EQ(f.net().nbInputs(), 1);
}

TEST(OnnxParser, RawDataAndFloat16Initializers) {
  ModelBuilder m(13);
  m.input("x", {3}).output("y");
  auto* raw = m.graph().add_initializer();
  raw->set_name("raw");
  raw->set_data_type(::onnx::TensorProto::FLOAT);
  raw->add_dims(3);
  const float values[] = {0.5f, -1.f, 4.f};
  raw->set_raw_data(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  auto* half = m.graph().add_initializer();
  half->set_name("half");
  half->set_data_type(::onnx::TensorProto::FLOAT16);
  half->add_dims(3);
  for (int bits : {0x3c00, 0x4000, 0xbc00}) half->add_int32_data(bits);  // 1, 2, -1
  auto* wide = m.graph().add_initializer();
  wide->set_name("wide");
  wide->set_data_type(::onnx::TensorProto::DOUBLE);
  wide->add_dims(3);
  for (double v : {10.0, 20.0, 30.0}) wide->add_double_data(v);
  m.node("Mul", {"x", "raw"}, {"a"});
  m.node("Add", {"a", "half"}, {"b"});
  m.node("Add", {"b", "wide"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({3}, std::vector<float>{2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{12, 19, 45}));
}

// An initializer whose values live in an external file next to the model.
ModelBuilder externalModel(const std::string& location) {
  ModelBuilder m(13);
  m.input("x", {4}).output("y");
  auto* t = m.graph().add_initializer();
  t->set_name("w");
  t->set_data_type(::onnx::TensorProto::FLOAT);
  t->add_dims(4);
  t->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto* entry = t->add_external_data();
  entry->set_key("location");
  entry->set_value(location);
  entry = t->add_external_data();
  entry->set_key("offset");
  entry->set_value("4");
  m.node("Mul", {"x", "w"}, {"y"});
  return m;
}

std::string floatBytes(std::initializer_list<float> values) {
  std::vector<float> v(values);
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

TEST(OnnxParser, ExternalDataInsideTheModelFolder) {
  TempDir dir;
  dir.write("model/data/weights.bin", floatBytes({99, 1, 2, 3, 4}));
  const fs::path file = dir.write("model/net.onnx", externalModel("data/weights.bin").bytes());
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  ASSERT_TRUE(parser.parseFromFile(file)) << parserErrors(parser);
  const auto out = f.run({HostTensor::fromFloats({4}, std::vector<float>{1, 1, 2, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 6, 8}));
}

TEST(OnnxParser, ExternalDataMayNotLeaveTheModelFolder) {
  TempDir dir;
  dir.write("outside.bin", floatBytes({99, 1, 2, 3, 4}));
  for (const std::string& location :
       {std::string("../outside.bin"), std::string("data/../../outside.bin"),
        (dir.path() / "outside.bin").string()}) {
    const fs::path file = dir.write("model/net.onnx", externalModel(location).bytes());
    NetworkFixture f;
    OnnxParser parser(f.net(), f.logger);
    EXPECT_FALSE(parser.parseFromFile(file)) << location;
    const std::string errors = parserErrors(parser);
    EXPECT_NE(errors.find("initializer 'w'"), std::string::npos) << errors;
    EXPECT_NE(errors.find(location), std::string::npos) << errors;
    EXPECT_TRUE(errors.find("leaves the model's folder") != std::string::npos ||
                errors.find("absolute path") != std::string::npos)
        << errors;
  }
}

TEST(OnnxParser, ExternalDataProblemsAreErrors) {
  TempDir dir;
  {  // too short
    dir.write("model/short.bin", floatBytes({1, 2}));
    const fs::path file = dir.write("model/net.onnx", externalModel("short.bin").bytes());
    NetworkFixture f;
    OnnxParser parser(f.net(), f.logger);
    EXPECT_FALSE(parser.parseFromFile(file));
    EXPECT_NE(parserErrors(parser).find("reaches beyond its end"), std::string::npos)
        << parserErrors(parser);
  }
  {  // from memory, no folder
    NetworkFixture f;
    OnnxParser parser(f.net(), f.logger);
    const std::string bytes = externalModel("weights.bin").bytes();
    EXPECT_FALSE(parser.parse(asBytes(bytes)));
    EXPECT_NE(parserErrors(parser).find("without its folder"), std::string::npos)
        << parserErrors(parser);
  }
}

TEST(OnnxParser, DynamicDimensionsStayDynamicOrTakeAGivenShape) {
  ModelBuilder m(13);
  m.input("x", {-1, 3}).output("y");
  m.node("Relu", {"x"}, {"y"});
  {
    // Left dynamic: the network input keeps -1 (an optimization profile fixes it at build).
    NetworkFixture f;
    OnnxParser parser(f.net(), f.logger);
    const std::string bytes = m.bytes();
    ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
    EXPECT_EQ(f.net().input(0).dimensions(), (Dims{-1, 3}));
    EXPECT_EQ(f.net().output(0).dimensions(), (Dims{-1, 3}));
  }

  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  parser.setInputShape("x", Dims{2, 3});
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  EXPECT_EQ(f.net().input(0).dimensions(), (Dims{2, 3}));
  const auto out = f.run({HostTensor::fromFloats({2, 3}, std::vector<float>{-1, 2, -3, 4, -5, 6})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 2, 0, 4, 0, 6}));
}

TEST(OnnxParser, GivenShapesMustFitTheModel) {
  ModelBuilder m(13);
  m.input("x", {-1, 3}).output("y");
  m.node("Relu", {"x"}, {"y"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  parser.setInputShape("x", Dims{2, 4});
  parser.setInputShape("nope", Dims{1});
  const std::string bytes = m.bytes();
  EXPECT_FALSE(parser.parse(asBytes(bytes)));
  const std::string errors = parserErrors(parser);
  EXPECT_NE(errors.find("2x4 given for input 'x' does not fit"), std::string::npos) << errors;
  EXPECT_NE(errors.find("input 'nope', but the model has no such input"), std::string::npos)
      << errors;
}

TEST(OnnxParser, InvalidGivenShapesFailTheParse) {
  ModelBuilder m(13);
  m.input("x", {-1, 3}).output("y");
  m.node("Relu", {"x"}, {"y"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  parser.setInputShape("x", Dims{-2, 3});
  const std::string bytes = m.bytes();
  EXPECT_FALSE(parser.parse(asBytes(bytes)));
  EXPECT_NE(parserErrors(parser).find("input 'x' is invalid: extent -2"), std::string::npos)
      << parserErrors(parser);
}

TEST(OnnxParser, BoolAndSmallIntegerInitializers) {
  ModelBuilder m(13);
  m.input("x", {4}).output("y");
  auto* cond = m.graph().add_initializer();
  cond->set_name("cond");
  cond->set_data_type(::onnx::TensorProto::BOOL);
  cond->add_dims(4);
  cond->set_raw_data(std::string("\x01\x00\x01\x00", 4));
  auto* small = m.graph().add_initializer();
  small->set_name("small");
  small->set_data_type(::onnx::TensorProto::INT8);
  small->add_dims(4);
  for (int v : {-3, 4, -128, 127}) small->add_int32_data(v);
  auto* bytes = m.graph().add_initializer();
  bytes->set_name("bytes");
  bytes->set_data_type(::onnx::TensorProto::UINT8);
  bytes->add_dims(4);
  bytes->set_raw_data(std::string("\x00\xff\x10\x01", 4));
  attrInt(m.node("Cast", {"small"}, {"small_f"}), "to", ::onnx::TensorProto::FLOAT);
  attrInt(m.node("Cast", {"bytes"}, {"bytes_f"}), "to", ::onnx::TensorProto::FLOAT);
  m.node("Add", {"x", "bytes_f"}, {"xb"});
  m.node("Where", {"cond", "small_f", "xb"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({4}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-3, 257, -128, 5}));
}

TEST(OnnxParser, OpsetProblemsAreErrors) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y");
  m.node("Sin", {"x"}, {"y"});
  m.model().mutable_opset_import(0)->set_version(5);
  expectParseError(m, {"(Sin, opset 5)", "kiln imports Sin from opset 7"});
  m.model().mutable_opset_import(0)->set_domain("com.other");
  expectParseError(m, {"imports no ai.onnx opset"});
}

TEST(OnnxParser, OutputsThatAreInputsOrRepeatedGetCopies) {
  ModelBuilder m(13);
  m.input("x", {2}).output("same").output("y").output("z");
  m.node("Identity", {"x"}, {"same"});
  m.node("Relu", {"x"}, {"y"});
  m.node("Identity", {"y"}, {"z"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  ASSERT_EQ(f.net().nbOutputs(), 3);
  EXPECT_EQ(f.net().output(0).name(), "same");
  EXPECT_EQ(f.net().output(1).name(), "y");
  EXPECT_EQ(f.net().output(2).name(), "z");
  const auto out = f.run({HostTensor::fromFloats({2}, std::vector<float>{-1, 3})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-1, 3}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{0, 3}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{0, 3}));
}

TEST(OnnxParser, ConstantOutputsBecomeConstantLayers) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("shape", ::onnx::TensorProto::INT64).output("y");
  m.node("Shape", {"x"}, {"shape"});
  m.node("Relu", {"x"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 3}, std::vector<float>(6, 1.f))});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].dtype, DataType::kINT64);
  const auto shape = out[0].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(shape.begin(), shape.end()), (std::vector<int64_t>{2, 3}));
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write "x.view(x.size(0), -1)":
// folded at parse time into one Shuffle.
TEST(OnnxParser, ShapeSubgraphsAreFolded) {
  ModelBuilder m(13);
  m.input("x", {2, 3, 4}).output("y");
  m.ints("zero", {}, {0});
  m.vector("axes", {0});
  m.vector("minus_one", {-1});
  m.node("Shape", {"x"}, {"shape"});
  m.node("Gather", {"shape", "zero"}, {"batch"});
  m.node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  attrInt(m.node("Concat", {"batch1", "minus_one"}, {"target"}), "axis", 0);
  m.node("Reshape", {"x", "target"}, {"y"}, "flatten");
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  ASSERT_EQ(f.net().nbLayers(), 1);
  EXPECT_EQ(f.net().layer(0).type(), LayerType::kSHUFFLE);
  EXPECT_EQ(f.net().output(0).dimensions(), (Dims{2, 12}));
}

TEST(OnnxParser, FoldedArithmeticFeedsLayers) {
  // (Shape(x)[1] * 2 + 1) as a constant operand of an Add: folded, then one Constant layer.
  ModelBuilder m(13);
  m.input("x", {1, 3}).output("y");
  m.ints("one", {}, {1});
  m.ints("two", {}, {2});
  m.node("Shape", {"x"}, {"s"});
  m.node("Gather", {"s", "one"}, {"c"});
  m.node("Mul", {"c", "two"}, {"c2"});
  m.node("Add", {"c2", "one"}, {"c3"});
  auto& cast = m.node("Cast", {"c3"}, {"f"});
  attrInt(cast, "to", ::onnx::TensorProto::FLOAT);
  m.node("Add", {"x", "f"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({1, 3}, std::vector<float>{0, 1, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{7, 8, 9}));
}

TEST(OnnxParser, ConstantNodesInAllSpellings) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y");
  auto& a = m.node("Constant", {}, {"a"});
  onnx_test::attrFloat(a, "value_float", 1.5f);
  auto& b = m.node("Constant", {}, {"b"});
  auto* floats = b.add_attribute();
  floats->set_name("value_floats");
  floats->set_type(::onnx::AttributeProto::FLOATS);
  floats->add_floats(10.f);
  floats->add_floats(20.f);
  auto& c = m.node("Constant", {}, {"c"});
  ::onnx::TensorProto t;
  t.set_data_type(::onnx::TensorProto::FLOAT);
  t.add_dims(2);
  t.add_float_data(100.f);
  t.add_float_data(200.f);
  onnx_test::attrTensor(c, "value", t);
  m.node("Add", {"x", "a"}, {"xa"});
  m.node("Add", {"xa", "b"}, {"xab"});
  m.node("Add", {"xab", "c"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2}, std::vector<float>{1, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{112.5f, 223.5f}));
}

TEST(OnnxParser, LayerProblemsNameTheNode) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).input("z", {4, 5}).output("y");
  m.node("MatMul", {"x", "z"}, {"y"}, "bad_matmul");
  expectParseError(m, {"node 'bad_matmul' (MatMul, opset 13)", "rejected"});
}

}  // namespace
}  // namespace kiln::test
