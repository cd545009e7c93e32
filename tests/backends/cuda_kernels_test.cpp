// kiln's own CUDA kernels (src/backends/cuda/*_kernels.cu) against the reference kernels: the
// pointwise chain (ElementWise, Activation, Unary, PointwiseChain), Pooling, Reduce, SoftMax,
// LayerNorm, Shuffle, Slice, Concatenation, Gather and Identity, on odd sizes, broadcasts,
// size-1 and empty dims, negative axes and non-float element types.
//
// Everywhere a build has the CUDA backend, each case checks that the named tactic supports
// (or declines) the node and instantiates; where a GPU is present it also runs the kernel and
// compares its output with the reference's (floats within 1e-4 + 1e-3 * |expected|, every other
// type exactly). The tensors are typed here (the shared checkTactics handles float32 only).
//
// Every float case (Identity aside) runs again with its float tensors in float16 and bfloat16:
// the tactic must support that node and reject it with one float tensor left float32; on a GPU
// the kernel's output must match the reference run on the same rounded inputs, rounded to the
// type, within about one unit in the last place.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/device.h"
#include "backends/tactic.h"
#include "core/half.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/pointwise_chain.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

struct TypedInput {
  DataType type = DataType::kFLOAT;
  Dims dims;
  std::vector<std::byte> bytes;
  bool constant = false;
  bool present = true;
};

Dims shape(std::initializer_list<int64_t> extents) {
  Dims d;
  for (int64_t e : extents) d[d.nbDims++] = e;
  return d;
}

template <typename T>
TypedInput typed(DataType type, const Dims& dims, const std::vector<T>& values,
                 bool constant = false) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), volume(dims));
  TypedInput in{type, dims, std::vector<std::byte>(values.size() * sizeof(T)), constant, true};
  if (!values.empty()) std::memcpy(in.bytes.data(), values.data(), in.bytes.size());
  return in;
}

TypedInput floats(const Dims& dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return typed(DataType::kFLOAT, dims, randomFloats(volume(dims), seed, lo, hi));
}

TypedInput absent() {
  TypedInput in;
  in.present = false;
  return in;
}

// Distinct small integers as elements of @p type (any size), so misplaced bytes show.
TypedInput pattern(DataType type, const Dims& dims) {
  const std::size_t size = elementSize(type);
  TypedInput in{type, dims, std::vector<std::byte>(static_cast<std::size_t>(volume(dims)) * size)};
  for (std::size_t i = 0; i < in.bytes.size(); ++i) {
    in.bytes[i] = static_cast<std::byte>((i * 37 + i / size * 11 + 1) % 251);
  }
  return in;
}

