// OnnxParser: reads the ModelProto bytes (with size limits), then hands the model to the graph
// importer. Never throws: library bugs and bad_alloc become errors like any other.
#include <fstream>
#include <limits>
#include <map>
#include <system_error>
#include <vector>

#include "kiln/parsers/onnx.h"
#include "onnx.pb.h"
#include "parsers/onnx/diagnostics.h"
#include "parsers/onnx/graph_importer.h"

namespace kiln::parsers {

namespace {

using onnx_import::Diagnostics;

// protobuf messages are limited to 2 GiB; bigger models keep their weights in external data.
constexpr std::size_t kMaxModelBytes = std::numeric_limits<int>::max();

}  // namespace

struct OnnxParser::Impl {
  Impl(NetworkDefinition& net, Logger& log) : network(net), logger(log) {}

  NetworkDefinition& network;
  Logger& logger;
  std::map<std::string, Dims, std::less<>> inputShapes;
  ModelLimits limits;
  std::vector<std::string> shapeProblems;
  std::vector<Diagnostics::Entry> errors;
  int64_t opset = 0;

  bool parseBytes(std::span<const std::byte> bytes, const std::filesystem::path& folder,
                  const std::string& source) {
    Diagnostics diag(logger, source);
    bool ok = false;
    try {
      for (const auto& problem : shapeProblems) diag.error(ErrorCode::kINVALID_ARGUMENT, problem);
      ok = shapeProblems.empty() && parseWith(bytes, folder, diag);
    } catch (const std::exception& e) {
      diag.error(ErrorCode::kINTERNAL_ERROR,
                 std::string("internal error while reading the model: ") + e.what());
    } catch (...) {
      diag.error(ErrorCode::kINTERNAL_ERROR, "internal error while reading the model");
    }
    for (const auto& entry : diag.entries()) errors.push_back(entry);
    return ok && diag.errorCount() == 0;
  }

  bool parseWith(std::span<const std::byte> bytes, const std::filesystem::path& folder,
                 Diagnostics& diag) {
    if (bytes.size() > kMaxModelBytes) {
      diag.error(ErrorCode::kINVALID_MODEL,
                 "the model has " + std::to_string(bytes.size()) +
                     " bytes; a protobuf message holds at most 2 GiB (keep the weights in "
                     "external data files)");
      return false;
    }
    if (bytes.empty()) {
      diag.error(ErrorCode::kINVALID_MODEL, "the model is empty (0 bytes)");
      return false;
    }
    ::onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      diag.error(ErrorCode::kINVALID_MODEL,
                 "is not a valid ONNX model: the bytes do not parse as an onnx.ModelProto "
                 "protobuf message (truncated, corrupted, or another format)");
      return false;
    }
    onnx_import::ImportOptions options;
    options.root.folder = folder;
    options.inputShapes = inputShapes;
    options.maxConstantBytes = limits.maxTensorBytes;
    return onnx_import::importModel(model, options, network, diag, opset);
  }
};

OnnxParser::OnnxParser(NetworkDefinition& network, Logger& logger)
    : impl_(std::make_unique<Impl>(network, logger)) {}

OnnxParser::~OnnxParser() = default;

void OnnxParser::setInputShape(std::string_view name, const Dims& dims) {
  try {
    std::string problem;
    if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
      problem = "rank " + std::to_string(dims.nbDims) + " is outside [0, " +
                std::to_string(Dims::kMaxRank) + "]";
    }
    for (int32_t i = 0; problem.empty() && i < dims.nbDims; ++i) {
      if (dims[i] < 0) problem = "extent " + std::to_string(dims[i]) + " is negative";
    }
    if (problem.empty()) {
      impl_->inputShapes[std::string(name)] = dims;
    } else {
      // Reported by the next parse, which then fails: a shape that was meant to be used and
      // cannot be must not go unnoticed.
      impl_->shapeProblems.push_back("the shape given for input '" + std::string(name) +
                                     "' is invalid: " + problem);
    }
  } catch (...) {
    impl_->logger.log(Severity::kINTERNAL_ERROR, "OnnxParser::setInputShape: out of memory");
  }
}

void OnnxParser::setModelLimits(const ModelLimits& limits) noexcept {
  impl_->limits = limits;
}

const ModelLimits& OnnxParser::modelLimits() const noexcept {
  return impl_->limits;
}

bool OnnxParser::parseFromFile(const std::filesystem::path& path) {
  const std::string source = path.string();
  try {
    Diagnostics diag(impl_->logger, source);
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    std::string problem;
    if (!std::filesystem::exists(status)) {
      problem = "cannot open the model: " + (ec ? ec.message() : std::string("no such file"));
    } else if (std::filesystem::is_directory(status)) {
      problem = "is a directory, not an ONNX model";
    } else {
      const auto size = std::filesystem::file_size(path, ec);
      if (!ec && size > kMaxModelBytes) {
        problem = "has " + std::to_string(size) +
                  " bytes; an ONNX model file holds at most 2 GiB (keep the weights in external "
                  "data files)";
      }
    }
    std::vector<std::byte> bytes;
    if (problem.empty()) {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        problem = "cannot open the model for reading";
      } else {
        in.seekg(0, std::ios::end);
        const auto size = static_cast<std::size_t>(in.tellg());
        in.seekg(0);
        bytes.resize(size);
        if (size > 0)
          in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
        if (!in) problem = "cannot read the model";
      }
    }
    if (!problem.empty()) {
      diag.error(ErrorCode::kINVALID_ARGUMENT, problem);
      for (const auto& entry : diag.entries()) impl_->errors.push_back(entry);
      return false;
    }
    std::filesystem::path folder = path.parent_path();
    if (folder.empty()) folder = ".";
    return impl_->parseBytes(bytes, folder, source);
  } catch (const std::exception& e) {
    impl_->logger.log(Severity::kINTERNAL_ERROR, source + ": internal error: " + e.what());
    impl_->errors.push_back({ErrorCode::kINTERNAL_ERROR, source + ": " + e.what()});
  }
  return false;
}

bool OnnxParser::parse(std::span<const std::byte> model, const std::filesystem::path& modelDir) {
  return impl_->parseBytes(model, modelDir, "<ONNX model in memory>");
}

int32_t OnnxParser::nbErrors() const {
  return static_cast<int32_t>(impl_->errors.size());
}

std::string OnnxParser::error(int32_t index) const {
  if (index < 0 || index >= nbErrors()) return {};
  return impl_->errors[static_cast<std::size_t>(index)].message;
}

ErrorCode OnnxParser::errorCode(int32_t index) const {
  if (index < 0 || index >= nbErrors()) return ErrorCode::kSUCCESS;
  return impl_->errors[static_cast<std::size_t>(index)].code;
}

void OnnxParser::clearErrors() {
  impl_->errors.clear();
}

int64_t OnnxParser::modelOpset() const {
  return impl_->opset;
}

int64_t OnnxParser::maxSupportedOpset() noexcept {
  return onnx_import::kMaxOpset;
}

}  // namespace kiln::parsers
