#include "parsers/onnx/tensor_proto.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/half.h"

namespace kiln::parsers::onnx_import {

namespace fs = std::filesystem;

namespace {

// Bytes of one element in raw_data (little-endian, as onnx.proto specifies); 0 for types kiln
// cannot hold.
std::size_t rawElementSize(int32_t type) {
  switch (type) {
    case kOnnxFloat:
      return 4;
    case kOnnxUint8:
      return 1;
    case kOnnxInt8:
      return 1;
    case kOnnxUint16:
      return 2;
    case kOnnxInt16:
      return 2;
    case kOnnxInt32:
      return 4;
    case kOnnxInt64:
      return 8;
    case kOnnxBool:
      return 1;
    case kOnnxFloat16:
      return 2;
    case kOnnxDouble:
      return 8;
    case kOnnxUint32:
      return 4;
    case kOnnxUint64:
      return 8;
    case kOnnxBfloat16:
      return 2;
    default:
      return 0;
  }
}

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

Dims tensorDims(const ::onnx::TensorProto& tensor, std::string_view what, int64_t& count) {
  if (tensor.dims_size() > Dims::kMaxRank) {
    fail(ErrorCode::kINVALID_MODEL, what, " has rank ", tensor.dims_size(), "; kiln tensors have ",
         "at most ", Dims::kMaxRank, " dimensions");
  }
  Dims dims;
  dims.nbDims = tensor.dims_size();
  count = 1;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    const int64_t d = tensor.dims(i);
    if (d < 0) fail(ErrorCode::kINVALID_MODEL, what, " has a negative extent ", d);
    dims[i] = d;
    if (d != 0 && count > kMaxConstElements / d) {
      fail(ErrorCode::kINVALID_MODEL, what, " has more than 2^40 elements (shape ", toString(dims),
           ")");
    }
    count *= d;
  }
  if (count > kMaxConstElements) {
    fail(ErrorCode::kINVALID_MODEL, what, " has more than 2^40 elements");
  }
  return dims;
}

// Decodes little-endian element bytes into @p out (allocated for them).
void fromBytes(ConstTensor& out, const std::byte* data) {
  const int32_t type = out.onnxType();
  const std::size_t size = rawElementSize(type);
  const auto n = static_cast<std::size_t>(out.count());
  if (isOnnxFloating(type)) {
    const std::span<float> f = out.floatData();
    for (std::size_t k = 0; k < n; ++k) {
      const std::byte* p = data + k * size;
      switch (type) {
        case kOnnxFloat:
          f[k] = load<float>(p);
          break;
        case kOnnxDouble:
          f[k] = static_cast<float>(load<double>(p));
          break;
        case kOnnxFloat16:
          f[k] = halfToFloat(load<uint16_t>(p));
          break;
        default:
          f[k] = bfloat16ToFloat(load<uint16_t>(p));
          break;
      }
    }
    return;
  }
  const std::span<int64_t> v = out.intData();
  for (std::size_t k = 0; k < n; ++k) {
    const std::byte* p = data + k * size;
    switch (type) {
      case kOnnxUint8:
        v[k] = load<uint8_t>(p);
        break;
      case kOnnxInt8:
        v[k] = load<int8_t>(p);
        break;
      case kOnnxUint16:
        v[k] = load<uint16_t>(p);
        break;
      case kOnnxInt16:
        v[k] = load<int16_t>(p);
        break;
      case kOnnxInt32:
        v[k] = load<int32_t>(p);
        break;
      case kOnnxInt64:
        v[k] = load<int64_t>(p);
        break;
      case kOnnxBool:
        v[k] = load<uint8_t>(p) != 0 ? 1 : 0;
        break;
      case kOnnxUint32:
        v[k] = load<uint32_t>(p);
        break;
      default: {
        const auto u = load<uint64_t>(p);
        // Values above INT64_MAX cannot be shapes or indices; saturate so range checks catch them.
        v[k] = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                   ? std::numeric_limits<int64_t>::max()
                   : static_cast<int64_t>(u);
      }
    }
  }
}

template <typename Field>
void checkFieldSize(const Field& field, int64_t count, std::string_view what,
                    std::string_view fieldName, int32_t type) {
  if (field.size() != count) {
    fail(ErrorCode::kINVALID_MODEL, what, " (", onnxTypeName(type), ") has ", field.size(),
         " values in ", fieldName, " but its shape needs ", count);
  }
}

// The number of values in the typed field that holds @p t's type, checked against @p count
// before anything is allocated for them.
void checkTypedFields(const ::onnx::TensorProto& t, int64_t count, std::string_view what) {
  const int32_t type = t.data_type();
  switch (type) {
    case kOnnxFloat:
      return checkFieldSize(t.float_data(), count, what, "float_data", type);
    case kOnnxDouble:
      return checkFieldSize(t.double_data(), count, what, "double_data", type);
    case kOnnxInt64:
      return checkFieldSize(t.int64_data(), count, what, "int64_data", type);
    case kOnnxUint32:
    case kOnnxUint64:
      return checkFieldSize(t.uint64_data(), count, what, "uint64_data", type);
    default:  // 16-bit floats (as bit patterns), bool, uint8, int8, uint16, int16, int32
      return checkFieldSize(t.int32_data(), count, what, "int32_data", type);
  }
}

// The typed repeated fields of onnx.proto (which one holds which type) into @p out.
void fromTypedFields(const ::onnx::TensorProto& t, ConstTensor& out) {
  const int32_t type = t.data_type();
  const auto n = static_cast<std::size_t>(out.count());
  const std::span<float> f = out.floatData();
  const std::span<int64_t> v = out.intData();
  switch (type) {
    case kOnnxFloat:
      std::copy(t.float_data().begin(), t.float_data().end(), f.begin());
      return;
    case kOnnxDouble:
      for (std::size_t k = 0; k < n; ++k)
        f[k] = static_cast<float>(t.double_data(static_cast<int>(k)));
      return;
    case kOnnxFloat16:
    case kOnnxBfloat16:
      // 16-bit floats travel as their bit patterns, one per int32_data entry.
      for (std::size_t k = 0; k < n; ++k) {
        const auto bits = static_cast<uint16_t>(t.int32_data(static_cast<int>(k)));
        f[k] = type == kOnnxFloat16 ? halfToFloat(bits) : bfloat16ToFloat(bits);
      }
      return;
    case kOnnxInt64:
      std::copy(t.int64_data().begin(), t.int64_data().end(), v.begin());
      return;
    case kOnnxUint32:
    case kOnnxUint64:
      for (std::size_t k = 0; k < n; ++k) {
        const uint64_t u = t.uint64_data(static_cast<int>(k));
        v[k] = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                   ? std::numeric_limits<int64_t>::max()
                   : static_cast<int64_t>(u);
      }
      return;
    case kOnnxBool:
      for (std::size_t k = 0; k < n; ++k) v[k] = t.int32_data(static_cast<int>(k)) != 0 ? 1 : 0;
      return;
    default:  // uint8, int8, uint16, int16, int32
      std::copy(t.int32_data().begin(), t.int32_data().end(), v.begin());
      return;
  }
}

std::string externalEntry(const ::onnx::TensorProto& t, const std::string& key, bool& found) {
  found = false;
  std::string value;
  for (const auto& entry : t.external_data()) {
    if (entry.key() == key) {
      found = true;
      value = entry.value();
    }
  }
  return value;
}

int64_t parseOffset(const std::string& text, std::string_view key, std::string_view what) {
  std::size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < 0) {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data ", key, " '", text,
         "' is not a byte count");
  }
  return value;
}