std::vector<float> asFloats(const std::vector<std::byte>& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Runs @p kernel on the GPU with @p inputs in device memory; the output starts poisoned.
std::vector<std::byte> runOnGpu(const backends::Kernel& kernel, const ir::Node& node,
                                const std::vector<TypedInput>& inputs, const ir::TensorInfo& out) {
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  std::vector<backends::DeviceBuffer> buffers;
  std::vector<ir::TensorView> views;
  for (const auto& in : inputs) {
    buffers.emplace_back(gpu, std::max<std::size_t>(in.bytes.size(), 16));
    gpu.copyAsync(buffers.back().data(), in.bytes.data(), in.bytes.size(),
                  backends::CopyKind::kHostToDevice, nullptr);
    views.push_back({in.type, in.dims, buffers.back().data(), in.present});
  }
  const std::size_t outBytes = static_cast<std::size_t>(volume(out.dims)) * elementSize(out.dtype);
  std::vector<std::byte> result(outBytes, std::byte{0xA5});
  backends::DeviceBuffer outBuffer(gpu, std::max<std::size_t>(outBytes, 16));
  gpu.copyAsync(outBuffer.data(), result.data(), outBytes, backends::CopyKind::kHostToDevice,
                nullptr);
  backends::DeviceBuffer workspace(gpu, kernel.workspaceBytes());
  backends::DeviceBuffer hostWorkspace(gpu, kernel.hostWorkspaceBytes(), /*host=*/true);
  const ir::TensorView outView{out.dtype, out.dims, outBuffer.data(), true};
  const ir::KernelContext ctx{node,
                              views,
                              std::span<const ir::TensorView>(&outView, 1),
                              workspace.data(),
                              workspace.size(),
                              nullptr,
                              nullptr,
                              hostWorkspace.data(),
                              nullptr};
  kernel.execute(ctx);
  gpu.copyAsync(result.data(), outBuffer.data(), outBytes, backends::CopyKind::kDeviceToHost,
                nullptr);
  gpu.synchronize(nullptr);
  return result;
}

// --- float16 / bfloat16 ------------------------------------------------------------------------

bool isReduced(DataType type) {
  return type == DataType::kHALF || type == DataType::kBF16;
}

uint16_t encode(float v, DataType type) {
  return type == DataType::kHALF ? floatToHalf(v) : floatToBFloat16(v);
}

float decode(uint16_t v, DataType type) {
  return type == DataType::kHALF ? halfToFloat(v) : bfloat16ToFloat(v);
}

// float32 bytes as @p type's (float16 or bfloat16) bytes.
std::vector<std::byte> toReduced(const std::vector<std::byte>& bytes, DataType type) {
  std::vector<std::byte> out(bytes.size() / 2);
  for (std::size_t i = 0; i < bytes.size() / 4; ++i) {
    float v = 0.f;
    std::memcpy(&v, bytes.data() + i * 4, 4);
    const uint16_t r = encode(v, type);
    std::memcpy(out.data() + i * 2, &r, 2);
  }
  return out;
}

// Elements of any float type as float32 values.
std::vector<float> decodeFloats(const std::vector<std::byte>& bytes, DataType type) {
  if (type == DataType::kFLOAT) return asFloats(bytes);
  std::vector<float> values(bytes.size() / 2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    uint16_t r = 0;
    std::memcpy(&r, bytes.data() + i * 2, 2);
    values[i] = decode(r, type);
  }
  return values;
}

std::vector<std::byte> fromFloats(const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// The reference kernel's output bytes for @p node.
std::vector<std::byte> runReference(const ir::Node& node, const std::vector<TypedInput>& inputs,
                                    const ir::TensorInfo& out) {
  std::vector<ir::TensorView> views;
  for (const auto& in : inputs) {
    views.push_back({in.type, in.dims, const_cast<std::byte*>(in.bytes.data()), in.present});
  }
  const std::size_t outBytes = static_cast<std::size_t>(volume(out.dims)) * elementSize(out.dtype);
  std::vector<std::byte> result(outBytes + 16);
  const ir::TensorView outView{out.dtype, out.dims, result.data(), true};
  ir::OpRegistry::instance().get(node.op).reference(
      ir::KernelContext{node, views, std::span<const ir::TensorView>(&outView, 1), nullptr, 0});
  result.resize(outBytes);
  return result;
}

// The float16 / bfloat16 variants of a supported float32 case (see the file comment).
void checkReduced(const ir::Node& node, const std::vector<TypedInput>& inputs,
                  const std::vector<ir::TensorInfo>& infos,
                  const std::vector<ir::TensorInfo>& outInfos, const backends::Tactic& tactic) {
  bool anyFloat = outInfos[0].dtype == DataType::kFLOAT;
  for (const auto& info : infos)
    anyFloat = anyFloat || (info.present && info.dtype == DataType::kFLOAT);
  if (!anyFloat) return;
  for (DataType type : {DataType::kHALF, DataType::kBF16}) {
    SCOPED_TRACE(toString(type));
    // Inputs of the type, and float32 inputs holding exactly the same values.
    std::vector<TypedInput> reduced = inputs;
    std::vector<TypedInput> rounded = inputs;
    std::vector<ir::TensorInfo> rInfos = infos;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].present || inputs[i].type != DataType::kFLOAT) continue;
      reduced[i].type = type;
      reduced[i].bytes = toReduced(inputs[i].bytes, type);
      rounded[i].bytes = fromFloats(decodeFloats(reduced[i].bytes, type));
      rInfos[i].dtype = type;
      if (rInfos[i].constData != nullptr) rInfos[i].constData = reduced[i].bytes.data();
    }
    std::vector<ir::TensorInfo> rOutInfos = outInfos;
    if (rOutInfos[0].dtype == DataType::kFLOAT) rOutInfos[0].dtype = type;
    const backends::NodeSpec spec{node, rInfos, rOutInfos};
    ASSERT_TRUE(tactic.supports(spec));
    const auto kernel = tactic.instantiate(spec);
    ASSERT_NE(kernel, nullptr);

    // One float tensor left float32: the kernels take one float type per node.
    std::vector<ir::TensorInfo> mixedInfos = rInfos;
    std::vector<ir::TensorInfo> mixedOutInfos = rOutInfos;
    std::size_t reducedInputs = 0;
    for (const auto& info : rInfos) reducedInputs += info.present && info.dtype == type ? 1 : 0;
    if (mixedOutInfos[0].dtype == type) {
      mixedOutInfos[0].dtype = DataType::kFLOAT;
    } else if (reducedInputs >= 2) {
      for (auto& info : mixedInfos) {
        if (info.present && info.dtype == type) {
          info.dtype = DataType::kFLOAT;
          break;
        }
      }
    }
    if (mixedOutInfos[0].dtype != rOutInfos[0].dtype || reducedInputs >= 2) {
      EXPECT_FALSE(tactic.supports(backends::NodeSpec{node, mixedInfos, mixedOutInfos}))
          << "mixed float types";
    }

    if (!backends::gpuPresent()) continue;
    const std::vector<std::byte> expected = runReference(node, rounded, outInfos[0]);
    const std::vector<std::byte> actual = runOnGpu(*kernel, node, reduced, rOutInfos[0]);
    if (rOutInfos[0].dtype == type) {
      // The reference's float32 output rounded to the type: kernel and reference may land one
      // unit apart where they differ in the last bits of float32.
      const std::vector<float> want = decodeFloats(toReduced(expected, type), type);
      const double rtol = type == DataType::kHALF ? 2e-3 : 1.6e-2;
      const double atol = type == DataType::kHALF ? 1e-4 : 1e-3;
      expectClose(decodeFloats(actual, type), want, atol, rtol,
                  node.op + " " + std::string(tactic.name()));
    } else {
      ASSERT_EQ(actual, expected);
    }
  }
}

