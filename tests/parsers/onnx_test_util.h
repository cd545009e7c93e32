// Helpers of the ONNX parser tests: writing small models with the generated protobuf classes,
// parsing them into a fixture's network, and reading .npy reference files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "kiln/parsers/onnx.h"
#include "onnx.pb.h"
#include "support/test_util.h"

namespace kiln::test::onnx_test {

//! Builds a ModelProto one piece at a time.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* entry = model_.add_opset_import();
    entry->set_domain("");
    entry->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  ::onnx::ModelProto& model() { return model_; }
  ::onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  //! A graph input; a negative extent is written as the dim_param "N".
  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims,
                      int32_t type = ::onnx::TensorProto::FLOAT) {
    fillValueInfo(graph().add_input(), name, dims, type);
    return *this;
  }
  ModelBuilder& output(const std::string& name, int32_t type = ::onnx::TensorProto::FLOAT) {
    auto* info = graph().add_output();
    info->set_name(name);
    info->mutable_type()->mutable_tensor_type()->set_elem_type(type);
    return *this;
  }

  ModelBuilder& floats(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<float>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return *this;
  }
  ModelBuilder& ints(const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }
  ModelBuilder& vector(const std::string& name, const std::vector<int64_t>& values) {
    return ints(name, {static_cast<int64_t>(values.size())}, values);
  }

  //! A node; add attributes to the returned proto with the attr* helpers below.
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = {}) {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  static void fillValueInfo(::onnx::ValueInfoProto* info, const std::string& name,
                            const std::vector<int64_t>& dims, int32_t type) {
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0) {
        dim->set_dim_param("N");
      } else {
        dim->set_dim_value(d);
      }
    }
  }

  ::onnx::ModelProto model_;
};

inline void attrInt(::onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(value);
}
inline void attrFloat(::onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(value);
}
inline void attrInts(::onnx::NodeProto& node, const std::string& name,
                     const std::vector<int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
inline void attrString(::onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(value);
}
inline void attrTensor(::onnx::NodeProto& node, const std::string& name,
                       const ::onnx::TensorProto& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::TENSOR);
  *a->mutable_t() = value;
}

inline std::span<const std::byte> asBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

//! All errors of @p parser, one per line.
inline std::string parserErrors(const parsers::OnnxParser& parser) {
  std::string out;
  for (int32_t i = 0; i < parser.nbErrors(); ++i) out += parser.error(i) + "\n";
  return out;
}

//! Parses @p model into a fresh network, builds and runs it on @p inputs (network input order)
//! and returns the outputs; records a failure with the parser's errors when parsing fails.
inline std::vector<HostTensor> runModel(const ModelBuilder& model,
                                        const std::vector<HostTensor>& inputs) {
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = model.bytes();
  if (!parser.parse(asBytes(bytes))) {
    ADD_FAILURE() << parserErrors(parser);
    return {};
  }
  return f.run(inputs);
}

//! Parses @p model and expects failure with an error containing every one of @p texts;
//! returns all errors.
inline std::string expectParseError(const ModelBuilder& model,
                                    std::initializer_list<std::string_view> texts) {
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = model.bytes();
  EXPECT_FALSE(parser.parse(asBytes(bytes)));
  const std::string errors = parserErrors(parser);
  for (std::string_view text : texts) {
    EXPECT_NE(errors.find(text), std::string::npos)
        << "expected an error containing '" << text << "', got:\n"
        << errors;
  }
  return errors;
}

//! A .npy array: dtype as kiln sees it, shape, raw little-endian bytes.
struct Npy {
  DataType dtype = DataType::kFLOAT;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;
};

//! Reads float32 / int64 / int32 / bool .npy files (format 1.0-3.0, C order); false otherwise.
inline bool readNpy(const std::filesystem::path& path, Npy& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return false;
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t headerLength = 0, offset = 0;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else {
    for (int i = 0; i < 4; ++i) {
      headerLength |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    offset = 12;
  }
  const std::string header = bytes.substr(offset, headerLength);
  if (header.find("'fortran_order': False") == std::string::npos) return false;
  if (header.find("'<f4'") != std::string::npos) {
    out.dtype = DataType::kFLOAT;
  } else if (header.find("'<i8'") != std::string::npos) {
    out.dtype = DataType::kINT64;
  } else if (header.find("'<i4'") != std::string::npos) {
    out.dtype = DataType::kINT32;
  } else if (header.find("'|b1'") != std::string::npos) {
    out.dtype = DataType::kBOOL;
  } else {
    return false;
  }
  const auto open = header.find('(', header.find("'shape'"));
  const auto close = header.find(')', open);
  out.shape.clear();
  std::string number;
  for (std::size_t i = open + 1; i <= close; ++i) {
    const char c = header[i];
    if (c >= '0' && c <= '9') {
      number += c;
    } else if (!number.empty()) {
      out.shape.push_back(std::stoll(number));
      number.clear();
    }
  }
  int64_t count = 1;
  for (int64_t d : out.shape) count *= d;
  const std::size_t size = static_cast<std::size_t>(count) * elementSize(out.dtype);
  const std::size_t start = offset + headerLength;
  if (bytes.size() < start + size) return false;
  out.data.resize(size);
  if (size > 0) std::memcpy(out.data.data(), bytes.data() + start, size);
  return true;
}

}  // namespace kiln::test::onnx_test