std::vector<std::byte> readExternal(const ::onnx::TensorProto& t, const ExternalDataRoot& root,
                                    std::size_t expected, std::string_view what) {
  bool found = false;
  const std::string location = externalEntry(t, "location", found);
  if (!found || location.empty()) {
    fail(ErrorCode::kINVALID_MODEL, what, " has external data without a 'location'");
  }
  const fs::path path = resolveExternalPath(root, location, what);
  const std::string offsetText = externalEntry(t, "offset", found);
  const int64_t offset = found ? parseOffset(offsetText, "offset", what) : 0;
  const std::string lengthText = externalEntry(t, "length", found);
  const int64_t length =
      found ? parseOffset(lengthText, "length", what) : static_cast<int64_t>(expected);
  if (static_cast<std::size_t>(length) != expected) {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data length ", length,
         " bytes, but its shape and type need ", expected);
  }
  std::error_code ec;
  const auto fileSize = fs::file_size(path, ec);
  if (ec) {
    fail(ErrorCode::kINVALID_MODEL, what, ": cannot read external data file '", location,
         "': ", ec.message());
  }
  if (static_cast<uint64_t>(offset) > fileSize ||
      fileSize - static_cast<uint64_t>(offset) < static_cast<uint64_t>(length)) {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data file '", location, "' has ", fileSize,
         " bytes; offset ", offset, " + length ", length, " reaches beyond its end");
  }
  std::vector<std::byte> bytes(expected);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  if (expected > 0)
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(expected));
  if (!in) {
    fail(ErrorCode::kINVALID_MODEL, what, ": cannot read ", expected,
         " bytes from external data file '", location, "'");
  }
  return bytes;
}

}  // namespace