struct Options {
  bool supported = true;                    //!< what the tactic's supports() must answer
  std::optional<DataType> outputType = {};  //!< Identity's requested output type
};

// Checks CUDA tactic @p tactic of @p op on one node (see the file comment).
void check(const std::string& op, const ir::Attributes& attrs,
           const std::vector<TypedInput>& inputs, const std::string& tactic, Options options = {}) {
  SCOPED_TRACE(op + " / " + tactic);
  ir::Node node;
  node.name = "node";
  node.op = op;
  node.attrs = attrs;
  if (options.outputType) node.outputTypes = {options.outputType};
  std::vector<ir::TensorInfo> infos;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i].present ? static_cast<ir::ValueId>(i) : ir::kNoValue);
    ir::TensorInfo info;
    info.present = inputs[i].present;
    info.dtype = inputs[i].type;
    info.dims = inputs[i].dims;
    // An empty constant still has values (none): its data pointer must not be null.
    static const std::byte kNoValues[8] = {};
    const void* data = inputs[i].bytes.empty() ? kNoValues : inputs[i].bytes.data();
    info.constData = inputs[i].present && inputs[i].constant ? data : nullptr;
    infos.push_back(info);
  }
  node.outputs.push_back(static_cast<ir::ValueId>(inputs.size()));
  std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infos);
  if (options.outputType) outInfos[0].dtype = *options.outputType;
  const ir::TensorInfo& out = outInfos[0];

  const std::vector<std::byte> expected = runReference(node, inputs, out);

  if (backends::deviceRuntime(DeviceType::kGPU) == nullptr) return;  // no CUDA backend built
  const backends::Tactic* t = backends::TacticRegistry::instance().find(op, tactic);
  ASSERT_NE(t, nullptr) << "no tactic " << tactic << " for " << op;
  const backends::NodeSpec spec{node, infos, outInfos};
  ASSERT_EQ(t->supports(spec), options.supported);
  if (!options.supported) return;
  const auto kernel = t->instantiate(spec);
  ASSERT_NE(kernel, nullptr);
  if (op != "Identity") checkReduced(node, inputs, infos, outInfos, *t);
  if (!backends::gpuPresent()) return;
  const auto actual = runOnGpu(*kernel, node, inputs, out);
  if (out.dtype == DataType::kFLOAT) {
    expectClose(asFloats(actual), asFloats(expected), 1e-4, 1e-3, op + " " + tactic);
  } else if (isReduced(out.dtype) && inputs[0].type != out.dtype) {
    // A cast: NaN's payload is the hardware's, so compare values (NaN matching NaN).
    expectClose(decodeFloats(actual, out.dtype), decodeFloats(expected, out.dtype), 0.0, 0.0,
                op + " " + tactic);
  } else {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      ASSERT_EQ(static_cast<int>(actual[i]), static_cast<int>(expected[i]))
          << "byte " << i << " of " << actual.size();
    }
  }
}

// --- pointwise ---------------------------------------------------------------------------------

TEST(CudaPointwise, EveryActivation) {
  for (int32_t type = 0; type <= static_cast<int32_t>(ActivationType::kHARD_SWISH); ++type) {
    for (const Dims& d : {shape({3, 5, 7}), shape({0, 4}), shape({70001}), shape({})}) {
      ir::Attributes a;
      a.set("type", int64_t{type});
      if (type == static_cast<int32_t>(ActivationType::kCLIP)) {
        a.set("alpha", -0.5);
        a.set("beta", 0.75);
      }
      check("Activation", a, {floats(d, 3 + static_cast<uint32_t>(type), -4.f, 4.f)},
            "cuda.activation");
    }
  }
  // NaN and infinities through the activations that treat them specially.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> special = {nan, inf, -inf, 0.f, -0.f, 100.f, -100.f};
  for (auto type : {ActivationType::kRELU, ActivationType::kCLIP, ActivationType::kSIGMOID,
                    ActivationType::kSOFTPLUS, ActivationType::kHARD_SIGMOID}) {
    ir::Attributes a;
    a.set("type", type);
    check("Activation", a, {typed(DataType::kFLOAT, shape({7}), special)}, "cuda.activation");
  }
}

