#include "tensor_data.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/half.h"
#include "onnx.pb.h"

namespace kiln::conformance {
namespace {

using Proto = ::onnx::TensorProto;

bool isFloatType(int32_t type) {
  return type == Proto::FLOAT || type == Proto::DOUBLE || type == Proto::FLOAT16 ||
         type == Proto::BFLOAT16;
}

// Bytes per element in raw_data; 0 for types without a fixed-size numeric encoding.
std::size_t rawElementSize(int32_t type) {
  switch (type) {
    case Proto::BOOL:
    case Proto::INT8:
    case Proto::UINT8:
      return 1;
    case Proto::INT16:
    case Proto::UINT16:
    case Proto::FLOAT16:
    case Proto::BFLOAT16:
      return 2;
    case Proto::INT32:
    case Proto::UINT32:
    case Proto::FLOAT:
      return 4;
    case Proto::INT64:
    case Proto::UINT64:
    case Proto::DOUBLE:
      return 8;
    default:
      return 0;
  }
}

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

void decodeRaw(const std::string& raw, int32_t type, int64_t count, TestTensor& out) {
  const std::size_t size = rawElementSize(type);
  if (raw.size() != static_cast<std::size_t>(count) * size) {
    throw std::runtime_error("raw_data holds " + std::to_string(raw.size()) + " bytes, expected " +
                             std::to_string(count) + " elements of " + std::to_string(size));
  }
  for (int64_t i = 0; i < count; ++i) {
    const char* p = raw.data() + static_cast<std::size_t>(i) * size;
    switch (type) {
      case Proto::FLOAT:
        out.floats.push_back(load<float>(p));
        break;
      case Proto::DOUBLE:
        out.floats.push_back(load<double>(p));
        break;
      case Proto::FLOAT16:
        out.floats.push_back(halfToFloat(load<uint16_t>(p)));
        break;
      case Proto::BFLOAT16:
        out.floats.push_back(bfloat16ToFloat(load<uint16_t>(p)));
        break;
      case Proto::BOOL:
        out.ints.push_back(load<uint8_t>(p) != 0 ? 1 : 0);
        break;
      case Proto::INT8:
        out.ints.push_back(load<int8_t>(p));
        break;
      case Proto::UINT8:
        out.ints.push_back(load<uint8_t>(p));
        break;
      case Proto::INT16:
        out.ints.push_back(load<int16_t>(p));
        break;
      case Proto::UINT16:
        out.ints.push_back(load<uint16_t>(p));
        break;
      case Proto::INT32:
        out.ints.push_back(load<int32_t>(p));
        break;
      case Proto::UINT32:
        out.ints.push_back(load<uint32_t>(p));
        break;
      case Proto::INT64:
        out.ints.push_back(load<int64_t>(p));
        break;
      case Proto::UINT64:
        out.ints.push_back(static_cast<int64_t>(load<uint64_t>(p)));
        break;
      default:
        break;
    }
  }
}

// The typed fields (float_data, int32_data, ...), as onnx.proto assigns them per type.
void decodeTyped(const Proto& proto, int32_t type, TestTensor& out) {
  switch (type) {
    case Proto::FLOAT:
      out.floats.assign(proto.float_data().begin(), proto.float_data().end());
      break;
    case Proto::DOUBLE:
      out.floats.assign(proto.double_data().begin(), proto.double_data().end());
      break;
    case Proto::FLOAT16:
      for (int32_t bits : proto.int32_data()) {
        out.floats.push_back(halfToFloat(static_cast<uint16_t>(bits)));
      }
      break;
    case Proto::BFLOAT16:
      for (int32_t bits : proto.int32_data()) {
        out.floats.push_back(bfloat16ToFloat(static_cast<uint16_t>(bits)));
      }
      break;
    case Proto::BOOL:
      for (int32_t v : proto.int32_data()) out.ints.push_back(v != 0 ? 1 : 0);
      break;
    case Proto::INT8:
    case Proto::UINT8:
    case Proto::INT16:
    case Proto::UINT16:
    case Proto::INT32:
      out.ints.assign(proto.int32_data().begin(), proto.int32_data().end());
      break;
    case Proto::INT64:
      out.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
      break;
    case Proto::UINT32:
    case Proto::UINT64:
      for (uint64_t v : proto.uint64_data()) out.ints.push_back(static_cast<int64_t>(v));
      break;
    default:
      break;
  }
}

std::string formatNumber(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

double elementAsDouble(const TestTensor& t, std::size_t i) {
  return t.isFloat ? t.floats[i] : static_cast<double>(t.ints[i]);
}

}  // namespace

std::string onnxTypeName(int32_t onnxType) {
  if (Proto::DataType_IsValid(onnxType)) {
    std::string name = Proto::DataType_Name(static_cast<Proto::DataType>(onnxType));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  return "type " + std::to_string(onnxType);
}

TestTensor readTensorFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Proto proto;
  if (!proto.ParseFromString(bytes)) {
    throw std::runtime_error(path.string() + " is not a TensorProto");
  }
  TestTensor out;
  out.name = proto.name();
  out.onnxType = proto.data_type();
  int64_t count = 1;
  for (int64_t d : proto.dims()) {
    out.dims.push_back(d);
    count *= d;
  }
  if (rawElementSize(out.onnxType) == 0) {
    throw std::runtime_error(path.string() + " holds " + onnxTypeName(out.onnxType) +
                             " elements, which have no numeric comparison here");
  }
  out.isFloat = isFloatType(out.onnxType);
  try {
    if (proto.has_raw_data()) {
      decodeRaw(proto.raw_data(), out.onnxType, count, out);
    } else {
      decodeTyped(proto, out.onnxType, out);
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
  if (out.count() != count) {
    throw std::runtime_error(path.string() + " holds " + std::to_string(out.count()) +
                             " values for shape " + shapeText(out.dims));
  }
  return out;
}

void adoptDeclaredType(TestTensor& tensor, int32_t declaredType) {
  if (declaredType != Proto::BFLOAT16 || tensor.onnxType != Proto::UINT16) return;
  tensor.onnxType = Proto::BFLOAT16;
  tensor.isFloat = true;
  for (int64_t bits : tensor.ints) {
    tensor.floats.push_back(bfloat16ToFloat(static_cast<uint16_t>(bits)));
  }
  tensor.ints.clear();
}

std::vector<std::byte> toEngineBytes(const TestTensor& tensor, DataType type) {
  const std::size_t n = static_cast<std::size_t>(tensor.count());
  // At least one byte, so a zero-size tensor still has an address to bind.
  std::vector<std::byte> bytes(std::max<std::size_t>(n * elementSize(type), 1));
  auto store = [&](std::size_t i, auto value) {
    std::memcpy(bytes.data() + i * sizeof(value), &value, sizeof(value));
  };
  for (std::size_t i = 0; i < n; ++i) {
    const double f = elementAsDouble(tensor, i);
    // Integer view of a float element, used only for integer engine types; NaN, inf and
    // out-of-range values have none (casting them is undefined behaviour).
    const bool representable = std::isfinite(f) && f >= -9.2e18 && f <= 9.2e18;
    const int64_t k =
        tensor.isFloat ? (representable ? static_cast<int64_t>(f) : 0) : tensor.ints[i];
    switch (type) {
      case DataType::kFLOAT:
        store(i, static_cast<float>(f));
        break;
      case DataType::kHALF:
        store(i, floatToHalf(static_cast<float>(f)));
        break;
      case DataType::kBF16:
        store(i, floatToBFloat16(static_cast<float>(f)));
        break;
      case DataType::kINT8:
        store(i, static_cast<int8_t>(k));
        break;
      case DataType::kUINT8:
        store(i, static_cast<uint8_t>(k));
        break;
      case DataType::kBOOL:
        store(i, static_cast<uint8_t>(tensor.isFloat ? f != 0 : k != 0));
        break;
      case DataType::kINT32:
        store(i, static_cast<int32_t>(k));
        break;
      case DataType::kINT64:
        store(i, k);
        break;
      case DataType::kINT16:
        store(i, static_cast<int16_t>(k));
        break;
      case DataType::kUINT16:
        store(i, static_cast<uint16_t>(k));
        break;
      case DataType::kUINT32:
        store(i, static_cast<uint32_t>(k));
        break;
      case DataType::kUINT64:
        store(i, static_cast<uint64_t>(k));
        break;
    }
  }
  return bytes;
}

TestTensor fromEngineBytes(std::span<const std::byte> bytes, DataType type, const Dims& dims) {
  TestTensor out;
  for (int32_t i = 0; i < dims.nbDims; ++i) out.dims.push_back(dims[i]);
  const int64_t n = std::max<int64_t>(volume(dims), 0);
  out.isFloat = type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kBF16;
  const char* p = reinterpret_cast<const char*>(bytes.data());
  for (int64_t i = 0; i < n; ++i) {
    const char* e = p + static_cast<std::size_t>(i) * elementSize(type);
    switch (type) {
      case DataType::kFLOAT:
        out.floats.push_back(load<float>(e));
        break;
      case DataType::kHALF:
        out.floats.push_back(halfToFloat(load<uint16_t>(e)));
        break;
      case DataType::kBF16:
        out.floats.push_back(bfloat16ToFloat(load<uint16_t>(e)));
        break;
      case DataType::kINT8:
        out.ints.push_back(load<int8_t>(e));
        break;
      case DataType::kUINT8:
        out.ints.push_back(load<uint8_t>(e));
        break;
      case DataType::kBOOL:
        out.ints.push_back(load<uint8_t>(e) != 0 ? 1 : 0);
        break;
      case DataType::kINT32:
        out.ints.push_back(load<int32_t>(e));
        break;
      case DataType::kINT64:
        out.ints.push_back(load<int64_t>(e));
        break;
      case DataType::kINT16:
        out.ints.push_back(load<int16_t>(e));
        break;
      case DataType::kUINT16:
        out.ints.push_back(load<uint16_t>(e));
        break;
      case DataType::kUINT32:
        out.ints.push_back(load<uint32_t>(e));
        break;
      case DataType::kUINT64:
        // Compared as the test files are read: the same 64 bits as int64.
        out.ints.push_back(static_cast<int64_t>(load<uint64_t>(e)));
        break;
    }
  }
  return out;
}

std::string shapeText(const std::vector<int64_t>& dims) {
  if (dims.empty()) return "scalar";
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += 'x';
    text += std::to_string(dims[i]);
  }
  return text;
}

std::string compareTensors(const TestTensor& actual, const TestTensor& expected,
                           const Tolerance& tolerance) {
  if (actual.dims != expected.dims) {
    return "shape mismatch: got " + shapeText(actual.dims) + ", expected " +
           shapeText(expected.dims);
  }
  const std::size_t n = static_cast<std::size_t>(expected.count());
  std::size_t wrong = 0;
  std::size_t worst = 0;
  double worstError = -1;
  for (std::size_t i = 0; i < n; ++i) {
    bool ok = false;
    double error = 0;
    if (expected.isFloat) {
      const double a = elementAsDouble(actual, i);
      const double b = expected.floats[i];
      if (std::isnan(b) || std::isnan(a)) {
        ok = std::isnan(a) && std::isnan(b);
        error = ok ? 0 : std::numeric_limits<double>::infinity();
      } else if (std::isinf(b) || std::isinf(a)) {
        ok = a == b;
        error = ok ? 0 : std::numeric_limits<double>::infinity();
      } else {
        error = std::abs(a - b);
        ok = error <= tolerance.atol + tolerance.rtol * std::abs(b);
      }
    } else if (actual.isFloat) {
      const double a = actual.floats[i];
      const double b = static_cast<double>(expected.ints[i]);
      ok = a == b;
      error = std::isnan(a) ? std::numeric_limits<double>::infinity() : std::abs(a - b);
    } else {
      ok = actual.ints[i] == expected.ints[i];
      error = std::abs(static_cast<double>(actual.ints[i]) - static_cast<double>(expected.ints[i]));
    }
    if (!ok) {
      ++wrong;
      if (error > worstError) {
        worstError = error;
        worst = i;
      }
    }
  }
  if (wrong == 0) return {};
  return "wrong values: " + std::to_string(wrong) + " of " + std::to_string(n) +
         " off, max error " + formatNumber(worstError) + " at index " + std::to_string(worst) +
         " (got " + formatNumber(elementAsDouble(actual, worst)) + ", expected " +
         formatNumber(elementAsDouble(expected, worst)) + ")";
}

}  // namespace kiln::conformance