fs::path resolveExternalPath(const ExternalDataRoot& root, const std::string& location,
                             std::string_view what) {
  if (root.folder.empty()) {
    fail(ErrorCode::kINVALID_MODEL, what, " keeps its data in external file '", location,
         "', but the model was given from memory without its folder (use parseFromFile, or pass ",
         "the model's folder to parse)");
  }
  const fs::path relative(location);
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data location '", location,
         "' is an absolute path; only paths relative to the model's folder are allowed");
  }
  const fs::path normal = relative.lexically_normal();
  if (normal.empty() || *normal.begin() == ".." || normal == ".") {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data location '", location,
         "' leaves the model's folder; only files inside it are allowed");
  }
  // Symbolic links could still lead out of the folder: compare the resolved paths too.
  std::error_code ec;
  const fs::path folder = fs::weakly_canonical(root.folder, ec);
  const fs::path target = fs::weakly_canonical(root.folder / normal, ec);
  const fs::path inside = target.lexically_relative(folder);
  if (ec || inside.empty() || *inside.begin() == "..") {
    fail(ErrorCode::kINVALID_MODEL, what, ": external data location '", location,
         "' resolves outside the model's folder; only files inside it are allowed");
  }
  return target;
}

ConstTensor decodeTensor(const ::onnx::TensorProto& tensor, const ExternalDataRoot& root,
                         const ConstantLimit& limit, std::string_view what) {
  const int32_t type = tensor.data_type();
  if (type == kOnnxUndefined) fail(ErrorCode::kINVALID_MODEL, what, " has no data type");
  if (type == kOnnxString || type == kOnnxComplex64 || type == kOnnxComplex128) {
    fail(ErrorCode::kINVALID_MODEL, what, " is a ", onnxTypeName(type),
         " tensor; kiln holds numbers and bools only");
  }
  const std::size_t size = rawElementSize(type);
  if (size == 0) {
    fail(ErrorCode::kINVALID_MODEL, what, " has unknown data type ", type,
         " (not one of onnx.proto's TensorProto.DataType values this parser knows)");
  }
  if (tensor.has_segment()) {
    fail(ErrorCode::kINVALID_MODEL, what, " is segmented; kiln reads whole tensors only");
  }
  int64_t count = 0;
  const Dims dims = tensorDims(tensor, what, count);
  const std::size_t expected = static_cast<std::size_t>(count) * size;
  if (tensor.data_location() != ::onnx::TensorProto::EXTERNAL && tensor.has_raw_data() &&
      tensor.raw_data().size() != expected) {
    fail(ErrorCode::kINVALID_MODEL, what, " (", onnxTypeName(type), ", shape ", toString(dims),
         ") has ", tensor.raw_data().size(), " bytes of raw_data; it needs ", expected);
  }
  if (tensor.data_location() != ::onnx::TensorProto::EXTERNAL && !tensor.has_raw_data()) {
    checkTypedFields(tensor, count, what);
  }
  // Checked against the limit before anything (an external file, above all) is read.
  ConstTensor out;
  try {
    out = ConstTensor::allocate(dims, type, limit);
  } catch (const Error& e) {
    fail(e.code(), what, ": ", e.what());
  }
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL) {
    const auto bytes = readExternal(tensor, root, expected, what);
    fromBytes(out, bytes.data());
  } else if (tensor.has_raw_data()) {
    fromBytes(out, reinterpret_cast<const std::byte*>(tensor.raw_data().data()));
  } else {
    fromTypedFields(tensor, out);
  }
  return out;
}

}  // namespace kiln::parsers::onnx_import