TEST(CudaPointwise, EveryFloatUnary) {
  for (int32_t op = 0; op <= static_cast<int32_t>(UnaryOperation::kISNAN); ++op) {
    const auto u = static_cast<UnaryOperation>(op);
    float lo = -3.f;
    float hi = 3.f;
    if (u == UnaryOperation::kLOG || u == UnaryOperation::kSQRT) lo = 0.01f;
    if (u == UnaryOperation::kASIN || u == UnaryOperation::kACOS || u == UnaryOperation::kATANH) {
      lo = -0.99f;
      hi = 0.99f;
    }
    if (u == UnaryOperation::kACOSH) lo = 1.f;
    if (u == UnaryOperation::kRECIP) lo = 0.1f;
    ir::Attributes a;
    a.set("op", u);
    if (u == UnaryOperation::kNOT) {
      check("Unary", a, {typed<uint8_t>(DataType::kBOOL, shape({3}), {0, 1, 2})}, "cuda.unary",
            {.supported = false});
      continue;
    }
    check("Unary", a, {floats(shape({4, 33}), 7 + static_cast<uint32_t>(op), lo, hi)},
          "cuda.unary");
  }
  // ROUND is half to even; ISINF and ISNAN write bool.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, nan, inf, -inf, 3.f};
  for (auto op : {UnaryOperation::kROUND, UnaryOperation::kISINF, UnaryOperation::kISNAN,
                  UnaryOperation::kSIGN}) {
    ir::Attributes a;
    a.set("op", op);
    check("Unary", a, {typed(DataType::kFLOAT, shape({9}), values)}, "cuda.unary");
  }
  // int32 ABS is the host fallback's.
  ir::Attributes a;
  a.set("op", UnaryOperation::kABS);
  check("Unary", a, {typed<int32_t>(DataType::kINT32, shape({2}), {-3, 4})}, "cuda.unary",
        {.supported = false});
}

TEST(CudaPointwise, ElementWiseBroadcasts) {
  const std::pair<Dims, Dims> shapes[] = {
      {shape({2, 3, 5}), shape({2, 3, 5})}, {shape({2, 3, 5}), shape({1})},
      {shape({1}), shape({4, 3})},          {shape({2, 6, 4, 5}), shape({1, 6, 1, 1})},
      {shape({3, 1, 7}), shape({1, 4, 1})}, {shape({0, 3}), shape({1, 3})},
      {shape({40001}), shape({40001})},     {shape({300, 129}), shape({129})},
      {shape({}), shape({2, 1, 3})},        {shape({5, 1}), shape({1, 1, 6})},
  };
  uint32_t seed = 1;
  for (int32_t op : {0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    for (const auto& [da, db] : shapes) {
      ir::Attributes attrs;
      attrs.set("op", int64_t{op});
      TypedInput a = floats(da, seed++, -3.f, 3.f);
      TypedInput b = floats(db, seed++, -3.f, 3.f);
      if (op == static_cast<int32_t>(ElementWiseOperation::kPOW)) {
        a = floats(da, seed++, 0.1f, 2.f);  // positive bases keep the results real
      }
      check("ElementWise", attrs, {a, b}, "cuda.elementwise");
    }
  }
  // Equal values for EQUAL, NaN for MAX / MIN, signed zeros for MOD.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> a = {1.f, nan, -2.f, 0.f, 5.f, -5.f, 6.f};
  const std::vector<float> b = {1.f, 2.f, nan, -3.f, 3.f, 3.f, -3.f};
  for (int32_t op : {2, 3, 11, 12, 13, 14, 15, 7}) {
    ir::Attributes attrs;
    attrs.set("op", int64_t{op});
    check("ElementWise", attrs,
          {typed(DataType::kFLOAT, shape({7}), a), typed(DataType::kFLOAT, shape({7}), b)},
          "cuda.elementwise");
  }
  // Logical ops on bool and int32 arithmetic are the host fallback's.
  ir::Attributes logical;
  logical.set("op", ElementWiseOperation::kAND);
  check("ElementWise", logical,
        {typed<uint8_t>(DataType::kBOOL, shape({2}), {0, 1}),
         typed<uint8_t>(DataType::kBOOL, shape({2}), {1, 1})},
        "cuda.elementwise", {.supported = false});
  ir::Attributes sum;
  sum.set("op", ElementWiseOperation::kSUM);
  check("ElementWise", sum,
        {typed<int32_t>(DataType::kINT32, shape({2}), {1, 2}),
         typed<int32_t>(DataType::kINT32, shape({2}), {3, 4})},
        "cuda.elementwise", {.supported = false});
}

ir::Attributes step(const char* key, int64_t value) {
  ir::Attributes a;
  a.set(key, value);
  return a;
}

TEST(CudaPointwise, Chains) {
  // x [2,1,5] + b [3,1] -> gelu -> c [5] / . -> exp: the running value grows by broadcasting.
  {
    ir::Attributes chain;
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 0), 1, false);
    ops::appendPointwiseStep(chain, "Activation", step("type", 12), -1, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 5), 2, true);
    ops::appendPointwiseStep(chain, "Unary", step("op", 13), -1, false);  // atan
    check("PointwiseChain", chain,
          {floats(shape({2, 1, 5}), 1), floats(shape({3, 1}), 2), floats(shape({5}), 3, 0.5f, 2.f)},
          "cuda.pointwise_chain");
  }
  // Same-shape operands (the flat path) with a scalar, several steps on one operand.
  {
    ir::Attributes chain;
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 1), 1, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 4), 2, true);
    ops::appendPointwiseStep(chain, "Activation", step("type", 1), -1, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 0), 1, false);
    ir::Attributes leaky = step("type", 3);
    leaky.set("alpha", 0.2);
    ops::appendPointwiseStep(chain, "Activation", leaky, -1, false);
    for (const Dims& d : {shape({7, 9, 11}), shape({0, 5}), shape({1})}) {
      check("PointwiseChain", chain, {floats(d, 4), floats(d, 5), floats(shape({1}), 6)},
            "cuda.pointwise_chain");
    }
  }
  // A chain ending in a comparison writes bool.
  {
    ir::Attributes chain;
    ops::appendPointwiseStep(chain, "Activation", step("type", 2), -1, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 12), 1, false);
    check("PointwiseChain", chain, {floats(shape({4, 6}), 7), floats(shape({4, 1}), 8)},
          "cuda.pointwise_chain");
  }
  // Every input of a chain may broadcast, the first one too.
  {
    ir::Attributes chain;
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 0), 1, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 1), 2, false);
    ops::appendPointwiseStep(chain, "ElementWise", step("op", 4), 3, true);
    check("PointwiseChain", chain,
          {floats(shape({1, 3, 1}), 9), floats(shape({2, 1, 1}), 10), floats(shape({4}), 11),
           floats(shape({2, 3, 4}), 12)},
          "cuda.pointwise_chain");
  }
}

// --- pooling, reductions -------------------------------------------------------------------------

TEST(CudaPooling, WindowsAndPadding) {
  struct Case {
    Dims x;
    PoolingType type;
    Dims window, stride, pre, post;
    bool exclude;
    PaddingMode mode;
  };
  const Case cases[] = {
      {shape({1, 3, 11, 13}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({1, 1}),
       shape({1, 1}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({2, 2, 10, 9}), PoolingType::kAVERAGE, shape({3, 2}), shape({2, 1}), shape({1, 0}),
       shape({2, 1}), false, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({2, 2, 10, 9}), PoolingType::kAVERAGE, shape({3, 3}), shape({2, 3}), shape({1, 1}),
       shape({1, 1}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 5, 7, 7}), PoolingType::kAVERAGE, shape({7, 7}), shape({1, 1}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({1, 4, 9}), PoolingType::kMAX, shape({2}), shape({2}), shape({0}), shape({0}), true,
       PaddingMode::kSAME_UPPER},
      {shape({1, 4, 9}), PoolingType::kAVERAGE, shape({4}), shape({3}), shape({0}), shape({0}),
       false, PaddingMode::kSAME_LOWER},
      {shape({0, 4, 5, 5}), PoolingType::kMAX, shape({2, 2}), shape({2, 2}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({2, 3, 5, 6, 7}), PoolingType::kMAX_AVERAGE_BLEND, shape({2, 3, 2}), shape({2, 2, 1}),
       shape({1, 1, 0}), shape({0, 1, 1}), false, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 2, 56, 56}), PoolingType::kAVERAGE, shape({56, 56}), shape({1, 1}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    ir::Attributes a;
    a.set("type", c.type);
    a.set("window", c.window);
    a.set("stride", c.stride);
    a.set("pre_padding", c.pre);
    a.set("post_padding", c.post);
    a.set("exclude_padding", c.exclude);
    a.set("padding_mode", c.mode);
    if (c.type == PoolingType::kMAX_AVERAGE_BLEND) a.set("blend_factor", 0.3);
    check("Pooling", a, {floats(c.x, seed++)}, "cuda.pooling");
  }
  // NaN propagates through max pooling.
  ir::Attributes a;
  a.set("type", PoolingType::kMAX);
  a.set("window", shape({2, 2}));
  a.set("stride", shape({2, 2}));
  TypedInput x = floats(shape({1, 1, 4, 4}), 3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(x.bytes.data() + 5 * sizeof(float), &nan, sizeof(float));
  check("Pooling", a, {x}, "cuda.pooling");
}

TEST(CudaReduce, AxesAndOperations) {
  const Dims d = shape({2, 3, 4, 5});
  for (int64_t op = 0; op <= 4; ++op) {
    for (int64_t axes : {1, 2, 4, 8, 6, 9, 5, 15, 10}) {
      for (int64_t keep : {0, 1}) {
        ir::Attributes a;
        a.set("op", op);
        a.set("axes", axes);
        a.set("keep_dims", keep);
        check("Reduce", a, {floats(d, static_cast<uint32_t>(op * 100 + axes), 0.5f, 1.5f)},
              "cuda.reduce");
      }
    }
  }
  // Long contiguous rows (warp and block paths), strided columns, an innermost reduced dim
  // beside a strided one, and an empty reduced dim (identities; AVG gives NaN).
  const std::pair<Dims, int64_t> shapes[] = {
      {shape({3, 5000}), 2},   {shape({7, 300}), 2},        {shape({300, 7}), 1},
      {shape({5, 6, 100}), 5}, {shape({3, 0, 4}), 2},       {shape({1, 1, 9}), 4},
      {shape({65, 70}), 3},    {shape({2, 3, 1, 200}), 10},
  };
  for (const auto& [dims, axes] : shapes) {
    for (int64_t op = 0; op <= 4; ++op) {
      ir::Attributes a;
      a.set("op", op);
      a.set("axes", axes);
      a.set("keep_dims", int64_t{1});
      check("Reduce", a, {floats(dims, 17, op == 1 ? 0.9f : -1.f, op == 1 ? 1.1f : 1.f)},
            "cuda.reduce");
    }
  }
  // ONNX axes as a constant input (negative from the end), and empty axes as a no-op copy.
  ir::Attributes a;
  a.set("op", ReduceOperation::kSUM);
  a.set("keep_dims", int64_t{0});
  check("Reduce", a,
        {floats(shape({4, 6, 3}), 5), typed<int32_t>(DataType::kINT32, shape({1}), {-2}, true)},
        "cuda.reduce");
  a.set("noop_with_empty_axes", int64_t{1});
  check("Reduce", a,
        {floats(shape({4, 6}), 5), typed<int64_t>(DataType::kINT64, shape({0}), {}, true)},
        "cuda.reduce");
  // int32 reductions are the host fallback's.
  ir::Attributes i;
  i.set("op", ReduceOperation::kSUM);
  i.set("axes", int64_t{1});
  check("Reduce", i, {typed<int32_t>(DataType::kINT32, shape({2}), {1, 2})}, "cuda.reduce",
        {.supported = false});
}

TEST(CudaSoftMax, Axes) {
  const Dims d = shape({2, 3, 5, 7});
  for (int64_t axis : {0, 1, 2, 3, -1, -3}) {
    ir::Attributes a;
    a.set("axis", axis);
    check("SoftMax", a, {floats(d, 5, -8.f, 8.f)}, "cuda.softmax");
  }
  ir::Attributes a;
  a.set("axis", int64_t{1});
  for (const Dims& dims :
       {shape({0, 4}), shape({3, 1000}), shape({2, 3000}), shape({5, 1}), shape({4, 0})}) {
    check("SoftMax", a, {floats(dims, 1, -30.f, 30.f)}, "cuda.softmax");
  }
  check("SoftMax", ir::Attributes{}, {floats(shape({2, 3, 4, 5}), 9)}, "cuda.softmax");
}

TEST(CudaLayerNorm, RowsAndAffine) {
  struct Case {
    Dims x;
    int64_t axis;
    bool gamma, beta;
  };
  const Case cases[] = {
      {shape({4, 7, 33}), 2, true, true},
      {shape({4, 7, 33}), 1, true, true},
      {shape({3, 2000}), 1, true, true},
      {shape({5, 16}), 1, false, false},
      {shape({5, 16}), 1, true, false},
      {shape({0, 8}), 1, true, true},
      {shape({6, 1}), 1, true, true},
      {shape({2, 3, 4}), 0, true, true},
      // Rows of whole 16-byte words run from registers (1 to 8 words per lane).
      {shape({9, 768}), 1, true, true},
      {shape({3, 2, 64}), 2, false, true},
      {shape({5, 4096}), 1, true, true},
      {shape({4, 40}), 1, true, false},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    Dims norm;
    for (int32_t i = static_cast<int32_t>(c.axis); i < c.x.nbDims; ++i)
      norm[norm.nbDims++] = c.x[i];
    ir::Attributes a;
    a.set("axis", c.axis);
    a.set("epsilon", 1e-5);
    std::vector<TypedInput> inputs = {floats(c.x, seed++, -2.f, 3.f)};
    inputs.push_back(c.gamma ? floats(norm, seed++) : absent());
    inputs.push_back(c.beta ? floats(norm, seed++) : absent());
    check("LayerNorm", a, inputs, "cuda.layer_norm");
  }
}

// --- data movement -----------------------------------------------------------------------------

// NCHW to NHWC with the channels zero-padded (the channels-last layout's padded entry): words of
// 16 bytes where the padded channels fill them, elements otherwise.
TEST(CudaDataMovement, PadToChannelsLast) {
  uint32_t seed = 60;
  for (const auto& [x, channels] :
       {std::pair{shape({2, 3, 5, 7}), int64_t{8}}, std::pair{shape({1, 3, 4, 4}), int64_t{4}},
        std::pair{shape({3, 5, 2, 3}), int64_t{7}}, std::pair{shape({2, 8, 3, 3}), int64_t{8}}}) {
    ir::Attributes a;
    a.set("channels", channels);
    check("PadToChannelsLast", a, {floats(x, seed++)}, "cuda.pad_to_channels_last");
  }
}

TEST(CudaDataMovement, Shuffle) {
  struct Case {
    Dims x;
    std::vector<int64_t> first, reshape, second;
  };
  const Case cases[] = {
      {shape({2, 3, 4, 5}), {0, 2, 1, 3}, {}, {}},
      {shape({2, 3, 4, 5}), {}, {6, 20}, {1, 0}},
      {shape({2, 3, 4, 5}), {3, 1, 0, 2}, {5, 0, -1}, {2, 0, 1}},
      {shape({2, 3, 4, 5}), {}, {4, 30}, {}},
      {shape({7, 1, 9}), {2, 1, 0}, {}, {}},
      {shape({0, 3, 2}), {1, 0, 2}, {}, {}},
      {shape({1, 1}), {1, 0}, {}, {}},
      {shape({2, 3, 2, 2, 2, 3, 2, 2}), {7, 6, 5, 4, 3, 2, 1, 0}, {}, {}},
      // NCHW <-> NHWC (the tiled transpose), planes smaller and larger than its 32 x 32 tiles.
      {shape({3, 40, 7, 9}), {0, 2, 3, 1}, {}, {}},
      {shape({2, 9, 5, 70}), {0, 3, 1, 2}, {}, {}},
      {shape({33, 65}), {1, 0}, {}, {}},
      // Attention's head split: the last dimension stays (moved as 16-byte words).
      {shape({2, 5, 48}), {}, {2, 5, 3, 16}, {0, 2, 1, 3}},
  };
  for (DataType type : {DataType::kFLOAT, DataType::kINT8, DataType::kHALF, DataType::kINT64}) {
    for (const auto& c : cases) {
      ir::Attributes a;
      if (!c.first.empty()) a.set("first_perm", c.first);
      if (!c.reshape.empty()) a.set("reshape", c.reshape);
      if (!c.second.empty()) a.set("second_perm", c.second);
      check("Shuffle", a, {pattern(type, c.x)}, "cuda.shuffle");
    }
  }
}

TEST(CudaDataMovement, Slice) {
  struct Case {
    Dims x;
    std::vector<int64_t> start, size, stride;
  };
  const Case cases[] = {
      {shape({5, 7}), {1, 2}, {3, 4}, {}},
      {shape({5, 7}), {4, 6}, {3, 4}, {-1, -2}},
      {shape({5, 7}), {2, 0}, {4, 7}, {0, 1}},
      {shape({2, 3, 9}), {0, 0, 1}, {2, 3, 4}, {1, 1, 2}},
      {shape({2, 3, 9}), {0, 1, 0}, {2, 2, 9}, {}},
      {shape({4, 4}), {0, 0}, {0, 4}, {}},
      {shape({6}), {5}, {6}, {-1}},
  };
  for (DataType type : {DataType::kFLOAT, DataType::kUINT8, DataType::kINT64, DataType::kBF16}) {
    for (const auto& c : cases) {
      ir::Attributes a;
      a.set("start", c.start);
      a.set("size", c.size);
      if (!c.stride.empty()) a.set("stride", c.stride);
      check("Slice", a, {pattern(type, c.x)}, "cuda.slice");
    }
  }
  // ONNX bounds: clamped ends, negative starts and steps, named axes.
  ir::Attributes onnx;
  onnx.set("onnx_bounds", int64_t{1});
  check("Slice", onnx,
        {floats(shape({6, 8}), 1), typed<int64_t>(DataType::kINT64, shape({2}), {-1, 1}, true),
         typed<int64_t>(DataType::kINT64, shape({2}), {-100, 1000}, true),
         typed<int32_t>(DataType::kINT32, shape({2}), {0, -1}, true),
         typed<int64_t>(DataType::kINT64, shape({2}), {-2, 3}, true)},
        "cuda.slice");
  check("Slice", onnx,
        {floats(shape({6, 8}), 2), typed<int32_t>(DataType::kINT32, shape({1}), {2}, true),
         typed<int32_t>(DataType::kINT32, shape({1}), {5}, true)},
        "cuda.slice");
}

TEST(CudaDataMovement, Concatenation) {
  struct Case {
    std::vector<Dims> inputs;
    int64_t axis;
  };
  const Case cases[] = {
      {{shape({2, 3}), shape({5, 3}), shape({1, 3})}, 0},
      {{shape({2, 3, 4}), shape({2, 1, 4}), shape({2, 0, 4}), shape({2, 5, 4})}, 1},
      {{shape({3, 5}), shape({3, 3})}, -1},
      {{shape({2, 4, 8}), shape({2, 4, 8})}, 2},
      {{shape({7})}, 0},
  };
  for (DataType type : {DataType::kFLOAT, DataType::kINT8, DataType::kHALF}) {
    for (const auto& c : cases) {
      ir::Attributes a;
      a.set("axis", c.axis);
      std::vector<TypedInput> inputs;
      for (const Dims& d : c.inputs) inputs.push_back(pattern(type, d));
      check("Concatenation", a, inputs, "cuda.concatenation");
    }
  }
}

TEST(CudaDataMovement, Gather) {
  // Embedding rows (axis 0, negative indices), a middle axis, int64 indices, a scalar index,
  // batch dims, one-byte data.
  ir::Attributes axis0;
  check("Gather", axis0,
        {floats(shape({10, 16}), 1),
         typed<int32_t>(DataType::kINT32, shape({2, 3}), {0, 9, -1, 3, -10, 5})},
        "cuda.gather");
  ir::Attributes axis1;
  axis1.set("axis", int64_t{1});
  check(
      "Gather", axis1,
      {floats(shape({3, 5, 4}), 2), typed<int64_t>(DataType::kINT64, shape({2, 2}), {4, 0, -2, 1})},
      "cuda.gather");
  ir::Attributes last;
  last.set("axis", int64_t{-1});
  check(
      "Gather", last,
      {pattern(DataType::kINT8, shape({3, 7})), typed<int32_t>(DataType::kINT32, shape({}), {-3})},
      "cuda.gather");
  ir::Attributes batch;
  batch.set("axis", int64_t{1});
  batch.set("num_elementwise_dims", int64_t{1});
  check("Gather", batch,
        {floats(shape({2, 5, 3}), 3),
         typed<int32_t>(DataType::kINT32, shape({2, 4}), {0, 1, 4, 4, 3, 2, 1, 0})},
        "cuda.gather");
  check("Gather", axis0,
        {floats(shape({4, 6}), 4), typed<int32_t>(DataType::kINT32, shape({0}), {})},
        "cuda.gather");
  // Constant indices.
  check(
      "Gather", axis1,
      {floats(shape({3, 5, 4}), 5), typed<int32_t>(DataType::kINT32, shape({3}), {1, 1, -5}, true)},
      "cuda.gather");
  // 2-byte rows: 12 bytes move as 4-byte words, 10 bytes as 2-byte ones.
  for (int64_t width : {6, 5}) {
    check("Gather", axis0,
          {pattern(DataType::kHALF, shape({10, width})),
           typed<int32_t>(DataType::kINT32, shape({4}), {9, 0, -1, 4})},
          "cuda.gather");
  }
  // GatherElements is the host fallback's.
  ir::Attributes element;
  element.set("mode", GatherMode::kELEMENT);
  check("Gather", element,
        {floats(shape({2, 2}), 6), typed<int32_t>(DataType::kINT32, shape({2, 2}), {0, 1, 1, 0})},
        "cuda.gather", {.supported = false});
}

TEST(CudaDataMovement, IdentityCopiesAndCasts) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {0.f,    -0.f, 1.5f,  -1.5f, 2.7f, -2.7f, 300.f,
                                     -300.f, 3e9f, -3e9f, nan,   inf,  -inf,  1e20f};
  const TypedInput f = typed(DataType::kFLOAT, shape({2, 7}), values);
  check("Identity", {}, {f}, "cuda.identity");
  check("Identity", {}, {pattern(DataType::kHALF, shape({3, 5}))}, "cuda.identity");
  for (DataType to :
       {DataType::kINT32, DataType::kINT64, DataType::kBOOL, DataType::kINT8, DataType::kUINT8}) {
    check("Identity", {}, {f}, "cuda.identity", {.outputType = to});
  }
  const TypedInput i32 =
      typed<int32_t>(DataType::kINT32, shape({6}), {0, -1, 300, -300, 2147483647, -2147483647 - 1});
  const TypedInput i64 = typed<int64_t>(
      DataType::kINT64, shape({5}),
      {int64_t{1} << 40, -(int64_t{1} << 40), 7, -7, std::numeric_limits<int64_t>::min()});
  const TypedInput b = typed<uint8_t>(DataType::kBOOL, shape({3}), {0, 1, 1});
  for (DataType to :
       {DataType::kFLOAT, DataType::kINT64, DataType::kBOOL, DataType::kINT8, DataType::kUINT8}) {
    check("Identity", {}, {i32}, "cuda.identity", {.outputType = to});
  }
  for (DataType to : {DataType::kFLOAT, DataType::kINT32, DataType::kUINT8}) {
    check("Identity", {}, {i64}, "cuda.identity", {.outputType = to});
  }
  for (DataType to : {DataType::kFLOAT, DataType::kINT32}) {
    check("Identity", {}, {b}, "cuda.identity", {.outputType = to});
  }
  // Among float32, float16 and bfloat16 (the precision pass's boundaries) and between those and
  // the integers: overflow to infinity, subnormals, ties, NaN; 1027 elements make whole quads
  // and a tail.
  std::vector<float> wide = values;
  for (float v : {65504.f, 65520.f, -65536.f, 1e-6f, -3e-8f, 6e-8f, 1.00048828125f, 0.1f, 1e30f,
                  2049.f, 4097.f}) {
    wide.push_back(v);
  }
  const std::vector<float> random =
      randomFloats(1027 - static_cast<int64_t>(wide.size()), 7, -300.f, 300.f);
  wide.insert(wide.end(), random.begin(), random.end());
  const std::vector<std::byte> wideBytes = fromFloats(wide);
  const Dims wideDims = shape({1027});
  const TypedInput wideFloat = typed(DataType::kFLOAT, wideDims, wide);
  for (DataType from : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    TypedInput x = wideFloat;
    if (from != DataType::kFLOAT) {
      x.type = from;
      x.bytes = toReduced(wideBytes, from);
    }
    for (DataType to : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32,
                        DataType::kINT64, DataType::kBOOL, DataType::kINT8, DataType::kUINT8}) {
      if (to == from) continue;
      SCOPED_TRACE(toString(from) + " -> " + toString(to));
      check("Identity", {}, {x}, "cuda.identity", {.outputType = to});
    }
  }
  TypedInput shortHalf = f;  // 14 elements: three quads and a tail of two
  shortHalf.type = DataType::kHALF;
  shortHalf.bytes = toReduced(f.bytes, DataType::kHALF);
  check("Identity", {}, {shortHalf}, "cuda.identity", {.outputType = DataType::kFLOAT});
  check("Identity", {}, {f}, "cuda.identity", {.outputType = DataType::kBF16});
  for (DataType to : {DataType::kHALF, DataType::kBF16}) {
    check("Identity", {}, {i32}, "cuda.identity", {.outputType = to});
    check("Identity", {}, {i64}, "cuda.identity", {.outputType = to});
    check("Identity", {}, {b}, "cuda.identity", {.outputType = to});
  }
}

}  // namespace
}  // namespace kiln::test
